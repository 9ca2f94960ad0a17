"""Every dependence of the callbacks on freqtrade's internals, in one room (freqtrade 2026.9).

The callbacks use freqtrade's public surface (``IStrategy``, ``Trade``, ``stoploss_from_absolute``)
everywhere else; what they need beyond it is here, each item citing the freqtrade file it leans
on and the test that fails when freqtrade changes it (tests/adapter/test_freqtrade_internals.py
checks the facts against freqtrade directly). The other room of freqtrade internals is
``adapter/backtest.py``: the fill-rule patches on ``Backtesting``'s private methods, loaded in
backtests only.

Rules:

1. Nothing here decides an exit: these functions read freqtrade's objects, dress a callback
   for freqtrade's wrapper, or answer a mechanic of freqtrade's order handling.
2. Backtest-only mechanics (trade copies, the forced limit exit type, resting orders and exact
   prices, the per-backtest cache reset) act only when the caller says it is a backtest or
   hyperopt; live and dry-run never reach them.
3. A lookup of a private attribute (``dp._exchange``, ``_ft_params_from_file``) tolerates its
   absence: the brain then uses the neutral value (no minimum, no parameter file), never fails.
"""

import functools
import inspect
import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from freqtrade.enums import ExitCheckTuple, ExitType, RunMode
from freqtrade.persistence.custom_data import CustomDataWrapper, _CustomData
from freqtrade.strategy import IStrategy
from freqtrade.util import dt_now

from exit_brain_plugin.adapter import translate
from exit_brain_plugin.core import BrainConfig, MarketSnapshot, PositionState, price_resting_exit
from exit_brain_plugin.core.exit_reasons import is_stop_reason
from exit_brain_plugin.core.pricing import is_level_reached, is_stop_breached


OPTIMIZE_MODES = (RunMode.BACKTEST, RunMode.HYPEROPT)
TRADING_MODES = (RunMode.LIVE, RunMode.DRY_RUN)

# --------------------------------------------------------------------- the uncopied trade
# freqtrade/strategy/strategy_wrapper.py (strategy_safe_wrapper): every call of a callback gets a
# deep copy of the trade unless the callback's qualname starts with "IStrategy." (a callback the
# strategy left to IStrategy's default). The copy is most of a backtest's time
# (docs/performance.md). Guarded by tests/adapter/test_mixin_contract.py
# (test_backtests_pass_the_trade_uncopied_to_the_brain_callbacks_only).

#: Callbacks whose trade copy backtests skip when the host does not implement them.
UNCOPIED = (
    "custom_exit",
    "custom_stoploss",
    "adjust_trade_position",
    "order_filled",
    "custom_exit_price",
)


def uncopied(method: Any, name: str) -> Any:
    """Return ``method`` under a qualname for which freqtrade passes the trade uncopied."""

    @functools.wraps(method)
    def callback(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    callback.__qualname__ = f"IStrategy.{name}"
    return callback


def skip_trade_copies(strategy: Any, host_definition: Callable[[str], type]) -> None:
    """Give the brain's callbacks the uncopied qualname, where the host has none of its own.

    The brain never changes the trade, so backtests and hyperopt (never live) may skip the copy;
    a host callback reached through ``super()`` keeps its copy.

    :param host_definition: returns the class after the mixin that defines a callback name
    """
    for name in UNCOPIED:
        if host_definition(name) is IStrategy:
            setattr(strategy, name, uncopied(getattr(strategy, name), name))


# --------------------------------------------------------------------- the fill-time stop call
# freqtrade/resolvers/strategy_resolver.py: a strategy is asked for a fill-time stop
# (after_fill=True) only when its custom_stoploss names after_fill (_ft_stop_uses_after_fill).
# The mixin names it, so a host that does not must not be asked on those calls (its answer
# could loosen the stop). Guarded by tests/live/test_off_script.py (host callbacks).


def takes_after_fill(host_class: type) -> bool:
    """Return True when the host's own ``custom_stoploss`` names ``after_fill``."""
    function = vars(host_class).get("custom_stoploss")
    return function is not None and "after_fill" in inspect.signature(function).parameters


# --------------------------------------------------------------------- the forced limit exit
# freqtrade/optimize/backtesting.py (_get_exit_for_signal): custom_exit_price is called only when
# order_types["exit"] is "limit"; its price then rests as a limit order the candle may fill at
# exactly that price. Backtests with the brain acting force limit exits; the host's own exits
# keep the configured behaviour (custom_exit_price gives them the proposed rate).
# Guarded by tests/integration/test_truthful_fills.py and test_backtest_scenarios.py.


def force_limit_exits(strategy: Any) -> str:
    """Make exits limit orders (backtests); return the exit order type the host configured."""
    host_type = str(strategy.order_types.get("exit", "limit"))
    strategy.order_types = {**strategy.order_types, "exit": "limit"}
    return host_type


# --------------------------------------------------------------------- resting orders
# freqtrade/optimize/backtesting.py (handle_similar_order, _get_exit_for_signal): a partial exit
# asked again with another price or amount cancels the open exit order and re-prices it against
# the new candle. The brain asks again only for a different order. Live
# (freqtrade/freqtradebot.py, check_and_call_adjust_trade_position) the same request cancels a
# resting order: the mixin never answers while the trade has open orders.


def is_resting(trade: Any, tag: str, amount: float, price: float | None) -> bool:
    """Return True when the trade's open exit order already is this one."""
    for order in trade.open_orders:
        if order.ft_order_side != trade.exit_side or order.ft_order_tag != tag:
            continue
        same_price = price is None or math.isclose(order.ft_price, price, rel_tol=1e-9)
        if same_price and math.isclose(order.safe_amount, amount, rel_tol=1e-9):
            return True
    return False


def stop_first(trade: Any, rate: float) -> bool:
    """Return True when a backtest candle belongs to the stop, not to a resting take-profit.

    A candle that opens at or beyond the stop closes the position at that open
    (adapter/backtest.py), and a stop exit already sent waits for its fill: resting a
    take-profit now would fill it on this candle first and cancel that close.
    """
    if trade.stop_loss and is_stop_breached(
        translate.side_of(trade), float(rate), float(trade.stop_loss)
    ):
        return True
    return any(
        order.ft_order_side == trade.exit_side and is_stop_reason(order.ft_order_tag)
        for order in trade.open_orders
    )


def resting_exit(
    trade: Any, state: PositionState, snapshot: MarketSnapshot, config: BrainConfig
) -> tuple[float, str] | None:
    """Return the ``adjust_trade_position`` answer that rests the next level (backtests).

    The level rests as a limit order at its price (``custom_exit_price``, below); None when
    there is none to rest or it already rests.
    """
    order = price_resting_exit(snapshot, state, config)
    if order is None:
        return None
    amount = float(trade.amount) if order.close_all else order.amount
    if is_resting(trade, order.tag, amount, order.level_price):
        return None  # already resting: asking again would only re-price the same order
    if order.close_all:
        return -float(trade.stake_amount), order.tag
    return translate.stake_for_amount(amount, trade, translate.amount_step(trade)), order.tag


def exact_exit_price(
    trade: Any, state: PositionState | None, legs: tuple[int, ...], proposed_rate: float
) -> float:
    """Return the price of a resting take-profit: its level, unless the candle opened beyond it.

    freqtrade/optimize/backtesting.py (_get_exit_for_signal) clamps the price into the candle
    and fills the order when the candle trades through it.
    """
    if state is not None and legs and legs[-1] <= len(state.tp_levels):
        level = state.tp_levels[legs[-1] - 1].price
        if not is_level_reached(translate.side_of(trade), proposed_rate, level):
            return level
    return proposed_rate


# --------------------------------------------------------------------- stop exit names
# freqtrade/strategy/interface.py (should_exit): returns ExitCheckTuple(exit_type, exit_reason);
# the reason becomes the trade's exit_reason and the order's tag, the type decides how it fills
# (a stop type keeps the stop's fill price). Only the reason is renamed. Guarded by
# tests/integration/test_stop_exit_names.py.

STOP_EXIT_TYPES = (ExitType.STOP_LOSS, ExitType.TRAILING_STOP_LOSS)


def rename_stop_exits(
    exits: list[ExitCheckTuple], reason_of: Callable[[], str | None]
) -> list[ExitCheckTuple]:
    """Rename the stop exits in ``exits`` to ``reason_of()`` (kept when it returns None)."""
    for index, check in enumerate(exits):
        if check.exit_type in STOP_EXIT_TYPES:
            reason = reason_of()
            if reason is not None:
                exits[index] = ExitCheckTuple(exit_type=check.exit_type, exit_reason=reason)
    return exits


# --------------------------------------------------------------------- exchange minimums
# freqtrade/data/dataprovider.py keeps the exchange as the private ``_exchange``. freqtrade
# refuses a partial exit leaving less than the minimum stake (freqtradebot.py
# check_and_call_adjust_trade_position with the strategy's stoploss and the trade's leverage;
# optimize/backtesting.py with stoploss -0.1 and leverage 1): the same exchange function gives
# the same threshold. Guarded by tests/live/test_exchange_minimums.py.


def min_remaining_amount(
    dp: Any, trade: Any, rate: float, *, backtest: bool, stoploss: float
) -> float:
    """Return the smallest remainder freqtrade lets a partial exit leave, in base units."""
    exchange = getattr(dp, "_exchange", None) if dp else None
    if exchange is None or rate <= 0:
        return 0.0
    try:
        if backtest:
            stake = exchange.get_min_pair_stake_amount(trade.pair, rate, -0.1)
        else:
            stake = exchange.get_min_pair_stake_amount(trade.pair, rate, stoploss, trade.leverage)
    except Exception:
        return 0.0
    return float(stake) / rate if stake else 0.0


# --------------------------------------------------------------------- parameter files
# freqtrade/strategy/hyper.py (HyperStrategyMixin.__init__): the strategy's parameter file
# (<Strategy>.json) is read into ``_ft_params_from_file`` by space; the brain's space is
# "exitbrain". Guarded by tests/integration/test_hyperopt_settings.py.


def file_values(strategy: Any) -> Mapping[str, Any]:
    """Return the ``exitbrain`` values of the strategy's parameter file (empty without one).

    Read-only, and not copied: the settings in force look at it on every call.
    """
    params = getattr(strategy, "_ft_params_from_file", None) or {}
    return params.get("exitbrain") or {}


# --------------------------------------------------------------------- per-backtest caches
# freqtrade/optimize/backtesting.py (backtest): bot_loop_start runs once per candle with the
# candle's time; hyperopt and `exit-brain tune` run many backtests on one strategy object, so a
# time that goes back is a new backtest. Guarded by tests/integration/test_tune.py.


def is_new_backtest(last_loop: datetime | None, current_time: datetime) -> bool:
    """Return True when ``current_time`` starts another backtest on the same strategy."""
    return last_loop is not None and current_time <= last_loop


def install_fill_rules() -> None:
    """Install the backtest fill rules (adapter/backtest.py) in this process.

    A hyperopt worker (-j 2) is a new process: the parent's ft_bot_start installed them there
    only, so each candle installs them again (idempotent).
    """
    from exit_brain_plugin.adapter import backtest

    backtest.install()


# ------------------------------------------------------------- custom data in backtests
# freqtrade/persistence/custom_data.py (CustomDataWrapper): backtests keep custom data in a plain
# list (use_db False, reset to a new list when a backtest starts), and set_custom_data finds the
# row to update by scanning every row of every trade: O(trades) per write, half a 20 pairs x 6
# months backtest (docs/performance.md). Rows of the brain's keys are appended once and then
# updated in place, the row freqtrade's own get_custom_data returns. Guarded by
# tests/adapter/test_freqtrade_internals.py (test_backtest_rows_read_back_through_freqtrade).


class BacktestRows:
    """The brain's custom-data rows of one process's backtests, written without a scan."""

    def __init__(self) -> None:
        self._rows: dict[tuple[int, str], Any] = {}
        self._list: list[Any] | None = None

    def write(self, trade: Any, key: str, value: dict[str, Any]) -> None:
        """Store ``value`` (a JSON object) under ``key`` for ``trade``, as set_custom_data."""
        if CustomDataWrapper.use_db:  # a database after all: freqtrade's own write
            trade.set_custom_data(key, value)
            return
        if CustomDataWrapper.custom_data is not self._list:  # freqtrade reset it: new backtest
            self._rows.clear()
            self._list = CustomDataWrapper.custom_data
        row = self._rows.get((trade.id, key))
        if row is None:
            row = _CustomData(
                ft_trade_id=trade.id, cd_key=key, cd_type="dict", cd_value="", created_at=dt_now()
            )
            CustomDataWrapper.custom_data.append(row)
            self._rows[(trade.id, key)] = row
        row.cd_value = json.dumps(value)
        row.value = value
