"""Strategies for the off-script tests (issue 9): the world touches the position besides the brain.

``OffScriptHost`` is a plain freqtrade strategy the test steers through attributes:
- ``live_enter``: enter on the latest candle, ``long`` or ``short`` by ``config["live_side"]``;
- ``config["live_leverage"]``: the leverage of every entry (futures);
- ``host_adjust``: one stake the host's ``adjust_trade_position`` returns on the next loop (a
  negative stake is the host's own partial exit, a positive one an added entry), then None;
- ``config["live_host_stop"]``: a ratio the host's ``custom_stoploss`` returns (a host that
  trails; its signature has no ``after_fill``, as many strategies');
- ``config["live_host_plan"]``: ``[[distance, fraction], ...]`` the host's ``exit_brain_plan``
  returns, priced from the entry.
``OffScriptStrategy`` is the same host with the brain, the mixin first as the README teaches;
``OffScriptShortStrategy`` the same for futures shorts.
"""

from datetime import datetime
from typing import Any

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from exit_brain_plugin.adapter import ExitBrainMixin


class OffScriptHost(IStrategy):
    """Enters when told to, long or short; optional host stop, plan and adjustments."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012 - freqtrade reads class attributes
    stoploss = -0.2
    can_short = False
    process_only_new_candles = False
    startup_candle_count = 0
    use_exit_signal = True
    live_enter = False
    host_adjust: float | None = None

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        column = "enter_short" if self.config.get("live_side") == "short" else "enter_long"
        dataframe["enter_long"] = 0
        dataframe["enter_short"] = 0
        if self.live_enter:
            dataframe.loc[dataframe.index[-1], [column, "enter_tag"]] = (1, "live_test")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["exit_long"] = 0
        dataframe["exit_short"] = 0
        return dataframe

    def leverage(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return float(self.config.get("live_leverage", 1.0))

    def custom_stoploss(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> float | None:
        return self.config.get("live_host_stop")

    def adjust_trade_position(
        self,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> Any:
        stake, self.host_adjust = self.host_adjust, None
        if stake is None:
            return None
        return stake, ("host_partial" if stake < 0 else "host_dca")

    def exit_brain_plan(self, pair: str, trade: Any, current_time: datetime, dataframe: Any) -> Any:
        plan = self.config.get("live_host_plan")
        if plan is None:
            return None
        sign = -1.0 if trade.is_short else 1.0
        return [(trade.open_rate * (1 + sign * distance), fraction) for distance, fraction in plan]


class OffScriptStrategy(ExitBrainMixin, OffScriptHost):
    """The same host with the brain (spot)."""


class OffScriptShortStrategy(OffScriptStrategy):
    """The same, allowed to short (futures)."""

    can_short = True
