"""Strategies for the live / dry-run tests: freqtrade's bot loop decides, the test sets the scene.

``ExitBrainLiveHost`` is a plain freqtrade strategy: it enters long on the latest candle while
the test sets ``live_enter``, and it has one exit of its own (``custom_exit`` when the profit
reaches ``config["live_host_exit_profit"]``), so that observe mode can show the host's exits
running unchanged. ``ExitBrainLiveStrategy`` is the same host with the brain.
"""

from datetime import datetime
from typing import Any

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from exit_brain_plugin.adapter import ExitBrainMixin


class ExitBrainLiveHost(IStrategy):
    """Enters when told to; exits at the host's own profit target, if the config sets one."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012 - freqtrade reads class attributes
    stoploss = -0.2
    process_only_new_candles = False
    startup_candle_count = 0
    use_exit_signal = True
    live_enter = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["enter_long"] = 0
        if self.live_enter:
            dataframe.loc[dataframe.index[-1], ["enter_long", "enter_tag"]] = (1, "live_test")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["exit_long"] = 0
        return dataframe

    def custom_exit(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | bool | None:
        target = self.config.get("live_host_exit_profit")
        if target is not None and current_profit >= target:
            return "host_take_profit"
        return None


class ExitBrainLiveStrategy(ExitBrainMixin, ExitBrainLiveHost):
    """The same host with the brain (the mixin first, as the README says)."""
