"""The shadow report: what observe mode would have made, against what actually happened.

Input: the trades of a live / dry-run database (docs/behaviour.md §9.5), each with the mode it
ran in and, for ``observe`` positions, the brain's observe state and its ledger of virtual fills
(core/ledger.py: each decision booked at its decision price).

Per closed observe position (stake currency, fees included):

- **actual PnL**: freqtrade's ``close_profit_abs`` (the host strategy's exits, entry and exit
  fees, funding for futures);
- **would-be PnL**: the same trade with the brain's exits: its virtual fills at their decision
  prices, the host's own partial exits (capped at what the brain would still have held), then
  the actual final exit for what the brain would still have held. Entries, their fees and
  funding are the same in both, so ``would = actual + (would-be exit value − actual exit
  value)``, where an exit of ``a`` at ``p`` is worth ``a·p·(1 − fee_close)`` for a long and
  costs ``a·p·(1 + fee_close)`` for a short (freqtrade's own fee model, ``trade.fee_close``);
- **difference** = would − actual: > 0 the brain would have helped (loss avoided or profit
  added), < 0 it would have cost (profit given up);
- **PnL %** of both: 100 × PnL / the trade's stake (``max_stake_amount``: margin for futures);
- would-be TP hits (levels of the virtual TP fills), ratchets (the observe state's stop moves),
  loss-guard fires and stop exits (virtual stop fills by the stop kind that was active).

Totals per mode: ``act`` and ``off`` positions are counted with their actual PnL only (the brain
acted, or was not there); ``observe`` positions get the comparison. A position whose state shows
booked fills but that has no ledger (observed before the ledger existed) is listed as
**unpriced** and left out of the money totals. Open positions are counted apart.
"""

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from exit_brain_plugin.core import PositionState
from exit_brain_plugin.core.ledger import VirtualFill, fill_to_json
from exit_brain_plugin.reports.records import OrderRecord, TradeRecord


MODES = ("act", "observe", "off")
# Differences smaller than this (stake currency) count as "same".
SAME_TOLERANCE = 1e-12
_UNRATCHETED = frozenset({"initial", "strategy", "loss_guard", ""})


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTrade:
    """One trade of a database with what the brain stored for it.

    :param mode: ``act`` / ``observe`` / ``off``: the creation mode the state records, else the
        key it is stored under (``exit_brain``: act, ``exit_brain_observe``: observe), else off
    :param stake: the trade's stake (``max_stake_amount``), the basis of PnL %
    :param observe_state: the observe-mode state (the shadow's remaining size, hits, ratchets)
    :param ledger: the shadow's virtual fills (None when the position has no ledger)
    :param problems: stored data that could not be read
    """

    record: TradeRecord
    trade_id: int
    mode: str
    stake: float
    observe_state: PositionState | None = None
    ledger: tuple[VirtualFill, ...] | None = None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionShadow:
    """One position of the shadow report (see the module docstring)."""

    trade_id: int
    pair: str
    side: str
    mode: str
    open_date: str
    close_date: str | None
    is_open: bool
    exit_reason: str
    stake: float
    actual_pnl: float
    would_pnl: float | None = None
    would_fills: tuple[VirtualFill, ...] = ()
    would_tp_legs: tuple[int, ...] = ()
    would_ratchets: tuple[str, ...] = ()
    would_loss_guard: bool = False
    would_stop: str | None = None
    would_locked: float | None = None
    held_at_final_exit: float | None = None
    final_exit_price: float | None = None
    note: str = ""

    @property
    def difference(self) -> float | None:
        """Return would − actual (None when not compared)."""
        return None if self.would_pnl is None else self.would_pnl - self.actual_pnl

    @property
    def actual_pct(self) -> float:
        """Return the actual PnL in % of the stake."""
        return 100.0 * self.actual_pnl / self.stake if self.stake else 0.0

    @property
    def would_pct(self) -> float | None:
        """Return the would-be PnL in % of the stake."""
        if self.would_pnl is None or not self.stake:
            return None
        return 100.0 * self.would_pnl / self.stake

    def to_json(self) -> dict[str, Any]:
        """Return the position as JSON types."""
        return {
            "trade_id": self.trade_id,
            "pair": self.pair,
            "side": self.side,
            "mode": self.mode,
            "open_date": self.open_date,
            "close_date": self.close_date,
            "is_open": self.is_open,
            "exit_reason": self.exit_reason,
            "stake": self.stake,
            "actual_pnl": self.actual_pnl,
            "actual_pct": self.actual_pct,
            "would_pnl": self.would_pnl,
            "would_pct": self.would_pct,
            "difference": self.difference,
            "would_fills": [fill_to_json(fill) for fill in self.would_fills],
            "would_tp_legs": list(self.would_tp_legs),
            "would_ratchets": list(self.would_ratchets),
            "would_loss_guard": self.would_loss_guard,
            "would_stop": self.would_stop,
            "would_profit_locked": self.would_locked,
            "held_at_final_exit": self.held_at_final_exit,
            "final_exit_price": self.final_exit_price,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeTotals:
    """The positions of one mode, summed (comparison figures for ``observe`` only)."""

    mode: str
    positions: int
    open_positions: int
    actual_pnl: float
    actual_avg_pct: float
    compared: int = 0
    unpriced: int = 0
    actual_pnl_compared: float = 0.0
    would_pnl: float = 0.0
    would_avg_pct: float = 0.0
    actual_avg_pct_compared: float = 0.0
    difference: float = 0.0
    helped: int = 0
    helped_by: float = 0.0
    cost: int = 0
    cost_by: float = 0.0
    unchanged: int = 0
    tp_hits: dict[str, int] = field(default_factory=dict)
    ratchets: dict[str, int] = field(default_factory=dict)
    loss_guard_fires: int = 0
    loss_guard_saves: int = 0
    loss_guard_difference: float = 0.0
    stop_exits: dict[str, int] = field(default_factory=dict)
    profit_locked: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return the totals as JSON types."""
        data: dict[str, Any] = {
            "positions": self.positions,
            "open_positions": self.open_positions,
            "actual_pnl": self.actual_pnl,
            "actual_avg_pct": self.actual_avg_pct,
        }
        if self.mode != "observe":
            return data
        return {
            **data,
            "compared": self.compared,
            "unpriced": self.unpriced,
            "actual_pnl_compared": self.actual_pnl_compared,
            "actual_avg_pct_compared": self.actual_avg_pct_compared,
            "would_pnl": self.would_pnl,
            "would_avg_pct": self.would_avg_pct,
            "difference": self.difference,
            "would_have_helped": {"positions": self.helped, "by": self.helped_by},
            "would_have_cost": {"positions": self.cost, "by": self.cost_by},
            "unchanged": self.unchanged,
            "would_tp_hits": dict(self.tp_hits),
            "would_ratchets": dict(self.ratchets),
            "would_loss_guard_fires": self.loss_guard_fires,
            "would_loss_guard_saves": self.loss_guard_saves,
            "loss_guard_difference": self.loss_guard_difference,
            "would_stop_exits": dict(self.stop_exits),
            "would_profit_locked": self.profit_locked,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ShadowReport:
    """The shadow report of one database."""

    source: str
    positions: tuple[PositionShadow, ...]
    modes: dict[str, ModeTotals]

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON types."""
        return {
            "source": self.source,
            "modes": {mode: totals.to_json() for mode, totals in self.modes.items()},
            "positions": [position.to_json() for position in self.positions],
        }


# --------------------------------------------------------------------------- one position


def _ms(moment: str) -> int:
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return 0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _exit_value(trade: TradeRecord, amount: float, price: float) -> float:
    # What an exit brings in (long) or costs (short, negative), fees included.
    direction = -1.0 if trade.is_short else 1.0
    return direction * amount * price - amount * price * trade.fee_close


def _booked(state: PositionState | None) -> bool:
    if state is None:
        return False
    tolerance = 1e-9 * max(state.initial_size, 1.0)
    return state.loss_guard_triggered or state.remaining_size < state.initial_size - tolerance


def _would_value(
    trade: TradeRecord, fills: Sequence[VirtualFill], final: OrderRecord
) -> tuple[float, float]:
    """Return (the would-be exit value, the amount still held at the final exit)."""
    events: list[tuple[int, int, Any]] = []
    for order in trade.orders:
        if order.is_entry:
            events.append((order.timestamp_ms, 0, order))
        elif order is not final:
            events.append((order.timestamp_ms, 2, order))  # the host's own partial exit
    events.extend((_ms(fill.at), 1, fill) for fill in fills)
    held = value = 0.0
    for _, rank, event in sorted(events, key=lambda item: (item[0], item[1])):
        if rank == 0:
            held += event.amount
            continue
        taken = min(event.amount, held)
        value += _exit_value(trade, taken, event.price)
        held -= taken
    held = max(held, 0.0)
    return value + _exit_value(trade, held, final.price), held


def _locked(trade: TradeRecord, fills: Sequence[VirtualFill]) -> float | None:
    if not trade.initial_stop_price:
        return None
    direction = -1.0 if trade.is_short else 1.0
    stops = [fill for fill in fills if fill.kind == "stop" and fill.reason not in _UNRATCHETED]
    if not stops:
        return None
    return sum(direction * (fill.price - trade.initial_stop_price) * fill.amount for fill in stops)


def shadow_position(stored: StoredTrade) -> PositionShadow:
    """Return one position of the shadow report (see the module docstring)."""
    trade = stored.record
    base = PositionShadow(
        trade_id=stored.trade_id,
        pair=trade.pair,
        side=str(trade.side),
        mode=stored.mode,
        open_date=trade.open_date,
        close_date=trade.close_date,
        is_open=trade.is_open,
        exit_reason=trade.exit_reason,
        stake=stored.stake,
        actual_pnl=trade.profit_abs,
        note="; ".join(stored.problems),
    )
    if stored.mode != "observe":
        return base
    fills = stored.ledger or ()
    state = stored.observe_state
    legs: list[int] = []
    for fill in fills:
        legs.extend(leg for leg in fill.legs if leg not in legs)
    stops = [fill.reason for fill in fills if fill.kind == "stop"]
    shadow = replace(
        base,
        would_fills=tuple(fills),
        would_tp_legs=tuple(legs),
        would_ratchets=tuple(record.reason for record in state.ratchets) if state else (),
        would_loss_guard=any(fill.kind == "loss_guard" for fill in fills),
        would_stop=stops[-1] if stops else None,
        would_locked=_locked(trade, fills),
    )
    final = trade.final_exit
    if trade.is_open or final is None:
        return shadow
    if stored.ledger is None and _booked(state):
        note = "unpriced: the observe state booked fills but the position has no shadow ledger"
        return replace(shadow, note="; ".join(filter(None, (shadow.note, note))))
    value, held = _would_value(trade, fills, final)
    actual = sum(_exit_value(trade, o.amount, o.price) for o in trade.orders if not o.is_entry)
    return replace(
        shadow,
        would_pnl=trade.profit_abs + value - actual,
        held_at_final_exit=held,
        final_exit_price=final.price,
    )


# --------------------------------------------------------------------------- totals


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else 0.0


def _observe_totals(base: ModeTotals, closed: Sequence[PositionShadow]) -> ModeTotals:
    compared = [p for p in closed if p.would_pnl is not None]
    differences = [p.difference or 0.0 for p in compared]
    guarded = [p for p in compared if p.would_loss_guard]
    hits: Counter[str] = Counter()
    for position in closed:
        hits.update(f"tp{leg}" for leg in position.would_tp_legs)
    return replace(
        base,
        compared=len(compared),
        unpriced=len(closed) - len(compared),
        actual_pnl_compared=math.fsum(p.actual_pnl for p in compared),
        actual_avg_pct_compared=_mean([p.actual_pct for p in compared]),
        would_pnl=math.fsum(p.would_pnl or 0.0 for p in compared),
        would_avg_pct=_mean([p.would_pct or 0.0 for p in compared]),
        difference=math.fsum(differences),
        helped=sum(1 for d in differences if d > SAME_TOLERANCE),
        helped_by=math.fsum(d for d in differences if d > SAME_TOLERANCE),
        cost=sum(1 for d in differences if d < -SAME_TOLERANCE),
        cost_by=-math.fsum(d for d in differences if d < -SAME_TOLERANCE),
        unchanged=sum(1 for d in differences if abs(d) <= SAME_TOLERANCE),
        tp_hits=dict(sorted(hits.items())),
        ratchets=dict(Counter(r for p in closed for r in p.would_ratchets)),
        loss_guard_fires=sum(1 for p in closed if p.would_loss_guard),
        loss_guard_saves=sum(1 for p in guarded if (p.difference or 0.0) > SAME_TOLERANCE),
        loss_guard_difference=math.fsum(p.difference or 0.0 for p in guarded),
        stop_exits=dict(Counter(p.would_stop for p in closed if p.would_stop)),
        profit_locked=math.fsum(p.would_locked or 0.0 for p in closed),
    )


def mode_totals(mode: str, positions: Sequence[PositionShadow]) -> ModeTotals:
    """Sum the positions of one mode (the comparison only for ``observe``)."""
    closed = [p for p in positions if not p.is_open]
    base = ModeTotals(
        mode=mode,
        positions=len(closed),
        open_positions=len(positions) - len(closed),
        actual_pnl=math.fsum(p.actual_pnl for p in closed),
        actual_avg_pct=_mean([p.actual_pct for p in closed]),
    )
    return _observe_totals(base, closed) if mode == "observe" else base


def shadow_report(source: str, trades: Sequence[StoredTrade]) -> ShadowReport:
    """Return the shadow report of a database's trades (see the module docstring)."""
    positions = tuple(shadow_position(stored) for stored in trades)
    modes = {
        mode: mode_totals(mode, [p for p in positions if p.mode == mode])
        for mode in MODES
        if any(p.mode == mode for p in positions)
    }
    return ShadowReport(source=source, positions=positions, modes=modes)
