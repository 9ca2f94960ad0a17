"""Read-only inputs of one evaluation: the market and exchange facts at one tick."""

import math
from dataclasses import dataclass

from exit_brain_plugin.core.enums import Side


def check_finite(name: str, value: float | None, *, positive: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` when ``value`` is NaN, infinite (or not > 0)."""
    if value is None:
        return
    if type(value) is float and math.isfinite(value) and (value > 0 or not positive):
        return  # the usual case, decided without the checks below
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, was {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, was {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketSnapshot:
    """One tick of one position, as the adapter reads it from freqtrade.

    :param price: the rate the brain decides on: live the current exit rate, backtesting the
        candle open (or a level price when pricing a resting order)
    :param current_profit: freqtrade's profit ratio at ``price`` (fees and leverage included)
    :param amount_step: exchange amount step in base units, or None when unknown
    :param min_order_amount: smallest exit order the exchange accepts, in base units
    :param min_remaining_amount: smallest remainder freqtrade lets a partial exit leave
    :param exchange_stop_price: the stop freqtrade currently holds (``trade.stop_loss``)
    """

    price: float
    current_profit: float
    amount_step: float | None = None
    min_order_amount: float = 0.0
    min_remaining_amount: float = 0.0
    exchange_stop_price: float | None = None

    def __post_init__(self) -> None:
        check_finite("price", self.price, positive=True)
        check_finite("current_profit", self.current_profit)
        check_finite("amount_step", self.amount_step, positive=True)
        check_finite("min_order_amount", self.min_order_amount)
        check_finite("min_remaining_amount", self.min_remaining_amount)
        check_finite("exchange_stop_price", self.exchange_stop_price)


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionOpen:
    """Facts of a position's first entry fill, from which its state is created.

    :param pair: freqtrade pair, e.g. ``ETH/BTC`` or ``XRP/USDT:USDT``
    :param side: LONG or SHORT
    :param entry_price: average entry price (``trade.open_rate``)
    :param amount: base amount held after the first entry fill
    :param initial_stop_price: the strategy's stop at entry, or None when it has none
    :param atr: the strategy's ATR at entry (price units), used by ``tp_atr_multipliers``
    :param price_step: exchange price step; take-profit prices are rounded to it
    :param order_id: the id of the entry order (the first order the state books)
    """

    pair: str
    side: Side
    entry_price: float
    amount: float
    initial_stop_price: float | None = None
    atr: float | None = None
    price_step: float | None = None
    order_id: str | None = None

    def __post_init__(self) -> None:
        check_finite("price_step", self.price_step, positive=True)
        check_finite("entry_price", self.entry_price, positive=True)
        check_finite("amount", self.amount, positive=True)
        check_finite("initial_stop_price", self.initial_stop_price, positive=True)
        if self.atr is not None and (not math.isfinite(self.atr) or self.atr <= 0):
            object.__setattr__(self, "atr", None)  # no usable ATR: fall back to distances
