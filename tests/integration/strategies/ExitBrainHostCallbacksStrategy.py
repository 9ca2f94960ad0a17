"""A host strategy with its own exit callbacks under the mixin (README step 2's promise).

The host implements ``custom_stoploss``, ``adjust_trade_position``, ``custom_exit`` and
``custom_exit_price``; what each one does is set by the test's config, so one class serves
every scenario:

- ``host_stop_price``: the absolute stop ``custom_stoploss`` holds (None: no opinion), from
  the candle time ``host_stop_at`` (ISO) on when that is set;
- ``host_exit_at``: the candle time (ISO) from which ``custom_exit`` returns ``host_exit``;
- ``host_exit_price``: the price ``custom_exit_price`` returns for ``host_exit`` (config
  ``order_types.exit`` must be ``limit``, as freqtrade asks for a price only then);
- ``host_dca_at`` / ``host_dca_stake``: the candle time at which ``adjust_trade_position`` adds
  ``host_dca_stake`` once (tag ``host_dca``).

Every call records whether the host received freqtrade's own trade object (``host_calls``):
a host callback keeps freqtrade's copy (docs/decisions.md "Backtest speed").
"""

from datetime import datetime
from typing import Any

import pandas as pd
from freqtrade.persistence import LocalTrade
from freqtrade.strategy import stoploss_from_absolute

from exit_brain_plugin.adapter import ExitBrainMixin
from tests.integration.strategies.ExitBrainTestStrategy import ExitBrainTestHost


def _at_or_after(now: datetime, moment: str | None) -> bool:
    return moment is not None and pd.Timestamp(now) >= pd.Timestamp(moment)


class HostWithCallbacks(ExitBrainTestHost):
    """The test host plus its own exit callbacks."""

    use_custom_stoploss = True
    position_adjustment_enable = True

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.host_calls: list[tuple[str, bool]] = []
        self.host_dca_done = False

    def _record(self, name: str, trade: Any) -> None:
        held = any(open_trade is trade for open_trade in LocalTrade.bt_trades_open)
        self.host_calls.append((name, held))

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
        self._record("custom_stoploss", trade)
        price = self.config.get("host_stop_price")
        stop_at = self.config.get("host_stop_at")
        if price is None or (stop_at is not None and not _at_or_after(current_time, stop_at)):
            return None
        return stoploss_from_absolute(
            price, current_rate, is_short=trade.is_short, leverage=trade.leverage
        )

    def custom_exit(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        self._record("custom_exit", trade)
        if _at_or_after(current_time, self.config.get("host_exit_at")):
            return "host_exit"
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
        self._record("custom_exit_price", trade)
        price = self.config.get("host_exit_price")
        if exit_tag == "host_exit" and price is not None:
            return float(price)
        return proposed_rate

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
        self._record("adjust_trade_position", trade)
        if not self.host_dca_done and _at_or_after(current_time, self.config.get("host_dca_at")):
            self.host_dca_done = True
            return float(self.config["host_dca_stake"]), "host_dca"
        return None


class ExitBrainHostCallbacksStrategy(ExitBrainMixin, HostWithCallbacks):
    """The host with its own callbacks, under the brain."""
