"""What the brain did to a set of trades: the summary the reports print.

The input is the trades as freqtrade recorded them (records.py), each replayed through the
pure core (replay.py). The summary counts over them, by these definitions, which are its rules.

Definitions (closed positions only; open ones are counted apart):

- **TP hits per level**: positions whose filled exit orders cover that level. **Conditional
  rate**: TP1 hits / positions, then TPn hits / TP(n−1) hits.
- **Ratchet events**: each move of the brain's stop after a take-profit fill
  (docs/behaviour.md §4.4), with the fill's time, the old and new stop price and its reason
  (``breakeven``, ``tp1``, …).
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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from exit_brain_plugin.core import BrainConfig
from exit_brain_plugin.core.exit_reasons import is_stop_reason
from exit_brain_plugin.core.ratchet import ratchet_stop_names
from exit_brain_plugin.reports.records import TradeRecord
from exit_brain_plugin.reports.replay import (
    RatchetEvent,
    locked_profit,
    replay_trade,
    stop_kind,
    stored_ratchets,
)


# Loss-guard fires per day: green up to 5, yellow up to 10, red above (issue 5).
DAY_GREEN_MAX = 5
DAY_YELLOW_MAX = 10


def day_colour(fires: int) -> str:
    """Return green (0-5), yellow (6-10) or red (> 10) for a day's loss-guard fires."""
    if fires <= DAY_GREEN_MAX:
        return "green"
    return "yellow" if fires <= DAY_YELLOW_MAX else "red"


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
        moves = stored_ratchets(trade, replay)
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
