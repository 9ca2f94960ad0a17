"""A small, real strategy with the Exit Brain on top.

``ExitBrainSampleSignals`` is an ordinary freqtrade strategy: EMA crossovers filtered by RSI,
long everywhere and short on futures, a wide 20 % stop and an ROI backstop. It knows nothing
about the brain.

``ExitBrainSampleStrategy`` is the same strategy with the brain: one line. The mixin comes
first so that it wraps the strategy's own callbacks. Run it with the ``exit_brain`` section of
config.json (TP ladder 1 / 2 / 4 %, ratchet, loss guard at -12.5 % PnL).
"""

from typing import Any

import talib.abstract as ta
from freqtrade.strategy import IStrategy
from pandas import DataFrame

from exit_brain_plugin.adapter import ExitBrainMixin


class ExitBrainSampleSignals(IStrategy):
    """EMA 12/26 crossover with an RSI filter; shorts only where the market allows them."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    startup_candle_count = 60
    minimal_roi = {"0": 0.10}  # noqa: RUF012 - freqtrade reads these class attributes
    stoploss = -0.20
    can_short = False
    process_only_new_candles = True

    def __init__(self, config: dict[str, Any]) -> None:
        # A strategy that can short fails to load on spot: short only on futures.
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
        """Trade futures at 3x (capped by the exchange's tier)."""
        return min(3.0, max_leverage)

    def populate_indicators(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        """EMA 12 / 26, RSI 14 and ATR 14 (the brain's ``tp_atr_multipliers`` reads ``atr``)."""
        dataframe["ema_fast"] = ta.EMA(dataframe, timeperiod=12)
        dataframe["ema_slow"] = ta.EMA(dataframe, timeperiod=26)
        dataframe["rsi"] = ta.RSI(dataframe, timeperiod=14)
        dataframe["atr"] = ta.ATR(dataframe, timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        """Enter on a fresh crossover that RSI does not contradict."""
        fast, slow, rsi = dataframe["ema_fast"], dataframe["ema_slow"], dataframe["rsi"]
        cross_up = (fast > slow) & (fast.shift(1) <= slow.shift(1))
        cross_down = (fast < slow) & (fast.shift(1) >= slow.shift(1))
        dataframe.loc[
            cross_up & (rsi > 50) & (rsi < 70) & (dataframe["volume"] > 0),
            ["enter_long", "enter_tag"],
        ] = (1, "ema_cross_up")
        dataframe.loc[
            cross_down & (rsi < 50) & (rsi > 30) & (dataframe["volume"] > 0),
            ["enter_short", "enter_tag"],
        ] = (1, "ema_cross_down")
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict[str, Any]) -> DataFrame:
        """Exit when the trend has clearly turned (RSI through 40 / 60 against the position)."""
        fast, slow, rsi = dataframe["ema_fast"], dataframe["ema_slow"], dataframe["rsi"]
        dataframe.loc[(fast < slow) & (rsi < 40), ["exit_long", "exit_tag"]] = (1, "trend_down")
        dataframe.loc[(fast > slow) & (rsi > 60), ["exit_short", "exit_tag"]] = (1, "trend_up")
        return dataframe


class ExitBrainSampleStrategy(ExitBrainMixin, ExitBrainSampleSignals):
    """The sample strategy with Exit Brain managing every exit."""
