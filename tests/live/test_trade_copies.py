"""Live and dry-run keep freqtrade's copy of the trade (docs/decisions.md "Backtest speed":
the uncopied trade is for backtests and hyperopt only).

Rule this module proves through ``FreqtradeBot.process()`` in dry-run: every call of a brain
callback receives a deep copy made by freqtrade's wrapper, never the bot's own ``Trade``
object, while the ladder still works (TP1 fills and is booked).
"""

import functools
import inspect
from typing import Any

from freqtrade.persistence import Trade

from exit_brain_plugin.adapter import ExitBrainMixin
from tests.live.bot_harness import exit_orders


CALLBACKS = ("custom_exit", "custom_stoploss", "adjust_trade_position", "order_filled")


def _probe(monkeypatch: Any) -> list[tuple[str, bool]]:
    calls: list[tuple[str, bool]] = []
    for name in CALLBACKS:
        callback = getattr(ExitBrainMixin, name)

        def spy(
            self: Any, *args: Any, _name: str = name, _cb: Any = callback, **kwargs: Any
        ) -> Any:
            trade = kwargs["trade"]
            own = any(open_trade is trade for open_trade in Trade.get_open_trades())
            calls.append((_name, own))
            return _cb(self, *args, **kwargs)

        wrapped = functools.wraps(callback)(spy)
        wrapped.__signature__ = inspect.signature(callback)  # type: ignore[attr-defined]
        monkeypatch.setattr(ExitBrainMixin, name, wrapped)
    return calls


def test_dry_run_callbacks_receive_a_copy_of_the_trade(live, monkeypatch):
    calls = _probe(monkeypatch)
    live.start_bot()
    live.open_trade()
    live.walk([0.1005, 0.1011, 0.1008])
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]
    assert {name for name, _ in calls} == set(CALLBACKS)
    assert len(calls) >= 10
    assert [name for name, own in calls if own] == []
