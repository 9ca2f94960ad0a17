"""Backtest fills that never flatter (docs/behaviour.md §6): hand-built candles.

- A stop the candle opens beyond (initial, ratcheted, loss guard) fills at that open, not at
  the stop price the candle's extreme comes back to.
- A candle whose open is also its high or low, stored one float step off the exchange's tick
  (``numpy.nextafter``), fills an exit priced at that open on that candle: freqtrade rounds the
  price to the tick and tests ``low <= price <= high`` (optimize/backtesting.py
  ``_get_order_filled``), which one float step used to fail.

The scenarios that are candles and settings only are rows of the scenario table
(``tests/integration/scenarios_fills.py``), run by
``test_backtest_scenarios.py``; the ones below need a second run or a patched rule.

ETH/BTC's tick is 0.000001; XRP/USDT:USDT's is 0.0001.
"""

import pandas as pd

from tests.integration.backtest_harness import Candle as C
from tests.integration.backtest_harness import exit_orders, make_config, run_backtest
from tests.integration.scenarios import LONG_ENTRY, below


def _date(run, index: int) -> pd.Timestamp:
    return run.frame["date"].iloc[index]


def _closed_at(trade) -> pd.Timestamp:
    return pd.Timestamp(trade.close_date_utc)


def test_compare_brain_off_fills_a_stop_gap_at_the_open_like_the_brain():
    from exit_brain_plugin.adapter.tools.compare import _same_fill_rules

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
