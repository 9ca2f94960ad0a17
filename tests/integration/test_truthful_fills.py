"""Backtest fills that never flatter (docs/behaviour.md §6): hand-built candles.

- A stop the candle opens beyond (initial, ratcheted, loss guard) fills at that open, not at
  the stop price the candle's extreme comes back to.
- A candle whose open is also its high or low, stored one float step off the exchange's tick
  (``numpy.nextafter``), fills an exit priced at that open on that candle: freqtrade rounds the
  price to the tick and tests ``low <= price <= high`` (optimize/backtesting.py
  ``_get_order_filled``), which one float step used to fail.

ETH/BTC's tick is 0.000001; XRP/USDT:USDT's is 0.0001.
"""

import numpy as np
import pandas as pd
import pytest

from tests.integration.backtest_harness import Candle as C
from tests.integration.backtest_harness import exit_orders, make_config, run_backtest


def above(price: float) -> float:
    """``price`` as stored one float step above the tick."""
    return float(np.nextafter(price, np.inf))


def below(price: float) -> float:
    """``price`` as stored one float step below the tick."""
    return float(np.nextafter(price, -np.inf))


def _date(run, index: int) -> pd.Timestamp:
    return run.frame["date"].iloc[index]


def _closed_at(trade) -> pd.Timestamp:
    return pd.Timestamp(trade.close_date_utc)


def _filled_at(trade, tag: str) -> pd.Timestamp:
    order = next(o for o in trade.orders if o.ft_order_tag == tag and (o.safe_filled or 0) > 0)
    return pd.Timestamp(order.order_filled_utc)


LONG_ENTRY = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1015, 0.0999, 0.1010),  # 2 TP1 fills at 0.101; stop -> 0.1000 (breakeven)
]


def test_long_ratcheted_stop_the_candle_opens_below_fills_at_the_open():
    rows = [
        *LONG_ENTRY,
        C(0.0993, 0.1003, 0.0990, 0.0995),  # 3 opens 0.7 % below breakeven, high back above it
        C(0.0995, 0.0996, 0.0994, 0.0995),  # 4
    ]
    run = run_backtest(rows, make_config())
    (trade,) = run.trades
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 0.125, 0.101),
        ("exit_brain_stop_breakeven", 0.375, 0.0993),
    ]
    assert _closed_at(trade) == _date(run, 3)
    assert run.states[trade.id]["exit_kind"] == "stop:breakeven"


def test_long_stop_gap_at_an_open_stored_one_float_step_below_the_tick_fills_on_that_candle():
    rows = [
        *LONG_ENTRY,
        C(below(0.0993), below(0.0993), 0.0990, 0.0991),  # 3 opens at its high below breakeven
        C(0.0991, 0.0999, 0.0985, 0.0998),  # 4 a later candle must not get the exit
        C(0.0998, 0.0999, 0.0997, 0.0998),  # 5
    ]
    run = run_backtest(rows, make_config())
    (trade,) = run.trades
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 0.125, 0.101),
        ("exit_brain_stop_breakeven", 0.375, 0.0993),
    ]
    assert _closed_at(trade) == _date(run, 3)


def test_long_initial_stop_the_candle_opens_below_fills_at_the_open():
    # stoploss -0.5 in the test host: initial stop 0.05; the loss guard is off here.
    config = make_config()
    config["exit_brain"] = {**config["exit_brain"], "loss_guard_enabled": False}
    rows = [
        C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
        C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; stop 0.05
        C(0.0400, 0.0520, 0.0390, 0.0450),  # 2 opens below 0.05, high back above: open 0.04
        C(0.0450, 0.0460, 0.0440, 0.0450),  # 3
    ]
    run = run_backtest(rows, config)
    (trade,) = run.trades
    assert exit_orders(trade) == [("exit_brain_stop_initial", 0.5, 0.04)]
    assert _closed_at(trade) == _date(run, 2)


def test_long_loss_guard_gap_at_an_open_stored_one_float_step_below_the_tick_fills_there():
    rows = [
        C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
        C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry; guard price 0.0875 (-12.5 %)
        C(below(0.0870), below(0.0870), 0.0860, 0.0865),  # 2 opens at its high beyond the guard
        C(0.0865, 0.0880, 0.0860, 0.0870),  # 3
        C(0.0870, 0.0871, 0.0869, 0.0870),  # 4
    ]
    run = run_backtest(rows, make_config())
    (trade,) = run.trades
    assert exit_orders(trade) == [("exit_brain_loss_guard", 0.5, 0.087)]
    assert _closed_at(trade) == _date(run, 2)


def test_long_take_profit_gap_at_an_open_stored_one_float_step_above_the_tick_fills_there():
    rows = [
        C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
        C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry; TP1 0.101 rests
        C(above(0.1015), 0.1018, above(0.1015), 0.1017),  # 2 opens at its low beyond TP1
        C(0.1017, 0.1019, 0.1012, 0.1018),  # 3 TP1 must not wait for this candle
        C(0.1018, 0.1019, 0.1017, 0.1018),  # 4
    ]
    run = run_backtest(rows, make_config())
    (trade,) = run.trades
    assert exit_orders(trade)[0] == ("exit_brain_tp1", 0.125, 0.1015)
    assert _filled_at(trade, "exit_brain_tp1") == _date(run, 2)


SHORT_ENTRY = [
    C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
    C(1.000, 1.002, 0.995, 1.000),  # 1 entry at 1.000 (3x); TP1 0.99 rests
    C(1.000, 1.001, 0.989, 0.990),  # 2 TP1 fills at 0.99; stop -> 1.000 (breakeven)
]


def _futures():
    return make_config(futures=True, extra={"test_leverage": 3.0})


def test_short_ratcheted_stop_the_candle_opens_above_fills_at_the_open():
    rows = [
        *SHORT_ENTRY,
        C(1.007, 1.008, 0.998, 1.004),  # 3 opens 0.7 % above breakeven, low back below it
        C(1.004, 1.005, 1.003, 1.004),  # 4
    ]
    run = run_backtest(rows, _futures())
    (trade,) = run.trades
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 75.0, 0.99),
        ("exit_brain_stop_breakeven", 225.0, 1.007),
    ]
    assert _closed_at(trade) == _date(run, 3)


def test_short_stop_gap_at_an_open_stored_one_float_step_above_the_tick_fills_on_that_candle():
    rows = [
        *SHORT_ENTRY,
        C(above(1.007), 1.009, above(1.007), 1.008),  # 3 opens at its low above breakeven
        C(1.008, 1.009, 1.001, 1.002),  # 4 a later candle must not get the exit
        C(1.002, 1.003, 1.001, 1.002),  # 5
    ]
    run = run_backtest(rows, _futures())
    (trade,) = run.trades
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 75.0, 0.99),
        ("exit_brain_stop_breakeven", 225.0, 1.007),
    ]
    assert _closed_at(trade) == _date(run, 3)


def test_short_take_profit_gap_at_an_open_stored_one_float_step_below_the_tick_fills_there():
    rows = [
        C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
        C(1.000, 1.002, 0.995, 1.000),  # 1 entry at 1.000 (3x); TP1 0.99 rests
        C(below(0.985), below(0.985), 0.983, 0.984),  # 2 opens at its high beyond TP1
        C(0.984, 0.988, 0.982, 0.983),  # 3 TP1 must not wait for this candle
        C(0.983, 0.984, 0.982, 0.983),  # 4
    ]
    run = run_backtest(rows, _futures())
    (trade,) = run.trades
    assert exit_orders(trade)[0] == ("exit_brain_tp1", 75.0, 0.985)
    assert _filled_at(trade, "exit_brain_tp1") == _date(run, 2)


@pytest.mark.parametrize("short", [False, True], ids=["long", "short"])
def test_take_profit_touched_at_a_high_stored_one_float_step_off_the_tick_fills_there(short):
    # The resting level is exactly the candle's extreme, stored one float step short of it.
    if short:
        rows = [
            C(1.000, 1.000, 1.000, 1.000, enter_short=1),
            C(1.000, 1.002, 0.995, 1.000),  # 1 entry; TP1 0.99 rests
            C(0.995, 0.996, above(0.99), 0.992),  # 2 low is TP1, stored one step above it
            C(0.992, 0.994, 0.991, 0.993),  # 3
        ]
        config = _futures()
    else:
        rows = [
            C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),
            C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry; TP1 0.101 rests
            C(0.1005, below(0.101), 0.1004, 0.1008),  # 2 high is TP1, stored one step below
            C(0.1008, 0.1009, 0.1006, 0.1008),  # 3
        ]
        config = make_config()
    run = run_backtest(rows, config)
    (trade,) = run.trades
    tag, _, price = exit_orders(trade)[0]
    assert (tag, price) == ("exit_brain_tp1", 0.99 if short else 0.101)
    assert _filled_at(trade, "exit_brain_tp1") == _date(run, 2)


def test_compare_brain_off_fills_a_stop_gap_at_the_open_like_the_brain():
    from exit_brain_plugin.tools.compare import _same_fill_rules

    rows = [
        C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
        C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; stop 0.05
        C(0.0400, 0.0520, 0.0390, 0.0450),  # 2 opens below 0.05, high back above it
        C(0.0450, 0.0460, 0.0440, 0.0450),  # 3
    ]
    config = make_config()
    config["exit_brain"] = {**config["exit_brain"], "enabled": False}
    (plain,) = run_backtest(rows, config).trades
    (compared,) = run_backtest(rows, config, prepare=_same_fill_rules).trades
    # freqtrade alone fills at the stop price 0.05; compare's "brain off" at the open 0.04.
    assert exit_orders(plain) == [("stop_loss", 0.5, 0.05)]
    assert exit_orders(compared) == [("stop_loss", 0.5, 0.04)]


def test_a_stop_exit_stuck_on_its_candle_is_never_re_priced_to_a_better_price(monkeypatch):
    # Without the tick-edge rule the exit at candle 3's open misses it by one float step; the
    # next candle opens back above the stop: freqtrade alone would fill at the stop price 0.1,
    # above anything candle 3 traded. It fills at the stuck price 0.0993 (inside candle 4).
    from exit_brain_plugin.adapter import backtest

    monkeypatch.setattr(backtest, "FLOAT_NOISE", 0.0)
    rows = [
        *LONG_ENTRY,
        C(below(0.0993), below(0.0993), 0.0990, 0.0991),  # 3 opens at its high below breakeven
        C(0.1001, 0.1003, 0.0990, 0.0998),  # 4 opens above the stop, trades down through it
        C(0.0998, 0.0999, 0.0997, 0.0998),  # 5
    ]
    run = run_backtest(rows, make_config())
    (trade,) = run.trades
    assert exit_orders(trade)[-1] == ("exit_brain_stop_breakeven", 0.375, 0.0993)
    assert _closed_at(trade) == _date(run, 4)
