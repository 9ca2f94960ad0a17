"""The trade passed uncopied in backtests (docs/decisions.md "Backtest speed").

Rules this module proves, each through freqtrade's own wrapper (``strategy_wrapper.py``):

1. In a backtest, every call of a brain callback the host does not implement receives the very
   trade object freqtrade holds in ``LocalTrade.bt_trades_open`` — never a deep copy.
2. The probe is not vacuous: when freqtrade copies the trade for every call (as it does for a
   callback a strategy implements), the same probe sees no identical trade at all, so a change
   in freqtrade's "implemented by the user" test fails rule 1.

The probe wraps the mixin's public callbacks (``functools.wraps`` keeps their names, and the
signature is kept for freqtrade's ``getfullargspec`` check of ``after_fill``), records the
``trade`` each call receives and whether it is one of freqtrade's open trades at that moment.
"""

import copy
import functools
import inspect
from dataclasses import dataclass, field
from typing import Any

import pytest
from freqtrade.optimize import backtesting as ft_backtesting
from freqtrade.persistence import LocalTrade
from freqtrade.strategy import interface as ft_interface

from exit_brain_plugin.adapter import ExitBrainMixin
from tests.integration.backtest_harness import Candle as C
from tests.integration.backtest_harness import exit_orders, make_config, run_backtest


CALLBACKS = (
    "custom_exit",
    "custom_stoploss",
    "adjust_trade_position",
    "order_filled",
    "custom_exit_price",
)

LADDER = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1012, 0.1001, 0.1010),  # 2 TP1 fills (custom_exit_price priced it)
    C(0.1010, 0.1021, 0.1005, 0.1019),  # 3 TP2 0.102 fills
    C(0.1019, 0.1019, 0.1012, 0.1013),  # 4 nothing
    C(0.1013, 0.1014, 0.1008, 0.1009),  # 5 stop at TP1's price 0.101 hit
    C(0.1009, 0.1010, 0.1008, 0.1009),  # 6
]


@dataclass
class Probe:
    """What the brain's callbacks received, call by call."""

    calls: list[tuple[str, Any, bool]] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in CALLBACKS:
            monkeypatch.setattr(
                ExitBrainMixin, name, self._spy(name, getattr(ExitBrainMixin, name))
            )

    def _spy(self, name: str, callback: Any) -> Any:
        probe = self

        @functools.wraps(callback)
        def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
            trade = kwargs["trade"]  # freqtrade passes the trade by keyword
            held = any(open_trade is trade for open_trade in LocalTrade.bt_trades_open)
            label = f"{name}(after_fill)" if kwargs.get("after_fill") else name
            probe.calls.append((label, trade, held))
            return callback(self, *args, **kwargs)

        spy.__signature__ = inspect.signature(callback)  # type: ignore[attr-defined]
        return spy

    def count(self, name: str) -> int:
        return sum(1 for called, _, _ in self.calls if called == name)


def _always_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    # freqtrade as it would be if it copied the trade for every callback, implemented or not.
    original = ft_interface.strategy_safe_wrapper

    def wrapper(f: Any, *args: Any, **kwargs: Any) -> Any:
        wrapped = original(f, *args, **kwargs)

        def call(*call_args: Any, **call_kwargs: Any) -> Any:
            if "trade" in call_kwargs:
                call_kwargs["trade"] = copy.deepcopy(call_kwargs["trade"])
            return wrapped(*call_args, **call_kwargs)

        return call

    monkeypatch.setattr(ft_interface, "strategy_safe_wrapper", wrapper)
    monkeypatch.setattr(ft_backtesting, "strategy_safe_wrapper", wrapper)


def _probed_run(monkeypatch: pytest.MonkeyPatch) -> tuple[Probe, Any]:
    probe = Probe()
    probe.install(monkeypatch)
    run = run_backtest(LADDER, make_config())
    return probe, run


def test_every_brain_callback_receives_freqtrades_own_trade_object(monkeypatch):
    probe, run = _probed_run(monkeypatch)
    (trade,) = run.trades
    # The backtest did what the scenario says, so every callback had work to do.
    assert [tag for tag, _, _ in exit_orders(trade)] == [
        "exit_brain_tp1",
        "exit_brain_tp2",
        "exit_brain_stop_tp1",
    ]
    for name in (*CALLBACKS, "custom_stoploss(after_fill)"):
        assert probe.count(name) >= 1, name
    assert len(probe.calls) >= 10, [c[0] for c in probe.calls]
    # Counted: every call got the one object freqtrade keeps (the closed trade is the same
    # object it held open), and at the moment of the call it was in the open trades.
    assert [name for name, received, _ in probe.calls if received is not trade] == []
    assert [name for name, _, held in probe.calls if not held] == []


def test_the_probe_sees_copies_when_freqtrade_copies_the_trade(monkeypatch):
    _always_copy(monkeypatch)
    probe, run = _probed_run(monkeypatch)
    (trade,) = run.trades
    # The same trades as uncopied: the copy costs time, never a decision.
    assert [tag for tag, _, _ in exit_orders(trade)] == [
        "exit_brain_tp1",
        "exit_brain_tp2",
        "exit_brain_stop_tp1",
    ]
    assert len(probe.calls) >= 10, [c[0] for c in probe.calls]
    assert [name for name, received, _ in probe.calls if received is trade] == []
    assert [name for name, _, held in probe.calls if held] == []
