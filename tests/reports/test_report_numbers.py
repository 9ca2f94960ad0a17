"""``exit-brain report`` on freqtrade exports of the hand-built backtest (scenario.py).

Numbers are hand-computed from the candles: stake 0.05 BTC at 0.1 (0.5 ETH), fee 0, initial
stop 0.080001 (freqtrade rounds a long's stop up to the 1e-6 tick), loss guard at 0.0875 (the
brain holds its stop on the intended tick, issue 9).
"""

import json

import pytest

from exit_brain_plugin.adapter.tools.cli import main


INITIAL_STOP = 0.080001


def _report(capsys, path, *extra):
    assert main(["report", str(path), *extra]) == 0
    return capsys.readouterr().out


def test_report_counts_levels_ratchets_stops_and_the_loss_guard(hand_built, capsys):
    (summary,) = json.loads(_report(capsys, hand_built["zips"]["on"], "--json")).values()
    assert summary["trades"] == 5
    # TP1: A, B, D (3 of 5); TP2: B, D (2 of 3 TP1s); TP3: none.
    assert summary["tp_hits"] == {"tp1": 3, "tp2": 2, "tp3": 0}
    assert summary["tp_conditional_rates"] == {"tp1": 0.6, "tp2|tp1": 0.6667, "tp3|tp2": 0.0}
    # Breakeven after TP1 (A, B); TP1's price after TP2 (B) and after the TP1+TP2 gap (D).
    assert summary["ratchets"] == {"breakeven": 2, "tp1": 2}
    events = [
        (e["tp_hits"], e["old_price"], e["new_price"], e["reason"])
        for e in summary["ratchet_events"]
    ]
    assert events == [
        (1, INITIAL_STOP, 0.1, "breakeven"),
        (1, INITIAL_STOP, 0.1, "breakeven"),
        (2, 0.1, 0.101, "tp1"),
        (2, INITIAL_STOP, 0.101, "tp1"),
    ]
    assert summary["stop_exits"] == {"initial": 0, "breakeven": 1, "tp1": 2}
    assert summary["loss_guard_fires"] == 1
    assert summary["loss_guard_by_day"] == {"2022-01-03": {"fires": 1, "colour": "green"}}
    assert summary["loss_guard_quiet_days"] == 1  # 2022-01-04, when E closed
    assert summary["exit_reasons"] == {
        "exit_brain_stop_breakeven": 1,
        "exit_brain_stop_tp1": 2,
        "exit_brain_loss_guard": 1,
        "exit_signal": 1,
    }


def test_profit_locked_is_what_each_last_ratchet_guaranteed_on_the_amount_still_open(
    hand_built, capsys
):
    (summary,) = json.loads(_report(capsys, hand_built["zips"]["on"], "--json")).values()
    # A: breakeven 0.1 on 0.375 guarantees 0; B and D: TP1's price 0.101 on 0.282 each.
    assert summary["profit_locked"]["breakeven"] == pytest.approx(0.0, abs=1e-12)
    assert summary["profit_locked"]["tp1"] == pytest.approx(2 * 0.001 * 0.282, abs=1e-10)
    assert summary["profit_locked_total"] == pytest.approx(0.000564, abs=1e-10)
    # Never more than the wallet's profit can justify: 0.000564 BTC of a 0.2 BTC wallet.
    b_move = next(e for e in summary["ratchet_events"] if e["reason"] == "tp1")
    assert b_move["remaining"] == pytest.approx(0.282)
    assert b_move["locked_pnl"] == pytest.approx(0.000282)
    out = _report(capsys, hand_built["zips"]["on"])
    assert (
        "Profit locked by ratchets: the PnL each position's last stop move guaranteed on the "
        "amount still open at that moment, fees excluded" in " ".join(out.split())
    )


def test_average_pnl_total_and_win_rate(hand_built, capsys):
    (summary,) = json.loads(_report(capsys, hand_built["zips"]["on"], "--json")).values()
    profits = {
        "A": 0.125 * 0.001,
        "B": 0.125 * 0.001 + 0.093 * 0.002 + 0.282 * 0.001,
        "C": 0.5 * (0.0875 - 0.1),
        "D": 0.218 * 0.0025 + 0.282 * 0.001,
        "E": 0.5 * (0.0999 - 0.1),
    }
    assert summary["total_profit_abs"] == pytest.approx(sum(profits.values()), abs=1e-8)
    mean_pct = 100 * sum(p / 0.05 for p in profits.values()) / 5
    assert summary["avg_profit_pct"] == pytest.approx(mean_pct, abs=1e-4)
    assert summary["win_rate"] == 0.6


def test_without_the_loss_guard_the_initial_stop_closes_c(hand_built, capsys):
    (summary,) = json.loads(_report(capsys, hand_built["zips"]["guard_off"], "--json")).values()
    assert summary["loss_guard_fires"] == 0
    assert summary["stop_exits"] == {"initial": 1, "breakeven": 1, "tp1": 2}
    assert "initial" not in summary["profit_locked"]  # nothing locked at the initial stop


def test_console_tables_show_levels_stops_and_the_coloured_day(hand_built, capsys):
    out = _report(capsys, hand_built["zips"]["on"])
    for text in ("EXIT BRAIN SUMMARY", "TP1", "60.0%", "66.7%", "breakeven", "TP1 price"):
        assert text in out
    assert "2022-01-03" in out
    assert "1 green" in out


def test_a_results_folder_reports_its_latest_export(hand_built, capsys):
    folder = hand_built["zips"]["on"].parent
    (summary,) = json.loads(_report(capsys, folder, "--json")).values()
    assert summary["trades"] == 5
