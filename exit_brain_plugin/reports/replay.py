"""A trade replayed through the pure core: the ladder as priced, the stop as it moved.

Each trade is **replayed** through the core (``create_state`` at the first entry fill, then
``apply_fill`` for every later fill, in order), with the settings the trades ran with and the
market's price step: the ladder is priced exactly as the brain priced it, and the stop moves
are the ones the brain made.

Rules:
1. Exit fills are classified by the adapter's classifier (core/exit_reasons.py): a report never
   disagrees with the bot.
2. A trade database also stores the brain's own state; where it is there, its recorded stop kind
   and ratchet moves are used instead of the replay's (the replay gives their times).
3. The stop that closed a trade is named as the ratchet names it (core/ratchet.py R4):
   ``initial``, ``breakeven``, ``tp1``, … ; recorded kind first, then the exit tag, then the
   replay, then a count of the take-profits filled.
4. The profit a ratchet locked is ``(new stop − entry price) × amount still open`` at its last
   move (sign flipped for shorts), fees not included.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exit_brain_plugin.core import (
    BrainConfig,
    Fill,
    FillKind,
    PositionOpen,
    PositionState,
    TpLevel,
    apply_fill,
    create_state,
)
from exit_brain_plugin.core.exit_reasons import classify_exit, stop_kind_from_tag
from exit_brain_plugin.core.ratchet import ratchet_stop_name
from exit_brain_plugin.reports.records import OrderRecord, TradeRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class RatchetEvent:
    """One move of the brain's stop after a take-profit fill."""

    pair: str
    open_date: str
    timestamp_ms: int
    tp_hits: int
    old_price: float | None
    new_price: float
    reason: str
    entry_price: float = 0.0
    remaining: float = 0.0
    is_short: bool = False

    @property
    def locked_pnl(self) -> float:
        """Return the PnL this stop guarantees on the amount still open (fees not included)."""
        if self.remaining <= 0 or self.entry_price <= 0:
            return 0.0
        direction = -1.0 if self.is_short else 1.0
        return direction * (self.new_price - self.entry_price) * self.remaining

    def to_json(self) -> dict[str, Any]:
        """Return the event as JSON types."""
        return {
            "remaining": self.remaining,
            "locked_pnl": self.locked_pnl,
            "pair": self.pair,
            "open_date": self.open_date,
            "timestamp_ms": self.timestamp_ms,
            "tp_hits": self.tp_hits,
            "old_price": self.old_price,
            "new_price": self.new_price,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Replay:
    """A trade replayed through the core.

    :param levels: the ladder as the brain priced it at the first entry fill
    :param ratchets: the stop moves, with the time of the fill that caused each
    :param stop_kind: the brain's stop kind active when the final exit filled
    :param stops: (time, stop price) steps of the brain's stop: the initial stop at the first
        entry fill, then each ratchet move
    """

    levels: tuple[TpLevel, ...]
    ratchets: tuple[RatchetEvent, ...]
    stop_kind: str
    stops: tuple[tuple[int, float], ...]


def _fill(order: OrderRecord, state: PositionState, trade: TradeRecord, entry: float) -> Fill:
    # The adapter's classifier (core/exit_reasons.py): a report never disagrees with it.
    kind, legs = (FillKind.ENTRY, ()) if order.is_entry else classify_exit(order.tag)
    reason = "" if order.is_entry else order.tag
    if kind is FillKind.STOP:
        reason = stop_kind_from_tag(order.tag) or state.sl_reason
    return Fill(
        kind=kind,
        filled_amount=order.amount,
        price=order.price,
        order_id=str(order.timestamp_ms),
        complete=order.complete,
        legs=legs or (),
        reason=reason,
        entry_price_after=entry if order.is_entry else None,
        amount_step=trade.amount_step,
    )


def replay_trade(trade: TradeRecord, config: BrainConfig) -> Replay | None:
    """Replay ``trade``'s filled orders through the core (None when it has no entry fill)."""
    orders = [order for order in trade.orders if order.amount > 0 and order.price > 0]
    entries = [order for order in orders if order.is_entry]
    if not entries:
        return None
    first = entries[0]
    initial_stop = trade.initial_stop_price if trade.initial_stop_price else None
    opening = PositionOpen(
        pair=trade.pair,
        side=trade.side,
        entry_price=first.price,
        amount=first.amount,
        initial_stop_price=initial_stop,
        price_step=trade.price_step,
    )
    state = create_state(opening, config).state
    levels = state.tp_levels
    stops: list[tuple[int, float]] = (
        [] if initial_stop is None else [(first.timestamp_ms, initial_stop)]
    )
    events: list[RatchetEvent] = []
    stop_kind = state.sl_reason
    held, cost = first.amount, first.amount * first.price
    for order in orders:
        if order is first:
            continue
        if order.is_entry:
            held, cost = held + order.amount, cost + order.amount * order.price
        if order is trade.final_exit:
            stop_kind = state.sl_reason
        before = len(state.ratchets)
        state = apply_fill(state, _fill(order, state, trade, cost / held), config).state
        for record in state.ratchets[before:]:
            events.append(
                RatchetEvent(
                    pair=trade.pair,
                    open_date=trade.open_date,
                    timestamp_ms=order.timestamp_ms,
                    tp_hits=record.tp_hits,
                    old_price=record.old_price,
                    new_price=record.new_price,
                    reason=record.reason,
                    entry_price=state.entry_price,
                    remaining=state.remaining_size,
                    is_short=trade.is_short,
                )
            )
            stops.append((order.timestamp_ms, record.new_price))
    return Replay(levels=levels, ratchets=tuple(events), stop_kind=stop_kind, stops=tuple(stops))


def stored_ratchets(trade: TradeRecord, replay: Replay | None) -> tuple[RatchetEvent, ...]:
    # A database's stored state holds the moves the brain made; the replay gives their times.
    state = trade.stored_state
    if state is None:
        return replay.ratchets if replay else ()
    replayed = {event.tp_hits: event for event in (replay.ratchets if replay else ())}
    return tuple(
        RatchetEvent(
            pair=trade.pair,
            open_date=trade.open_date,
            timestamp_ms=replayed[record.tp_hits].timestamp_ms if record.tp_hits in replayed else 0,
            tp_hits=record.tp_hits,
            old_price=record.old_price,
            new_price=record.new_price,
            reason=record.reason,
            entry_price=state.entry_price,
            remaining=replayed[record.tp_hits].remaining if record.tp_hits in replayed else 0.0,
            is_short=trade.is_short,
        )
        for record in state.ratchets
    )


def stop_kind(trade: TradeRecord, config: BrainConfig, replay: Replay | None = None) -> str:
    """Name the stop that closed ``trade``: initial, breakeven, tp1, ... (docs/behaviour.md §4.4).

    The brain's recorded kind when stored (trade databases), else the replay's active stop,
    else a count of the take-profits filled before the exit.
    """
    if trade.sl_reason:
        return trade.sl_reason
    named = stop_kind_from_tag(trade.exit_reason)
    if named:
        return named
    if replay is not None:
        return replay.stop_kind
    named = ratchet_stop_name(len(trade.tp_legs), config) if config.ratchet_sl_enabled else None
    return named or "initial"


def locked_profit(events: Sequence[RatchetEvent]) -> tuple[str, float] | None:
    """Return (stop kind, PnL guaranteed) of a position's last ratchet (see module doc).

    :return: None when the position's stop never moved
    """
    if not events:
        return None
    last = events[-1]
    return last.reason, last.locked_pnl
