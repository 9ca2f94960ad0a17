"""A futures strategy for the live / dry-run tests: enters SHORT at 10x while the test says so."""

from typing import Any

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from exit_brain_plugin.adapter import ExitBrainMixin


class ExitBrainLiveShortStrategy(ExitBrainMixin, IStrategy):
    """Shorts on the latest candle while ``live_enter`` is set; 10x leverage."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 10.0}  # noqa: RUF012 - freqtrade reads class attributes
    stoploss = -0.5
    can_short = True
    process_only_new_candles = False
    startup_candle_count = 0
    live_enter = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["enter_long"] = 0
        dataframe["enter_short"] = 0
        if self.live_enter:
            dataframe.loc[dataframe.index[-1], ["enter_short", "enter_tag"]] = (1, "live_short")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        dataframe["exit_long"] = 0
        dataframe["exit_short"] = 0
        return dataframe

    def leverage(self, pair: str, *args: Any, max_leverage: float = 10.0, **kwargs: Any) -> float:
        return min(10.0, max_leverage)
