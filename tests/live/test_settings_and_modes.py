"""Settings at startup, on /reload_config and from the environment; SHADOW, LIVE and OBSERVE."""

import json
import logging
import math
import re
from datetime import timedelta

import pytest
from freqtrade.exceptions import ConfigurationError
from freqtrade.freqtradebot import FreqtradeBot

from tests.live.bot_harness import (
    REPO,
    brain_lines,
    exit_orders,
    make_config,
    write_config_file,
)


GUARD_STOP = 0.087676


def _brain_section():
    return json.loads((REPO / "config.json").read_text(encoding="utf-8"))["exit_brain"]


INVALID = {
    "enabled": ("yes", "exit_brain.enabled must be true or false, was 'yes'"),
    "mode": ("shadow", 'exit_brain.mode must be one of "act", "observe", was \'shadow\''),
    "tp_profile": ([0.25, 0.25, 1.5], "exit_brain.tp_profile[2] must be in (0, 1], was 1.5"),
    "tp_distances": ([0.02, 0.01, 0.04], "exit_brain.tp_distances[1] must be greater than"),
    "tp_atr_multipliers": ([0, 1, 2], "exit_brain.tp_atr_multipliers[0] must be in (0, 1000]"),
    "size_basis": ("half", "exit_brain.size_basis must be one of"),
    "max_tp_levels": (0, "exit_brain.max_tp_levels must be a whole number in [1, 20], was 0"),
    "ratchet_sl_enabled": (1, "exit_brain.ratchet_sl_enabled must be true or false, was 1"),
    "ratchet_rule": ("trail", "exit_brain.ratchet_rule must be one of"),
    "ratchet_offset": (-0.1, "exit_brain.ratchet_offset must be in [0, 0.5], was -0.1"),
    "loss_guard_enabled": ("false", "exit_brain.loss_guard_enabled must be true or false"),
    "max_unrealized_loss_pct": (0, "exit_brain.max_unrealized_loss_pct must be in (0, 100]"),
    "max_unrealized_loss_pct=NaN": (
        math.nan,
        "exit_brain.max_unrealized_loss_pct must be a finite number",
    ),
    "an unknown key": (5, "exit_brain.max_loss is not a known setting"),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_each_invalid_setting_stops_the_bot_at_startup_naming_the_key(live, case):
    value, message = INVALID[case]
    key = {"an unknown key": "max_loss"}.get(case, case.split("=")[0])
    config = make_config(live.tmp_path, brain={**_brain_section(), key: value})
    with pytest.raises(ConfigurationError, match=re.escape(message)) as raised:
        FreqtradeBot(config)
    assert str(raised.value).startswith("Invalid exit_brain setting: exit_brain.")


def test_environment_override_sets_the_loss_guard_threshold(live, monkeypatch, caplog):
    monkeypatch.setenv("FREQTRADE__EXIT_BRAIN__MAX_UNREALIZED_LOSS_PCT", "5")
    live.start_bot()
    assert live.strategy.eb_config.max_unrealized_loss_pct == 5.0
    assert any("max_unrealized_loss_pct=5.0" in line for line in brain_lines(caplog))
    live.open_trade()
    assert live.trade().stop_loss == pytest.approx(0.095191)  # -5 % PnL, fees in
    live.step(0.0948)
    trade = live.trade()
    assert not trade.is_open
    assert trade.exit_reason == "exit_brain_loss_guard"


def test_an_invalid_environment_override_is_rejected_naming_the_key(live, monkeypatch):
    monkeypatch.setenv("FREQTRADE__EXIT_BRAIN__MAX_UNREALIZED_LOSS_PCT", "-1")
    with pytest.raises(ConfigurationError, match=r"exit_brain\.max_unrealized_loss_pct"):
        live.start_bot()


def _worker_with_open_trade(live):
    config_file = write_config_file(live.tmp_path / "config.json", live.tmp_path)
    live.start_worker(config_file)
    live.open_trade()
    live.step(0.097)  # -3.2 %: nothing
    trade = live.trade()
    assert trade.is_open
    assert trade.stop_loss == pytest.approx(GUARD_STOP)
    return config_file


def test_reload_config_with_a_tighter_threshold_applies_to_the_open_trade_next_loop(live, caplog):
    config_file = _worker_with_open_trade(live)
    write_config_file(
        config_file, live.tmp_path, exit_brain={**_brain_section(), "max_unrealized_loss_pct": 5}
    )
    live.reload_config()
    assert live.strategy.eb_config.max_unrealized_loss_pct == 5
    assert any("max_unrealized_loss_pct=5" in line for line in brain_lines(caplog))
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP)  # nothing moved yet

    live.step(0.097)  # the next loop: the guard's stop moves to the new threshold
    trade = live.trade()
    assert trade.is_open
    assert trade.stop_loss == pytest.approx(0.095191)
    live.step(0.0949)
    trade = live.trade()
    assert not trade.is_open
    assert trade.exit_reason == "exit_brain_loss_guard"
    assert live.state()["exit_kind"] == "loss_guard"


def test_reload_config_with_an_invalid_value_stops_with_a_clear_error_and_loses_nothing(
    live, caplog
):
    config_file = _worker_with_open_trade(live)
    before = live.state()
    write_config_file(
        config_file, live.tmp_path, exit_brain={**_brain_section(), "max_unrealized_loss_pct": -1}
    )
    with pytest.raises(ConfigurationError) as raised:
        live.reload_config()
    assert str(raised.value) == (
        "Invalid exit_brain setting: exit_brain.max_unrealized_loss_pct must be in (0, 100], was -1"
    )
    # freqtrade.main logs it as "Configuration error: ..." and the process ends. The trade,
    # its stop and the brain's state are in the database, untouched.
    assert live.state() == before

    write_config_file(config_file, live.tmp_path)  # the operator fixes the file, restarts
    live.start_worker(config_file)
    trade = live.trade()
    assert trade.is_open
    assert trade.stop_loss == pytest.approx(GUARD_STOP)
    live.step(0.1011)
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]


def test_dry_run_logs_shadow_mode(live, caplog):
    live.start_bot()
    assert "[EXIT_BRAIN_EXECUTOR] Initialized in SHADOW MODE (dry-run)" in brain_lines(caplog)


def test_live_logs_live_mode(live, caplog):
    live.start_bot(dry_run=False)
    assert live.bot.config["dry_run"] is False
    assert "[EXIT_BRAIN_EXECUTOR] Initialized in LIVE MODE" in brain_lines(caplog)


OBSERVE_TICKS = [0.1005, 0.1011, 0.1015, 0.1021, 0.1026]


def _host_run(live, brain, strategy):
    live.start_bot(brain=brain, extra={"live_host_exit_profit": 0.02, "strategy": strategy})
    live.open_trade()
    live.walk(OBSERVE_TICKS)
    return live.trade()


def test_observe_mode_executes_nothing_logs_every_decision_and_keeps_the_host_exits(live, caplog):
    trade = _host_run(live, {**_brain_section(), "mode": "observe"}, "ExitBrainLiveStrategy")
    assert "[EXIT_BRAIN_EXECUTOR] Initialized in OBSERVE MODE" in brain_lines(caplog)
    # Nothing executed: the only exit is the host's own, of the whole position.
    assert not trade.is_open
    assert exit_orders(trade) == [("host_take_profit", "closed", 0.5)]
    assert trade.exit_reason == "host_take_profit"
    assert trade.stop_loss == pytest.approx(0.080001)  # the host's -20 %, never moved
    assert live.state() is None  # the acting state was never written
    shadow = live.state(key="exit_brain_observe")
    assert shadow["triggered_legs"] == [1, 2]
    observed = [line for line in brain_lines(caplog) if line.endswith("[OBSERVE: not executed]")]
    for expected in (
        "TP1 HIT @ $0.1011 (TP=$0.1010) - Closing 0.1250",
        "TP2 HIT @ $0.1021 (TP=$0.1020) - Closing 0.0930",
        "SL ratcheted $0.0800 → $0.1000 - breakeven after TP1",
        "SL ratcheted $0.1000 → $0.1010 - TP1 price after TP2 hit",
    ):
        assert any(expected in line for line in observed), (expected, observed)


@pytest.mark.parametrize(
    ("strategy", "mode"),
    [("ExitBrainLiveHost", None), ("ExitBrainLiveStrategy", "observe")],
    ids=["host alone", "host with the brain observing"],
)
def test_observe_mode_leaves_the_host_exit_exactly_as_without_the_brain(live, strategy, mode):
    brain = None if mode is None else {**_brain_section(), "mode": mode}
    trade = _host_run(live, brain, strategy)
    assert exit_orders(trade) == [("host_take_profit", "closed", 0.5)]
    assert trade.close_rate == pytest.approx(0.1026)
    assert trade.close_date_utc == live.started_at + timedelta(minutes=6)


def test_observe_mode_logs_the_loss_guard_it_would_fire_and_leaves_the_position(live, caplog):
    live.start_bot(brain={**_brain_section(), "mode": "observe"})
    live.open_trade()
    live.walk([0.095, 0.0870, 0.0865])
    trade = live.trade()
    assert trade.is_open  # the host's -20 % stop has not been reached
    assert exit_orders(trade) == []
    guard = [line for line in brain_lines(caplog, logging.WARNING) if "LOSS GUARD" in line]
    assert guard[0].startswith("[EXIT_LOSS_GUARD] 🚨 ETH/BTC LONG: LOSS GUARD TRIGGERED")
    assert all(line.endswith("[OBSERVE: not executed]") for line in guard)
    assert len([line for line in guard if "TRIGGERED" in line]) == 1
    assert live.state(key="exit_brain_observe")["loss_guard_triggered"] is True
