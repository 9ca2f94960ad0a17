"""Unit conversions between freqtrade objects and the core's plain values.

Rules:

1. No decision is taken here: sides, step sizes, stop ratios, stakes and fills are converted.
2. Each core input is built in one place: the opening (:func:`opening_from_trade`), the market
   snapshot (:func:`market_snapshot`, with the exchange minimums), a fill
   (:func:`fill_from_order`), the loss-guard price (:class:`GuardPrices`), the ATR at entry
   (:func:`atr_at_entry`) and a strategy's plan (:func:`plan_levels`).
3. Each core output is turned back in one place: a stop price into a ``custom_stoploss`` ratio
   (:func:`stop_ratio_from_price`), an amount into an ``adjust_trade_position`` stake
   (:func:`stake_for_amount`); the decision's tag is freqtrade's exit tag as it is.
4. Exit orders are classified by their tag with the one classifier,
   ``core.exit_reasons.classify_exit``; steps and exchange minimums are read with the one
   markets/precision lookup, ``core/markets.py``.
"""

import math
from collections.abc import Iterable, Sequence
from typing import Any

from freqtrade.strategy import stoploss_from_absolute

from exit_brain_plugin.core import (
    BrainConfig,
    Decision,
    ExitOrder,
    Fill,
    FillKind,
    MarketSnapshot,
    PositionOpen,
    Side,
    TpLevel,
    markets,
)
from exit_brain_plugin.core.exit_reasons import classify_exit
from exit_brain_plugin.core.pricing import is_favourable, round_favourable


def side_of(trade: Any) -> Side:
    """Return the core side of a freqtrade trade."""
    return Side.SHORT if trade.is_short else Side.LONG


def amount_step(trade: Any) -> float | None:
    """Return the exchange amount step of the trade's market, in base units (core/markets.py)."""
    return markets.amount_step(trade.amount_precision, trade.precision_mode, trade.contract_size)


def price_step(trade: Any) -> float | None:
    """Return the exchange price step of the trade's market (core/markets.py)."""
    return markets.price_step(
        trade.price_precision, trade.precision_mode, getattr(trade, "precision_mode_price", None)
    )


def stop_price_from_ratio(ratio: float | None, current_rate: float, trade: Any) -> float | None:
    """Return the stop price freqtrade derives from a ``custom_stoploss`` ratio.

    Mirrors ``Trade.adjust_stop_loss``: ``rate × (1 ∓ |ratio| / leverage)``.
    """
    if ratio is None or not math.isfinite(ratio) or ratio == 0:
        return None
    distance = abs(ratio) / (trade.leverage or 1.0)
    return current_rate * (1 + distance) if trade.is_short else current_rate * (1 - distance)


def stop_ratio_from_price(stop_price: float, current_rate: float, trade: Any) -> float | None:
    """Return the ``custom_stoploss`` ratio that makes freqtrade hold ``stop_price`` to the tick.

    freqtrade turns the ratio back into a price and rounds it to the tick toward the trade's
    favour (``Trade.adjust_stop_loss``: up for a long, down for a short). Aiming at the
    intended price itself lets the float round trip land a hair beyond the tick and round one
    tick off (a short's 0.0990 held as 0.0989), again on every call (a creeping stop). So the
    ratio aims half a tick on the loose side of the intended tick: freqtrade's rounding then
    gives exactly that tick, call after call.

    :return: the ratio, or None when the stop is at or beyond the current rate (freqtrade
        would ignore a 0; the brain's backstop in ``custom_exit`` closes instead)
    """
    side = side_of(trade)
    step = price_step(trade)
    target = round_favourable(side, stop_price, step)
    if not is_favourable(side, current_rate, target):
        return None
    half = 0.5 * step if step else 0.0
    aim = target + half if trade.is_short else target - half
    ratio = stoploss_from_absolute(
        aim, current_rate, is_short=trade.is_short, leverage=trade.leverage or 1.0
    )
    return ratio if ratio > 0 else None


def held_stop_price(stop_price: float, trade: Any) -> float:
    """Return the price freqtrade holds when asked for a stop at ``stop_price`` (to the tick)."""
    return round_favourable(side_of(trade), stop_price, price_step(trade))


def stake_for_amount(amount: float, trade: Any, step: float | None) -> float:
    """Return the negative stake ``adjust_trade_position`` needs to exit ``amount``.

    freqtrade turns it back into ``|stake| × trade.amount / trade.stake_amount`` and
    truncates to the step; half a step of headroom keeps float noise from losing one step.
    """
    headroom = 0.5 * step if step else amount * 1e-9
    wanted = min(amount + headroom, trade.amount)
    if wanted >= trade.amount:
        return -float(trade.stake_amount)  # exactly the whole position (remaining == 0)
    return -wanted * float(trade.stake_amount) / float(trade.amount)


def booked_amount(order: Any) -> float:
    """Return the base amount freqtrade books for a filled order: filled less a fee taken in
    the base currency (``recalc_trade_from_orders`` uses ``safe_amount_after_fee``)."""
    return float(order.safe_amount_after_fee or 0.0)


def filled_orders(trade: Any) -> list[Any]:
    """Return the trade's orders that filled (in part or whole) and are done, oldest first.

    An order still open is left out even when it filled in part: freqtrade books it in
    ``trade.amount`` only once it is closed or cancelled (``recalc_trade_from_orders``), and
    then calls ``order_filled`` for it; counting it earlier would count it twice.
    """
    orders = [
        order for order in trade.orders if (order.safe_filled or 0) > 0 and not order.ft_is_open
    ]
    return sorted(orders, key=lambda order: order.order_filled_utc or order.order_date_utc)


def is_entry(order: Any, trade: Any) -> bool:
    """Return True for an order that added to the position."""
    return bool(order.ft_order_side == trade.entry_side)


def order_is_complete(order: Any) -> bool:
    """Return True when an order filled everything it asked for."""
    remaining = order.safe_remaining
    return bool(remaining is None or remaining <= 0 or order.status == "closed")


def opening_from_trade(
    trade: Any,
    *,
    amount: float,
    entry_price: float,
    stop_price: float | None,
    atr: float | None,
    order_id: str | None = None,
) -> PositionOpen:
    """Return the facts of a trade's first entry fill."""
    stop = stop_price if stop_price and math.isfinite(stop_price) and stop_price > 0 else None
    return PositionOpen(
        pair=trade.pair,
        side=side_of(trade),
        entry_price=float(entry_price),
        amount=float(amount),
        initial_stop_price=stop,
        atr=atr,
        price_step=price_step(trade),
        order_id=order_id,
    )


def fill_from_order(order: Any, trade: Any, *, stop_reason: str = "") -> Fill:
    """Return the core fill for one filled freqtrade order."""
    filled = booked_amount(order)
    price = float(order.safe_price or order.ft_price or trade.open_rate)
    if is_entry(order, trade):
        return Fill(
            kind=FillKind.ENTRY,
            filled_amount=filled,
            price=price,
            order_id=str(order.order_id),
            entry_price_after=float(trade.open_rate),
            amount_step=amount_step(trade),
        )
    kind, legs = classify_exit(order.ft_order_tag, order.ft_order_side)
    reason = stop_reason if kind is FillKind.STOP else (order.ft_order_tag or "")
    return Fill(
        kind=kind,
        filled_amount=filled,
        price=price,
        order_id=str(order.order_id),
        complete=order_is_complete(order),
        legs=legs,
        reason=reason,
        amount_step=amount_step(trade),
        profit_ratio=_profit_at(trade, price) if kind is FillKind.LOSS_GUARD else None,
    )


def _profit_at(trade: Any, price: float) -> float | None:
    try:
        profit = float(trade.calc_profit_ratio(price))
    except (ArithmeticError, ValueError):
        return None
    return profit if math.isfinite(profit) else None


def market_snapshot(
    trade: Any,
    rate: float,
    profit: float,
    *,
    market: dict[str, Any] | None,
    min_remaining_amount: float,
) -> MarketSnapshot:
    """Return the one tick the core decides on (the only place a snapshot is built).

    :param rate: the rate freqtrade asks about (live the exit rate, backtests the candle open)
    :param profit: freqtrade's profit ratio at ``rate``
    :param market: the exchange market of the pair (``dp.market``), or None
    :param min_remaining_amount: the smallest remainder freqtrade lets a partial exit leave
    """
    return MarketSnapshot(
        price=float(rate),
        current_profit=float(profit),
        amount_step=amount_step(trade),
        min_order_amount=markets.min_order_amount(market, rate),
        min_remaining_amount=min_remaining_amount,
        exchange_stop_price=float(trade.stop_loss) if trade.stop_loss else None,
    )


class GuardPrices:
    """The loss-guard price of each position, computed again only when its inputs change.

    The price is where freqtrade's profit ratio equals ``-max_unrealized_loss_pct``
    (``Trade.calc_close_rate_for_roi``: fees, leverage and funding included), exact decimal
    arithmetic and the dearest part of a call.
    """

    def __init__(self) -> None:
        """Start with no position known."""
        self._prices: dict[str, tuple[tuple[Any, ...], float | None]] = {}

    def price(self, key: str, trade: Any, config: BrainConfig) -> float | None:
        """Return the guard price of the trade's position, or None (guard off, no position)."""
        if not config.loss_guard_enabled or trade.amount <= 0:
            return None
        inputs = (
            trade.open_rate,
            trade.amount,
            trade.leverage,
            trade.funding_fees,
            config.max_unrealized_loss_pct,
        )
        cached = self._prices.get(key)
        if cached is not None and cached[0] == inputs:
            return cached[1]
        rate = float(trade.calc_close_rate_for_roi(-config.max_unrealized_loss_pct / 100.0))
        price = rate if math.isfinite(rate) and rate > 0 else None
        self._prices[key] = (inputs, price)
        return price

    def last(self, key: str) -> float | None:
        """Return the last guard price computed for the position, or None."""
        cached = self._prices.get(key)
        return None if cached is None else cached[1]

    def clear(self) -> None:
        """Forget every position (a new backtest started)."""
        self._prices.clear()


def atr_at_entry(dp: Any, pair: str, timeframe: str) -> float | None:
    """Return the strategy's ``atr`` column on the last analyzed candle, or None."""
    if not dp:
        return None
    dataframe, _ = dp.get_analyzed_dataframe(pair, timeframe)
    if dataframe is None or dataframe.empty or "atr" not in dataframe.columns:
        return None
    value = float(dataframe["atr"].iloc[-1])
    return value if math.isfinite(value) and value > 0 else None


def plan_levels(levels: Iterable[Sequence[float]] | None) -> list[TpLevel] | None:
    """Return a strategy's ``exit_brain_plan`` answer (``[(price, fraction), ...]``) as levels."""
    if levels is None:
        return None
    return [TpLevel(price=float(price), fraction=float(fraction)) for price, fraction in levels]


def full_close_tag(decision: Decision | None) -> str | None:
    """Return the ``custom_exit`` tag of a decision to close the whole position, or None."""
    if isinstance(decision, ExitOrder) and decision.close_all:
        return decision.tag
    return None


def partial_exit(order: ExitOrder, trade: Any) -> tuple[float, str]:
    """Return the ``adjust_trade_position`` answer that sends a partial exit of ``order``."""
    return stake_for_amount(order.amount, trade, amount_step(trade)), order.tag
