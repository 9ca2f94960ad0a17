"""Backtests run every position in ``mode``: ``pair_modes`` is a rollout tool of running bots."""

from tests.integration.backtest_harness import Candle as C
from tests.integration.backtest_harness import exit_orders, make_config, run_backtest


ROWS = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1015, 0.0999, 0.1010),  # 2 TP1 touched inside: fills at exactly 0.101
    C(0.1010, 0.1012, 0.1003, 0.1005),  # 3 nothing
    C(0.1005, 0.1006, 0.0998, 0.0999),  # 4 breakeven stop 0.1000 hit
    C(0.0999, 0.1000, 0.0998, 0.0999),  # 5
]


def test_backtest_ignores_pair_modes_and_acts_on_every_pair(caplog):
    config = make_config()
    config["exit_brain"] = {**config["exit_brain"], "pair_modes": {"*": "off", "ETH/*": "observe"}}
    run = run_backtest(ROWS, config)
    (trade,) = run.trades
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 0.125, 0.101),
        ("exit_brain_stop_breakeven", 0.375, 0.1),
    ]
    assert run.states[trade.id]["mode"] == "act"
    assert "[EXIT_BRAIN_EXECUTOR] Initialized in BACKTEST MODE\n" in caplog.text + "\n"
    assert "other pairs:" not in caplog.text
