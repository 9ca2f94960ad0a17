"""Stop exits named by the stop that fired, in freqtrade's own exit-reason table (issue 8.4)."""

from freqtrade.optimize.optimize_reports import generate_tag_metrics

from tests.integration.backtest_harness import Candle as C
from tests.integration.backtest_harness import exit_orders, make_config, run_backtest


TWO_TRADES = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1015, 0.0999, 0.1010),  # 2 TP1 fills at 0.101; stop -> 0.1000 (breakeven)
    C(0.1005, 0.1006, 0.0998, 0.0999),  # 3 breakeven stop hit: exit_brain_stop_breakeven
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 4 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 5 entry at 0.1000
    C(0.1000, 0.1012, 0.1001, 0.1010),  # 6 TP1 0.101 fills; stop -> breakeven
    C(0.1010, 0.1021, 0.1005, 0.1019),  # 7 TP2 0.102 fills; stop -> 0.101 (TP1's price)
    C(0.1013, 0.1014, 0.1008, 0.1009),  # 8 stop 0.101 hit: exit_brain_stop_tp1
    C(0.1009, 0.1010, 0.1008, 0.1009),  # 9
]


def test_freqtrade_exit_reason_table_names_each_stop_by_kind():
    run = run_backtest(TWO_TRADES, make_config())
    first, second = run.trades
    assert exit_orders(first)[-1] == ("exit_brain_stop_breakeven", 0.375, 0.1)
    assert exit_orders(second)[-1] == ("exit_brain_stop_tp1", 0.282, 0.101)
    frame = run.frame
    table = generate_tag_metrics(
        "exit_reason", 0.2, run.results, frame["date"].min(), frame["date"].max()
    )
    rows = {row["key"]: row["trades"] for row in table}
    assert rows == {"exit_brain_stop_breakeven": 1, "exit_brain_stop_tp1": 1, "TOTAL": 2}
    assert not {"stop_loss", "trailing_stop_loss"} & set(run.results["exit_reason"])


def test_initial_stop_is_named_exit_brain_stop_initial_and_the_brain_off_keeps_stop_loss():
    rows = [
        C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
        C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry; stop 0.05 (stoploss -0.5)
        C(0.0600, 0.0600, 0.0450, 0.0500),  # 2 stop 0.05 hit inside the candle
        C(0.0500, 0.0510, 0.0490, 0.0500),  # 3
    ]
    config = make_config()
    config["exit_brain"] = {**config["exit_brain"], "loss_guard_enabled": False}
    (on,) = run_backtest(rows, config).trades
    config["exit_brain"] = {**config["exit_brain"], "enabled": False}
    (off,) = run_backtest(rows, config).trades
    assert (on.exit_reason, on.close_rate) == ("exit_brain_stop_initial", 0.05)
    assert (off.exit_reason, off.close_rate) == ("stop_loss", 0.05)
