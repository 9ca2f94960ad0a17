"""What the brain did to a set of trades, computed from freqtrade's own records.

The input is freqtrade's trade records (a backtest export, or rows of a trade database):
every partial exit is an order carrying its tag (``exit_brain_tp1``, ``exit_brain_tp1+tp2``,
``exit_brain_loss_guard``), and the trade's ``exit_reason`` is its final exit. The stop that
closed a trade is named from the take-profits filled before it and the ratchet rule (SPEC
§4.4); where the brain's stored state is available (trade databases) its ``sl_reason`` is
used instead.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exit_brain_plugin.core import LOSS_GUARD_TAG, BrainConfig, RatchetRule, legs_from_tag


STOP_REASONS = frozenset({"stop_loss", "trailing_stop_loss", "stoploss_on_exchange"})
# Loss-guard fires per day: green up to 5, yellow up to 10, red above (issue 5).
DAY_GREEN_MAX = 5
DAY_YELLOW_MAX = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """One filled order of a trade."""

    tag: str
    is_entry: bool
    amount: float
    price: float
    timestamp_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeRecord:
    """One closed (or still open) trade, as freqtrade recorded it."""

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
    sl_reason: str | None = None  # from the brain's stored state, when available

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


def trade_from_export(raw: Mapping[str, Any]) -> TradeRecord:
    """Return a :class:`TradeRecord` from one trade of a freqtrade backtest export."""
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
    )


def stop_kind(trade: TradeRecord, config: BrainConfig) -> str:
    """Name the stop that closed ``trade``: initial, breakeven, tp1, ... (SPEC §4.4)."""
    if trade.sl_reason:
        return trade.sl_reason
    hits = len(trade.tp_legs)
    if hits == 0 or not config.ratchet_sl_enabled:
        return "initial"
    if hits == 1:
        return "breakeven"
    return "tp1" if config.ratchet_rule is RatchetRule.SEED else f"tp{hits - 1}"


def ratchet_targets(hits: int, config: BrainConfig) -> list[str]:
    """Return the stop moves ``hits`` take-profit fills cause (SPEC §4.4)."""
    if not config.ratchet_sl_enabled:
        return []
    moves = ["breakeven"] if hits >= 1 else []
    if config.ratchet_rule is RatchetRule.SEED:
        moves += ["tp1"] if hits >= 2 else []
    else:
        moves += [f"tp{n - 1}" for n in range(2, hits + 1)]
    return moves


def day_colour(fires: int) -> str:
    """Return green (0-5), yellow (6-10) or red (> 10) for a day's loss-guard fires."""
    if fires <= DAY_GREEN_MAX:
        return "green"
    return "yellow" if fires <= DAY_YELLOW_MAX else "red"


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """The exit-brain summary of one set of trades."""

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
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the summary as JSON types."""
        return {
            "trades": self.trades,
            "tp_hits": {f"tp{i + 1}": hits for i, hits in enumerate(self.tp_hits)},
            "tp_conditional_rates": {
                f"tp{i + 1}|tp{i}" if i else "tp1": rate
                for i, rate in enumerate(self.tp_conditional_rates)
            },
            "ratchets": dict(self.ratchets),
            "loss_guard_fires": self.loss_guard_fires,
            "loss_guard_by_day": {
                day: {"fires": fires, "colour": day_colour(fires)}
                for day, fires in sorted(self.loss_guard_by_day.items())
            },
            "stop_exits": dict(self.stop_exits),
            "exit_reasons": dict(self.exit_reasons),
            "avg_profit_pct": self.avg_profit_pct,
            "total_profit_abs": self.total_profit_abs,
            "win_rate": self.win_rate,
            **self.extra,
        }


def summarize(trades: Sequence[TradeRecord], config: BrainConfig) -> Summary:
    """Count what the brain did over ``trades``.

    :param config: the settings the trades ran with (ratchet rule, number of levels)
    """
    levels = max([len(config.tp_profile)] + [max(t.tp_legs, default=0) for t in trades])
    hits = [sum(1 for t in trades if level in t.tp_legs) for level in range(1, levels + 1)]
    rates: list[float | None] = []
    for index, count in enumerate(hits):
        base = len(trades) if index == 0 else hits[index - 1]
        rates.append(round(count / base, 4) if base else None)
    ratchets: Counter[str] = Counter()
    stops: Counter[str] = Counter()
    guard_days: dict[str, int] = defaultdict(int)
    for trade in trades:
        ratchets.update(ratchet_targets(len(trade.tp_legs), config))
        if trade.loss_guard_fired:
            guard_days[(trade.close_date or trade.open_date)[:10]] += 1
            stops["loss_guard"] += 1
        elif trade.exit_reason in STOP_REASONS:
            stops[stop_kind(trade, config)] += 1
    profits = [100.0 * t.profit_ratio for t in trades]
    return Summary(
        trades=len(trades),
        levels=levels,
        tp_hits=tuple(hits),
        tp_conditional_rates=tuple(rates),
        ratchets=dict(ratchets),
        loss_guard_fires=sum(guard_days.values()),
        loss_guard_by_day=dict(guard_days),
        stop_exits=dict(stops),
        exit_reasons=dict(Counter(t.exit_reason for t in trades)),
        avg_profit_pct=round(statistics.fmean(profits), 4) if profits else 0.0,
        total_profit_abs=sum(t.profit_abs for t in trades),
        win_rate=round(sum(1 for t in trades if t.profit_abs > 0) / len(trades), 4)
        if trades
        else 0.0,
    )


def trades_of(records: Iterable[Mapping[str, Any]]) -> list[TradeRecord]:
    """Return trade records from an iterable of export trade dicts."""
    return [trade_from_export(raw) for raw in records]
