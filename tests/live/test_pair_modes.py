"""Per-pair modes in one dry-run bot (docs/behaviour.md §9.4, docs/rollout.md).

Three pairs walk the same ticks (the scripted exchange quotes one price for every pair): ETH/BTC
acts, LTC/BTC observes, BNB/BTC is off. Entry 0.1, 0.05 BTC each; TP1 0.101, TP2 0.102.
BNB/BTC is not in the shipped market snapshot: the tests add it as a copy of ETH/BTC's market.
"""

import copy
import json
import logging
import sqlite3

import pytest
from freqtrade.exceptions import ConfigurationError
from freqtrade.freqtradebot import FreqtradeBot
from freqtrade.persistence import Trade
from freqtrade.rpc import RPC

from exit_brain_plugin.adapter.tools.offline import ENV_VAR
from tests.live.bot_harness import (
    REPO,
    brain_lines,
    exit_orders,
    make_config,
    write_config_file,
)


PAIRS = ["ETH/BTC", "LTC/BTC", "BNB/BTC"]
# ETH/BTC exact; "LTC/B*" (6 characters) beats "*/BTC" (5) for LTC/BTC; BNB/BTC only "*/BTC".
ROLLOUT = {"ETH/BTC": "act", "LTC/B*": "observe", "*/BTC": "off"}
HOST_STOP = 0.080001  # the host strategy's -20 %, fees in
TICKS = [0.1005, 0.1011, 0.1015, 0.1021]  # TP1 on the 2nd tick, TP2 on the 4th


@pytest.fixture(autouse=True)
def _three_markets(tmp_path, monkeypatch):
    markets = json.loads((REPO / "user_data/markets/binance-markets.json").read_text("utf-8"))
    bnb = copy.deepcopy(markets["ETH/BTC"])
    bnb.update({"symbol": "BNB/BTC", "id": "BNBBTC", "base": "BNB", "baseId": "BNB"})
    markets["BNB/BTC"] = bnb
    path = tmp_path / "markets.json"
    path.write_text(json.dumps(markets), encoding="utf-8")
    monkeypatch.setenv(ENV_VAR, str(path))


def _brain(pair_modes):
    section = json.loads((REPO / "config.json").read_text(encoding="utf-8"))["exit_brain"]
    return {**section, "pair_modes": pair_modes}


def _start(live, pair_modes):
    config = make_config(live.tmp_path, brain=_brain(pair_modes))
    config["exchange"]["pair_whitelist"] = list(PAIRS)
    config["max_open_trades"] = len(PAIRS)
    live.start_bot(config=config)


def _config_file(live, pair_modes):
    exchange = json.loads((REPO / "config.json").read_text(encoding="utf-8"))["exchange"]
    exchange.update({"pair_whitelist": list(PAIRS), "enable_ws": False})
    return write_config_file(
        live.tmp_path / "config.json",
        live.tmp_path,
        exchange=exchange,
        max_open_trades=len(PAIRS),
        exit_brain=_brain(pair_modes),
    )


def _open_all(live):
    live.strategy.live_enter = True
    live.step()
    live.strategy.live_enter = False
    trades = _open_trades()
    assert sorted(trades) == sorted(PAIRS)
    return trades


def _open_trades():
    return {trade.pair: trade for trade in Trade.get_trades_proxy(is_open=True)}


def _rows(live, trade_id):
    """Return every custom-data row of a trade: {key: decoded value}."""
    with sqlite3.connect(live.tmp_path / "trades.sqlite") as db:
        rows = db.execute(
            "SELECT cd_key, cd_type, cd_value FROM trade_custom_data WHERE ft_trade_id=?",
            (trade_id,),
        ).fetchall()
    return {key: json.loads(value) if kind == "dict" else value for key, kind, value in rows}


def _lines_for(caplog, pair):
    """Return the brain's lines about ``pair`` (the mode line lists every pair: not counted)."""
    return [
        line
        for line in brain_lines(caplog)
        if pair in line and not line.startswith("[EXIT_BRAIN_EXECUTOR] Initialized in")
    ]


def test_act_observe_and_off_pairs_walk_the_same_ticks(live, caplog):
    _start(live, ROLLOUT)
    assert (
        "[EXIT_BRAIN_EXECUTOR] Initialized in SHADOW MODE (dry-run) - act: ETH/BTC | "
        "observe: LTC/BTC | off: BNB/BTC | other pairs: act"
    ) in brain_lines(caplog)
    trades = _open_all(live)
    ids = {pair: trade.id for pair, trade in trades.items()}
    live.walk(TICKS)

    # act: the ladder runs, the stop ratchets to TP1's price after TP2.
    eth = live.trade(ids["ETH/BTC"])
    assert exit_orders(eth) == [
        ("exit_brain_tp1", "closed", 0.125),
        ("exit_brain_tp2", "closed", 0.093),
    ]
    assert eth.amount == pytest.approx(0.282)
    assert eth.stop_loss == pytest.approx(0.101)
    eth_rows = _rows(live, ids["ETH/BTC"])
    assert set(eth_rows) == {"exit_brain"}
    assert eth_rows["exit_brain"]["mode"] == "act"
    assert eth_rows["exit_brain"]["triggered_legs"] == [1, 2]

    # observe: nothing sent, the stop is the host's; the would-be fills are booked.
    ltc = live.trade(ids["LTC/BTC"])
    assert exit_orders(ltc) == []
    assert ltc.amount == pytest.approx(0.5)
    assert ltc.stop_loss == pytest.approx(HOST_STOP)
    ltc_rows = _rows(live, ids["LTC/BTC"])
    assert set(ltc_rows) == {"exit_brain_observe", "exit_brain_shadow"}
    assert [(f["tag"], f["amount"]) for f in ltc_rows["exit_brain_shadow"]["fills"]] == [
        ("exit_brain_tp1", pytest.approx(0.12)),
        ("exit_brain_tp2", pytest.approx(0.09)),
    ]
    shadow = ltc_rows["exit_brain_observe"]
    assert shadow["mode"] == "observe"
    assert shadow["triggered_legs"] == [1, 2]
    assert shadow["remaining_size"] == pytest.approx(0.29)  # 0.5 - 0.12 - 0.09 (step 0.01)
    assert shadow["active_sl"] == pytest.approx(0.101)
    observed = _lines_for(caplog, "LTC/BTC")
    for expected in (
        "LTC/BTC LONG: TP1 HIT @ $0.1011 (TP=$0.1010) - Closing 0.1200",
        "LTC/BTC LONG: TP2 HIT @ $0.1021 (TP=$0.1020) - Closing 0.0900",
        "SL ratcheted $0.0800 → $0.1000 - breakeven after TP1",
    ):
        found = [line for line in observed if expected in line]
        assert found, (expected, observed)
        assert all(line.endswith("[OBSERVE: not executed]") for line in found)

    # off: untouched. No exit, the host's stop, no state, not one brain line.
    bnb = live.trade(ids["BNB/BTC"])
    assert exit_orders(bnb) == []
    assert bnb.amount == pytest.approx(0.5)
    assert bnb.stop_loss == pytest.approx(HOST_STOP)
    assert _rows(live, ids["BNB/BTC"]) == {"exit_brain_mode": "off"}
    assert _lines_for(caplog, "BNB/BTC") == []
    assert not [line for line in _lines_for(caplog, "ETH/BTC") if "OBSERVE" in line]


def test_off_pair_loss_is_left_to_the_host(live, caplog):
    # The loss guard (-12.5 %) fires for the act pair only; the off pair keeps the host's stop.
    _start(live, ROLLOUT)
    ids = {pair: trade.id for pair, trade in _open_all(live).items()}
    live.walk([0.095, 0.0870, 0.0865])
    eth = live.trade(ids["ETH/BTC"])
    assert not eth.is_open
    assert eth.exit_reason == "exit_brain_loss_guard"
    for pair in ("LTC/BTC", "BNB/BTC"):
        trade = live.trade(ids[pair])
        assert trade.is_open
        assert exit_orders(trade) == []
        assert trade.stop_loss == pytest.approx(HOST_STOP)
    assert live.state(ids["LTC/BTC"], key="exit_brain_observe")["loss_guard_triggered"] is True
    assert _lines_for(caplog, "BNB/BTC") == []
    guard = [line for line in brain_lines(caplog, logging.WARNING) if "LTC/BTC" in line]
    assert guard
    assert all(line.endswith("[OBSERVE: not executed]") for line in guard)


FLIPPED = {"ETH/BTC": "observe", "*/BTC": "act"}


@pytest.mark.parametrize("how", ["reload_config", "restart"])
def test_a_rollout_change_keeps_open_positions_and_applies_to_the_next(live, caplog, how):
    config_file = _config_file(live, ROLLOUT)
    live.start_worker(config_file)
    first = {pair: trade.id for pair, trade in _open_all(live).items()}

    _config_file(live, FLIPPED)
    caplog.clear()
    if how == "reload_config":
        live.reload_config()
    else:
        live.stop_bot()
        live.start_worker(config_file)
    assert (
        "[EXIT_BRAIN_EXECUTOR] Initialized in SHADOW MODE (dry-run) - act: BNB/BTC, LTC/BTC | "
        "observe: ETH/BTC | off: none | other pairs: act"
    ) in brain_lines(caplog)

    # Open positions keep the mode they were created with.
    live.walk([0.1005, 0.1011])
    assert exit_orders(live.trade(first["ETH/BTC"])) == [("exit_brain_tp1", "closed", 0.125)]
    assert live.trade(first["ETH/BTC"]).stop_loss == pytest.approx(0.1)
    assert exit_orders(live.trade(first["LTC/BTC"])) == []
    assert live.state(first["LTC/BTC"], key="exit_brain_observe")["triggered_legs"] == [1]
    assert live.state(first["LTC/BTC"]) is None
    assert exit_orders(live.trade(first["BNB/BTC"])) == []
    assert live.trade(first["BNB/BTC"]).stop_loss == pytest.approx(HOST_STOP)
    assert _rows(live, first["BNB/BTC"]) == {"exit_brain_mode": "off"}
    assert _lines_for(caplog, "BNB/BTC") == []

    # They close (here by /forceexit); the next position of each pair takes the new mode.
    RPC(live.bot)._rpc_force_exit("all")
    live.step(0.1)
    assert _open_trades() == {}
    second = {pair: trade.id for pair, trade in _open_all(live).items()}
    assert set(second.values()).isdisjoint(first.values())
    live.walk([0.1005, 0.1011])
    assert exit_orders(live.trade(second["ETH/BTC"])) == []
    assert live.state(second["ETH/BTC"], key="exit_brain_observe")["mode"] == "observe"
    for pair in ("LTC/BTC", "BNB/BTC"):
        trade = live.trade(second[pair])
        assert exit_orders(trade)[0][:2] == ("exit_brain_tp1", "closed"), pair
        assert live.state(second[pair])["mode"] == "act"
    assert any("BNB/BTC LONG: TP1 HIT" in line for line in brain_lines(caplog))


def test_a_state_from_the_previous_release_takes_the_mode_resolved_now_once(live, caplog):
    # The previous release wrote no "mode": the first bot with this release resolves it
    # (ETH/BTC acts), writes it back, and a later rollout change does not flip it.
    _start(live, {})
    trade_id = _open_all(live)["ETH/BTC"].id
    legacy = live.state(trade_id)
    del legacy["mode"]
    live.write_custom_data("dict", json.dumps(legacy), trade_id=trade_id)

    _start(live, {"ETH/BTC": "act"})
    live.step(0.1005)
    assert live.state(trade_id)["mode"] == "act"
    assert any(
        "ETH/BTC: state from an earlier release runs in mode=act" in line
        for line in brain_lines(caplog)
    )

    _start(live, {"ETH/BTC": "off"})
    live.step(0.1011)
    assert exit_orders(live.trade(trade_id)) == [("exit_brain_tp1", "closed", 0.125)]
    assert live.state(trade_id)["triggered_legs"] == [1]


def test_an_unknown_mode_stops_the_bot_with_one_line_naming_the_key_and_the_pattern(live):
    config = make_config(live.tmp_path, brain=_brain({"ETH/BTC": "act", "*/USDT": "shadow"}))
    with pytest.raises(ConfigurationError) as raised:
        FreqtradeBot(config)
    assert str(raised.value) == (
        'Invalid exit_brain setting: exit_brain.pair_modes["*/USDT"] must be one of "act", '
        '"observe", "off", was \'shadow\''
    )
