"""The benchmark's floor: the sample strategy's signals with the brain's callbacks doing nothing.

It implements the same per-trade callbacks ``ExitBrainMixin`` implements, with the same
freqtrade settings the brain needs (custom stop, position adjustment, exit signals, limit exits
in backtests so that ``custom_exit_price`` is called for the same exits), and every one returns
the neutral value. freqtrade deep-copies the trade for each call of an implemented callback,
so this is the cost any callback-based exit manager starts from (FREQTRADE_NOTES §9).
"""

from datetime import datetime
from typing import Any

from ExitBrainSampleStrategy import ExitBrainSampleSignals


class BenchFloorStrategy(ExitBrainSampleSignals):
    """ExitBrainSampleSignals plus the brain's callbacks, all neutral."""

    use_custom_stoploss = True
    position_adjustment_enable = True
    use_exit_signal = True

    def ft_bot_start(self, **kwargs: Any) -> None:
        """Use limit exits in backtests, as the brain does (custom_exit_price is then called)."""
        self.order_types = {**self.order_types, "exit": "limit"}
        super().ft_bot_start(**kwargs)

    def custom_exit(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | bool | None:
        """Never exit."""
        return None

    def custom_stoploss(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        """Keep the stop."""
        return None

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
        """Never adjust."""
        return None

    def order_filled(
        self, pair: str, trade: Any, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Nothing to book."""
        return None

    def custom_exit_price(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        proposed_rate: float,
        current_profit: float,
        exit_tag: str | None,
        **kwargs: Any,
    ) -> float:
        """The proposed rate."""
        return proposed_rate
