"""A real dry-run walk in observe mode, then ``exit-brain shadow`` on its database.

Entry 0.1 with 0.05 BTC (0.5 ETH), ladder 0.101 / 0.102 / 0.104, the host exits the whole position
at +2 % profit. The brain observes: TP1 on 0.1011 (0.125), then its breakeven stop on 0.0999 (the
rest, 0.375); the host's own exit comes at 0.1026. The report's would-be fills must be the ones
the observe state booked (and logged), priced at the decision ticks.
"""

import json

import pytest

from exit_brain_plugin.adapter.tools.cli import main
from tests.live.bot_harness import brain_lines, exit_orders
from tests.live.test_settings_and_modes import _brain_section


WALK = [0.1005, 0.1011, 0.0999, 0.1015, 0.1026]


def _observed_walk(live):
    live.start_bot(
        brain={**_brain_section(), "mode": "observe"},
        extra={"live_host_exit_profit": 0.02},
    )
    live.open_trade()
    live.walk(WALK)
    trade = live.trade()
    assert not trade.is_open
    assert exit_orders(trade) == [("host_take_profit", "closed", 0.5)]
    return trade


def test_shadow_report_of_an_observed_dry_run_walk_prices_the_booked_would_be_fills(
    live, caplog, capsys, monkeypatch
):
    check_observed_walk(live, caplog, capsys, monkeypatch, str(live.tmp_path / "trades.sqlite"))


def check_observed_walk(live, caplog, capsys, monkeypatch, target):
    """Walk in observe mode, then check ``exit-brain shadow TARGET`` (the bot's database)."""
    trade = _observed_walk(live)
    fee, actual = trade.fee_close, trade.close_profit_abs
    state = live.state(key="exit_brain_observe")
    ledger = live.state(key="exit_brain_shadow")
    live.stop_bot()

    assert main(["shadow", target, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (position,) = report["positions"]
    assert position["mode"] == "observe"
    assert position["actual_pnl"] == pytest.approx(actual)

    # The report's would-be fills are the state's booked fills, at the decision ticks.
    fills = [(f["kind"], f["legs"], f["amount"], f["price"]) for f in position["would_fills"]]
    assert fills == [
        ("take_profit", [1], 0.125, 0.1011),
        ("stop", [], 0.375, 0.0999),
    ]
    assert fills == [(f["kind"], f["legs"], f["amount"], f["price"]) for f in ledger["fills"]]
    assert position["would_tp_legs"] == state["triggered_legs"] == [1]
    assert position["would_ratchets"] == [r[3] for r in state["ratchets"]] == ["breakeven"]
    assert position["would_stop"] == "breakeven"
    assert state["exit_kind"] == "stop:breakeven"
    assert position["held_at_final_exit"] == pytest.approx(state["remaining_size"]) == 0.0
    observed = [line for line in brain_lines(caplog) if line.endswith("[OBSERVE: not executed]")]
    assert any("TP1 HIT @ $0.1011 (TP=$0.1010) - Closing 0.1250" in line for line in observed)

    # By hand, fees included: the host sold 0.5 at 0.1026; the brain 0.125 at 0.1011 and
    # 0.375 at 0.0999. Entries are the same in both.
    actual_exits = 0.5 * 0.1026 * (1 - fee)
    would_exits = (0.125 * 0.1011 + 0.375 * 0.0999) * (1 - fee)
    assert position["would_pnl"] == pytest.approx(actual + would_exits - actual_exits, abs=1e-12)
    assert position["difference"] == pytest.approx(would_exits - actual_exits, abs=1e-12)
    assert position["difference"] < 0  # the ladder would have cost here
    totals = report["modes"]["observe"]
    assert totals["would_have_cost"]["positions"] == 1
    assert totals["would_tp_hits"] == {"tp1": 1}
    assert totals["would_ratchets"] == {"breakeven": 1}

    # The console report prints the same figures.
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["shadow", target]) == 0
    text = capsys.readouterr().out
    print(text)
    assert "TP1 0.125@0.1011, STOP(breakeven) 0.375@0.0999" in text
    return report


def test_a_damaged_observe_state_is_rebuilt_from_the_shadow_ledger_without_a_repeat(live, caplog):
    live.start_bot(brain={**_brain_section(), "mode": "observe"})
    live.open_trade()
    live.walk([0.1005, 0.1011])
    good = live.state(key="exit_brain_observe")
    assert good["triggered_legs"] == [1]
    live.stop_bot()
    live.write_custom_data("str", "tp1 done", key="exit_brain_observe")
    caplog.clear()

    live.start_bot(brain={**_brain_section(), "mode": "observe"})
    live.walk([0.1011, 0.1015])
    rebuilt = live.state(key="exit_brain_observe")
    for key in ("triggered_legs", "remaining_size", "active_sl", "sl_reason", "ratchets"):
        assert rebuilt[key] == good[key], key
    assert any("state rebuilt from" in line for line in brain_lines(caplog))
    assert not [line for line in brain_lines(caplog) if "TP1 HIT" in line]  # no repeat
    live.step(0.1021)
    ledger = live.state(key="exit_brain_shadow")
    assert [fill["legs"] for fill in ledger["fills"]] == [[1], [2]]
