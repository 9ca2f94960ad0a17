"""Test strategies: signals come from the hand-built frame each test supplies."""

from typing import Any

from freqtrade.strategy import IStrategy
from pandas import DataFrame

from exit_brain_plugin.adapter import ExitBrainMixin


class ExitBrainTestHost(IStrategy):
    """A host with no exits of its own but its stop (set by the test's config)."""

    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 10.0}  # noqa: RUF012 - freqtrade reads class attributes
    stoploss = -0.5
    can_short = False
    use_custom_stoploss = False
    position_adjustment_enable = False
    use_exit_signal = True

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.can_short = config.get("trading_mode") == "futures"

    def leverage(
        self,
        pair: str,
        current_time: Any,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return float(self.config.get("test_leverage", 1.0))

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        return dataframe


class ExitBrainTestStrategy(ExitBrainMixin, ExitBrainTestHost):
    """The same host with the brain."""

    use_custom_stoploss = True
    position_adjustment_enable = True
