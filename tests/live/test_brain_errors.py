"""An exception inside the brain: ERROR with ``[EXIT_BRAIN_EXECUTOR]``, the position keeps its
last stop, and the next loop works (docs/behaviour.md §7)."""

import logging

import pytest

from exit_brain_plugin.adapter import booking, runtime, stops
from tests.live.bot_harness import brain_lines, exit_orders


GUARD_STOP = 0.087676
TP1_TICK = 0.1011


def _fail_once(monkeypatch, name, module=runtime):
    real = getattr(module, name)
    calls = {"n": 0}

    def broken(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError(f"simulated bug in {name}")
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, broken)
    return calls


def _errors(caplog):
    return [
        record
        for record in caplog.records
        if record.name == "exit_brain" and record.levelno == logging.ERROR
    ]


def test_an_error_while_deciding_keeps_the_stop_and_the_next_loop_takes_profit(
    live, caplog, monkeypatch
):
    live.start_bot()
    live.open_trade()
    caplog.clear()
    _fail_once(monkeypatch, "evaluate_position")
    live.step(TP1_TICK)  # custom_exit fails; adjust_trade_position still runs and sends TP1
    errors = _errors(caplog)
    assert len(errors) == 1
    assert (
        errors[0]
        .getMessage()
        .startswith(
            "[EXIT_BRAIN_EXECUTOR] custom_exit failed for ETH/BTC (trade 1); the position keeps "
            "its last stop"
        )
    )
    assert errors[0].exc_info is not None  # the traceback is in the log
    assert live.trade().is_open
    live.step(TP1_TICK)
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]
    assert live.trade().stop_loss == pytest.approx(0.1)


def test_an_error_in_the_stop_callback_keeps_the_last_stop(live, caplog, monkeypatch):
    live.start_bot()
    live.open_trade()
    live.step(TP1_TICK)
    assert live.trade().stop_loss == pytest.approx(0.1)
    caplog.clear()
    calls = _fail_once(monkeypatch, "evaluate_stop", module=stops)
    live.step(0.1015)
    assert calls["n"] >= 1
    assert any("custom_stoploss failed" in r.getMessage() for r in _errors(caplog))
    assert live.trade().stop_loss == pytest.approx(0.1)  # kept, not reset or loosened
    live.step(0.0999)  # the kept stop still protects
    trade = live.trade()
    assert not trade.is_open
    assert live.state()["exit_kind"] == "stop:breakeven"


def test_an_error_while_booking_a_fill_is_repaired_from_the_orders_next_loop(
    live, caplog, monkeypatch
):
    live.start_bot()
    live.open_trade()
    caplog.clear()
    _fail_once(monkeypatch, "apply_fill", module=booking)
    live.step(TP1_TICK)  # TP1 fills, but booking it fails
    assert any("order_filled failed" in r.getMessage() for r in _errors(caplog))
    assert live.state()["tp_hits_count"] == 0
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP)  # last stop kept

    live.step(TP1_TICK)  # the state disagrees with the trade: rebuilt, ratchet applied
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]  # not repeated
    state = live.state()
    assert state["tp_hits_count"] == 1
    assert state["remaining_size"] == pytest.approx(trade.amount)
    assert trade.stop_loss == pytest.approx(0.1)
    assert any(
        "state rebuilt from 2 filled orders: stored remaining_size=0.5 disagrees" in line
        for line in brain_lines(caplog, logging.WARNING)
    )
    live.step(0.1021)
    assert live.state()["tp_hits_count"] == 2
