"""What the brain did to a set of trades, computed from freqtrade's own records.

The input is freqtrade's trade records (a backtest export, or the rows of a trade database):
every partial exit is an order carrying its tag (``exit_brain_tp1``, ``exit_brain_tp1+tp2``,
``exit_brain_loss_guard``), and the trade's ``exit_reason`` is its final exit.

Each trade is **replayed** through the pure core (``create_state`` at the first entry fill,
then ``apply_fill`` for every later fill, in order), with the settings the trades ran with and
the market's price step: the ladder is priced exactly as the brain priced it, and the stop
moves are the ones the brain made. A trade database also stores the brain's own state; where
it is there, its recorded stop kind and ratchet moves are used instead of the replay's.

Definitions (closed positions only; open ones are counted apart):

- **TP hits per level**: positions whose filled exit orders cover that level. **Conditional
  rate**: TP1 hits / positions, then TPn hits / TP(n−1) hits.
- **Ratchet events**: each move of the brain's stop after a take-profit fill (docs/behaviour.md
§4.4),
  with the fill's time, the old and new stop price and its reason (``breakeven``, ``tp1``, …).
- **Stop exits by kind**: positions whose final exit was a stop (``stop_loss``,
  ``trailing_stop_loss``, ``stoploss_on_exchange``, the brain's ``exit_brain_stop`` backstop),
  named by the stop that was active: ``initial``, ``breakeven``, ``tp1``, … Loss-guard closes
  are counted as ``loss_guard``, not as stops.
- **Profit locked by ratchets**: the PnL each position's ratchet guaranteed when it last
  moved: ``(new stop − entry price) × amount still open at that moment`` (sign flipped for
  shorts), in stake currency, fees not included — what the position keeps at the least on
  its remaining amount if that stop is hit (0 for a breakeven stop without offset). Grouped by
  the stop the ratchet moved to; a position whose stop never moved locks nothing. (It is not
  measured against the initial stop, which would count a −20 % stop as profit.)
  ``exit-brain compare`` says what the ratchet changed in money: brain on − ratchet off.
- **Loss-guard fires per day** (UTC day of the close): green 0–5, yellow 6–10, red above 10;
  every other day of the period (first entry to last exit) had 0.
- **Average PnL per position**: mean of freqtrade's ``profit_ratio`` (realized partial exits,
  fees and leverage included) × 100. **Win rate**: share of positions with ``profit_abs > 0``.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from exit_brain_plugin.core import (
    LOSS_GUARD_TAG,
    BrainConfig,
    Fill,
    FillKind,
    PositionOpen,
    PositionState,
    Side,
    TpLevel,
    apply_fill,
    create_state,
    legs_from_tag,
)
from exit_brain_plugin.core.exit_reasons import classify_exit, is_stop_reason, stop_kind_from_tag
from exit_brain_plugin.core.ratchet import ratchet_stop_name, ratchet_stop_names


# Stop kinds that are not the ratchet's: no profit is locked by them.
UNRATCHETED_KINDS = frozenset({"initial", "strategy", "loss_guard"})
# Loss-guard fires per day: green up to 5, yellow up to 10, red above (issue 5).
DAY_GREEN_MAX = 5
DAY_YELLOW_MAX = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """One filled order of a trade.

    :param complete: False for an order cancelled after a partial fill (trade databases)
    """

    tag: str
    is_entry: bool
    amount: float
    price: float
    timestamp_ms: int
    complete: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeRecord:
    """One trade, as freqtrade recorded it.

    :param sl_reason: the stop kind the brain recorded at the close (trade databases)
    :param initial_stop_price: the trade's initial stop (absolute price), when known
    :param price_step: the market's price step (TP prices are rounded to it), when known
    :param amount_step: the market's amount step, when known
    :param stored_state: the brain's state stored with the trade (trade databases)
    """

    pair: str
    is_short: bool
    leverage: float
    open_rate: float
    open_date: str
    close_date: str | None
    profit_ratio: float
    profit_abs: float
    exit_reason: str
    orders: tuple[OrderRecord, ...]
    sl_reason: str | None = None
    initial_stop_price: float | None = None
    is_open: bool = False
    close_rate: float | None = None
    fee_open: float = 0.0
    fee_close: float = 0.0
    price_step: float | None = None
    amount_step: float | None = None
    stored_state: PositionState | None = None

    @property
    def side(self) -> Side:
        """Return the position's side."""
        return Side.SHORT if self.is_short else Side.LONG

    @property
    def tp_legs(self) -> tuple[int, ...]:
        """Return the take-profit legs filled, in order."""
        legs: list[int] = []
        for order in self.orders:
            found = legs_from_tag(order.tag) if not order.is_entry else None
            if found:
                legs.extend(leg for leg in found if leg not in legs)
        return tuple(legs)

    @property
    def loss_guard_fired(self) -> bool:
        """Return True when the loss guard closed the trade."""
        return self.exit_reason == LOSS_GUARD_TAG or any(
            order.tag == LOSS_GUARD_TAG and not order.is_entry for order in self.orders
        )

    @property
    def final_exit(self) -> OrderRecord | None:
        """Return the last exit order (the one that closed the trade, when closed)."""
        exits = [order for order in self.orders if not order.is_entry]
        return exits[-1] if exits else None


def trade_from_export(
    raw: Mapping[str, Any], steps: tuple[float | None, float | None] = (None, None)
) -> TradeRecord:
    """Return a :class:`TradeRecord` from one trade of a freqtrade backtest export.

    :param steps: the market's (price step, amount step), when known
    """
    orders = tuple(
        OrderRecord(
            tag=str(order.get("ft_order_tag") or ""),
            is_entry=bool(order.get("ft_is_entry")),
            amount=float(order.get("amount") or 0.0),
            price=float(order.get("safe_price") or 0.0),
            timestamp_ms=int(order.get("order_filled_timestamp") or 0),
        )
        for order in raw.get("orders", [])
    )
    initial_stop = raw.get("initial_stop_loss_abs")
    return TradeRecord(
        pair=str(raw["pair"]),
        is_short=bool(raw.get("is_short", False)),
        leverage=float(raw.get("leverage") or 1.0),
        open_rate=float(raw["open_rate"]),
        open_date=str(raw.get("open_date", "")),
        close_date=raw.get("close_date"),
        profit_ratio=float(raw.get("profit_ratio") or 0.0),
        profit_abs=float(raw.get("profit_abs") or 0.0),
        exit_reason=str(raw.get("exit_reason") or ""),
        orders=tuple(sorted(orders, key=lambda order: order.timestamp_ms)),
        initial_stop_price=float(initial_stop) if initial_stop else None,
        is_open=bool(raw.get("is_open", False)),
        close_rate=float(raw["close_rate"]) if raw.get("close_rate") else None,
        fee_open=float(raw.get("fee_open") or 0.0),
        fee_close=float(raw.get("fee_close") or 0.0),
        price_step=steps[0],
        amount_step=steps[1],
    )


def trades_of(
    records: Iterable[Mapping[str, Any]],
    steps: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> list[TradeRecord]:
    """Return trade records from an iterable of export trade dicts.

    :param steps: (price step, amount step) per pair, e.g. from the markets snapshot
    """
    steps = steps or {}
    return [trade_from_export(raw, steps.get(str(raw["pair"]), (None, None))) for raw in records]


# --------------------------------------------------------------------------- replay


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


def _stored_ratchets(trade: TradeRecord, replay: Replay | None) -> tuple[RatchetEvent, ...]:
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


def day_colour(fires: int) -> str:
    """Return green (0-5), yellow (6-10) or red (> 10) for a day's loss-guard fires."""
    if fires <= DAY_GREEN_MAX:
        return "green"
    return "yellow" if fires <= DAY_YELLOW_MAX else "red"


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """The exit-brain summary of one set of trades (see the module docstring)."""

    trades: int
    levels: int
    tp_hits: tuple[int, ...]
    tp_conditional_rates: tuple[float | None, ...]
    ratchets: dict[str, int]
    loss_guard_fires: int
    loss_guard_by_day: dict[str, int]
    stop_exits: dict[str, int]
    exit_reasons: dict[str, int]
    avg_profit_pct: float
    total_profit_abs: float
    win_rate: float
    open_positions: int = 0
    period_days: int = 0
    profit_locked: dict[str, float] = field(default_factory=dict)
    ratchet_events: tuple[RatchetEvent, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def profit_locked_total(self) -> float:
        """Return the profit locked by all ratcheted stop exits."""
        return sum(self.profit_locked.values())

    @property
    def quiet_days(self) -> int:
        """Return the days of the period without a loss-guard fire."""
        return max(0, self.period_days - len(self.loss_guard_by_day))

    def to_json(self) -> dict[str, Any]:
        """Return the summary as JSON types."""
        return {
            "trades": self.trades,
            "open_positions": self.open_positions,
            "tp_hits": {f"tp{i + 1}": hits for i, hits in enumerate(self.tp_hits)},
            "tp_conditional_rates": {
                f"tp{i + 1}|tp{i}" if i else "tp1": rate
                for i, rate in enumerate(self.tp_conditional_rates)
            },
            "ratchets": dict(self.ratchets),
            "ratchet_events": [event.to_json() for event in self.ratchet_events],
            "loss_guard_fires": self.loss_guard_fires,
            "loss_guard_by_day": {
                day: {"fires": fires, "colour": day_colour(fires)}
                for day, fires in sorted(self.loss_guard_by_day.items())
            },
            "loss_guard_quiet_days": self.quiet_days,
            "stop_exits": dict(self.stop_exits),
            "profit_locked": dict(self.profit_locked),
            "profit_locked_total": self.profit_locked_total,
            "exit_reasons": dict(self.exit_reasons),
            "avg_profit_pct": self.avg_profit_pct,
            "total_profit_abs": self.total_profit_abs,
            "win_rate": self.win_rate,
            **self.extra,
        }


def _period_days(trades: Sequence[TradeRecord]) -> int:
    starts = [trade.open_date[:10] for trade in trades if trade.open_date]
    ends = [(trade.close_date or trade.open_date)[:10] for trade in trades if trade.open_date]
    try:
        first, last = date.fromisoformat(min(starts)), date.fromisoformat(max(ends))
    except ValueError:
        return 0
    return (last - first) // timedelta(days=1) + 1


def _kinds_shown(config: BrainConfig, levels: int) -> list[str]:
    # Every stop kind the settings can produce is listed, also when it never closed a trade
    # (from two take-profits on, so that a one-level ladder still shows the tp1 row).
    return ["initial", *ratchet_stop_names(config, max(levels, 2))]


def summarize(trades: Sequence[TradeRecord], config: BrainConfig) -> Summary:
    """Count what the brain did over the closed positions of ``trades``.

    :param config: the settings the trades ran with (ratchet rule, ladder)
    """
    closed = [trade for trade in trades if not trade.is_open]
    replays = {id(trade): replay_trade(trade, config) for trade in closed}
    levels = max([len(config.tp_profile)] + [max(t.tp_legs, default=0) for t in closed])
    hits = [sum(1 for t in closed if level in t.tp_legs) for level in range(1, levels + 1)]
    rates: list[float | None] = []
    for index, count in enumerate(hits):
        base = len(closed) if index == 0 else hits[index - 1]
        rates.append(round(count / base, 4) if base else None)
    events: list[RatchetEvent] = []
    stops: Counter[str] = Counter(dict.fromkeys(_kinds_shown(config, levels), 0))
    locked: dict[str, float] = defaultdict(float)
    guard_days: dict[str, int] = defaultdict(int)
    for trade in closed:
        replay = replays[id(trade)]
        moves = _stored_ratchets(trade, replay)
        events.extend(moves)
        last = locked_profit(moves)
        if last is not None:
            locked[last[0]] += last[1]
        if trade.loss_guard_fired:
            guard_days[(trade.close_date or trade.open_date)[:10]] += 1
        elif is_stop_reason(trade.exit_reason):
            kind = stop_kind(trade, config, replay)
            stops[kind] += 1
    profits = [100.0 * t.profit_ratio for t in closed]
    return Summary(
        trades=len(closed),
        open_positions=len(trades) - len(closed),
        levels=levels,
        tp_hits=tuple(hits),
        tp_conditional_rates=tuple(rates),
        ratchets=dict(Counter(event.reason for event in events)),
        ratchet_events=tuple(events),
        loss_guard_fires=sum(guard_days.values()),
        loss_guard_by_day=dict(guard_days),
        period_days=_period_days(closed),
        stop_exits=dict(stops),
        profit_locked=dict(locked),
        exit_reasons=dict(Counter(t.exit_reason for t in closed)),
        avg_profit_pct=round(statistics.fmean(profits), 4) if profits else 0.0,
        total_profit_abs=sum(t.profit_abs for t in closed),
        win_rate=round(sum(1 for t in closed if t.profit_abs > 0) / len(closed), 4)
        if closed
        else 0.0,
    )
