"""Backtest fills that never flatter (docs/behaviour.md §6): three corrections to freqtrade.

freqtrade 2026.9's backtest (``freqtrade/optimize/backtesting.py``) makes choices that price
the brain's exits other than any live order would fill:

1. **Stop gaps.** ``_get_close_rate_for_stoploss`` fills a stop at the candle's open only when
   the *whole* candle is beyond the stop (``stop > high`` for a long); a candle that opens
   beyond the stop and whose extreme comes back to it fills at the stop price. A live
   stop-market order triggers at the open and fills there. Corrected: a stop that was in force
   at the candle's open (recorded when ``_check_trade_exit`` starts, before that candle's fills
   can move it) and that the open lies beyond fills at the open. A stop exit order still open
   from an earlier candle fills at the worse of its own price and this candle's open (inside
   this candle), never re-priced to a better stop price.
2. **Tick-edge fills.** ``_exit_trade`` rounds the exit price to the exchange tick
   (``price_to_precision``) and ``_get_order_filled`` then tests ``low <= price <= high`` on
   the raw candle. Real candle data stores a price like 0.0302222 as 0.030222199999999998, so
   an exit priced at an open that is also the candle's high (or low) misses the candle by one
   float step: the order stays open and is replaced and re-priced on the next candle (a stop
   exit then fills at the stop price, above anything that traded; a gap take-profit fills a
   candle late at another price). Corrected: a price within float noise (relative 1e-10, far
   below any exchange tick) of the candle's low or high is inside the candle, for exit orders
   (entries keep freqtrade's test: the brain does not change when a position opens).

3. **Fill-time stops re-applied.** After an order of an open position fills, freqtrade asks
   ``custom_stoploss`` (``after_fill``) and *then* recalculates the trade
   (``_enter_trade`` / ``_process_exit_order`` → ``LocalTrade.recalc_trade_from_orders``),
   which re-applies the stop's ratio to the new average entry and so tightens the brain's stop
   after an added entry below the average (or a partial exit at a loss): the repriced loss
   guard would sit at -11.6 % instead of -12.5 %. Live recalculates first and asks second.
   Corrected: the stop price the brain answered the fill-time call with
   (``runtime.fill_stops``, adapter/stops.py rule 5) is held after the recalculation, as live.

All three apply only to backtests of a strategy with ``eb_fill_rules`` true: the brain enabled and
acting, or ``exit-brain compare``'s "brain off" run, which sets it so that the comparison uses
the same fill rules. Any other strategy in the process keeps freqtrade's behaviour unchanged,
and live / dry-run never import this module.
"""

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from freqtrade.enums import ExitType
from freqtrade.optimize.backtesting import Backtesting

from exit_brain_plugin.adapter import logsink
from exit_brain_plugin.adapter.store import position_key
from exit_brain_plugin.core.adapter_lines import fill_rules_missing
from exit_brain_plugin.core.exit_reasons import is_stop_reason


__all__ = ["FLOAT_NOISE", "install", "installed", "on_candle_edge", "opens_beyond_stop"]


#: Relative distance below which two prices are the same tick stored differently.
FLOAT_NOISE = 1e-10
_MARKER = "_exit_brain_fill_rules"
_OPEN, _HIGH, _LOW = 1, 2, 3
_DATE = 0
_STOP_EXITS = (ExitType.STOP_LOSS, ExitType.TRAILING_STOP_LOSS)


def on_candle_edge(price: float, extreme: float) -> bool:
    """Return True when ``price`` and a candle ``extreme`` are one price in float noise."""
    return math.isclose(price, extreme, rel_tol=FLOAT_NOISE, abs_tol=0.0)


def opens_beyond_stop(is_short: bool, open_rate: float, stop: float | None) -> bool:
    """Return True when a candle opening at ``open_rate`` is already past ``stop``."""
    if not stop or on_candle_edge(open_rate, stop):
        return False
    return open_rate > stop if is_short else open_rate < stop


def _rules_on(backtesting: Any) -> bool:
    return bool(getattr(backtesting.strategy, "eb_fill_rules", False))


def _get_order_filled(original: Callable[..., bool]) -> Callable[..., bool]:
    def get_order_filled(self: Any, rate: float, row: tuple[Any, ...]) -> bool:
        if original(self, rate, row):
            return True
        if not (_rules_on(self) and self.__dict__.get("_eb_exit_order")):
            return False
        return on_candle_edge(rate, row[_LOW]) or on_candle_edge(rate, row[_HIGH])

    return get_order_filled


def _try_close_open_order(original: Callable[..., bool]) -> Callable[..., bool]:
    # The fill test does not know the order: mark exit orders for it. Entries keep freqtrade's
    # test, so the brain never changes when a position opens.
    def try_close_open_order(
        self: Any, order: Any, trade: Any, current_date: datetime, row: tuple[Any, ...]
    ) -> bool:
        self._eb_exit_order = order is not None and order.ft_order_side == trade.exit_side
        fill_stops = _fill_stops(self)
        if fill_stops is not None:
            fill_stops.pop(position_key(trade), None)  # only this fill's answer is kept
        try:
            return original(self, order, trade, current_date, row)
        finally:
            self._eb_exit_order = False

    return try_close_open_order


def _fill_stops(backtesting: Any) -> dict[str, float] | None:
    runtime = getattr(backtesting.strategy, "eb_runtime", None) if _rules_on(backtesting) else None
    return getattr(runtime, "fill_stops", None)


def _keep_fill_stop(backtesting: Any, trade: Any) -> None:
    # Rule 3: freqtrade's recalculation may only have tightened the stop the brain answered.
    fill_stops = _fill_stops(backtesting)
    stop = None if fill_stops is None else fill_stops.pop(position_key(trade), None)
    if stop is None or not trade.is_open or not trade.stop_loss:
        return
    held = float(trade.stop_loss)
    if not on_candle_edge(held, stop) and (held < stop if trade.is_short else held > stop):
        trade.stop_loss = stop


def _enter_trade(original: Callable[..., Any]) -> Callable[..., Any]:
    def enter_trade(self: Any, *args: Any, **kwargs: Any) -> Any:
        trade = original(self, *args, **kwargs)
        if trade is not None:
            _keep_fill_stop(self, trade)
        return trade

    return enter_trade


def _process_exit_order(original: Callable[..., Any]) -> Callable[..., Any]:
    def process_exit_order(
        self: Any, order: Any, trade: Any, current_time: datetime, row: tuple[Any, ...], pair: str
    ) -> Any:
        result = original(self, order, trade, current_time, row, pair)
        _keep_fill_stop(self, trade)
        return result

    return process_exit_order


def _check_trade_exit(original: Callable[..., Any]) -> Callable[..., Any]:
    def check_trade_exit(
        self: Any, trade: Any, row: tuple[Any, ...], current_time: datetime
    ) -> Any:
        if _rules_on(self):
            stops = self.__dict__.setdefault("_eb_stop_at_open", {})
            stops[trade.id] = (row[_DATE], trade.stop_loss)
        return original(self, trade, row, current_time)

    return check_trade_exit


def _get_close_rate_for_stoploss(original: Callable[..., float]) -> Callable[..., float]:
    def get_close_rate_for_stoploss(
        self: Any, row: tuple[Any, ...], trade: Any, exit_: Any, trade_dur: int
    ) -> float:
        if _rules_on(self) and exit_.exit_type in _STOP_EXITS:
            stuck = _stuck_stop_price(trade, row)
            if stuck is not None:
                return _never_better(bool(trade.is_short), stuck, row)
            date, stop = self.__dict__.get("_eb_stop_at_open", {}).get(trade.id, (None, None))
            if date == row[_DATE] and opens_beyond_stop(bool(trade.is_short), row[_OPEN], stop):
                return float(row[_OPEN])
        return original(self, row, trade, exit_, trade_dur)

    return get_close_rate_for_stoploss


def _stuck_stop_price(trade: Any, row: tuple[Any, ...]) -> float | None:
    # A stop exit order from an earlier candle that is still open: a live market order would
    # have filled at its price; return that price (None when there is no such order).
    candle = row[_DATE].to_pydatetime()
    prices = [
        float(order.ft_price)
        for order in trade.open_orders
        if order.ft_order_side == trade.exit_side
        and order.order_date_utc < candle
        and is_stop_reason(order.ft_order_tag)
    ]
    if not prices:
        return None
    return max(prices) if trade.is_short else min(prices)


def _never_better(is_short: bool, stuck: float, row: tuple[Any, ...]) -> float:
    # The worse of the stuck price and this candle's open, kept inside this candle so that it
    # fills now: never a price better than the one the stop should have filled at.
    if is_short:
        return float(min(max(stuck, row[_OPEN]), row[_HIGH]))
    return float(max(min(stuck, row[_OPEN]), row[_LOW]))


_STATE = {"installed": False}
_PATCHES: dict[str, Callable[[Any], Any]] = {
    "_get_order_filled": _get_order_filled,
    "_try_close_open_order": _try_close_open_order,
    "_check_trade_exit": _check_trade_exit,
    "_get_close_rate_for_stoploss": _get_close_rate_for_stoploss,
    "_enter_trade": _enter_trade,
    "_process_exit_order": _process_exit_order,
}


def installed() -> bool:
    """Return True when the fill rules are installed on freqtrade's Backtesting."""
    return all(getattr(getattr(Backtesting, name), _MARKER, False) for name in _PATCHES)


def install() -> None:
    """Install the fill rules on freqtrade's ``Backtesting`` (idempotent, once per process).

    They act only for a Backtesting whose strategy has ``eb_fill_rules`` true. Called at the
    start of a backtest and at each candle (hyperopt workers are fresh processes).
    """
    if _STATE["installed"]:
        return
    _STATE["installed"] = True
    for name, wrap in _PATCHES.items():
        current = getattr(Backtesting, name, None)
        if current is None:  # another freqtrade version: say so, keep its own fills
            logsink.write(fill_rules_missing(name))
            continue
        if getattr(current, _MARKER, False):
            continue
        patched = wrap(current)
        setattr(patched, _MARKER, True)
        patched.__name__ = name
        patched.__qualname__ = f"Backtesting.{name}"
        patched.__doc__ = current.__doc__
        setattr(Backtesting, name, patched)
