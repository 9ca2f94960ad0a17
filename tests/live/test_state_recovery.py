"""Stored state that cannot be trusted is rebuilt from the trade's orders, with a warning.

Each case: TP1 filled (stop at breakeven), the bot stops, the custom-data row is damaged in the
database, a new bot starts. The state must come back from the orders (one TP hit, breakeven),
the stop must never loosen, TP1 must not repeat and TP2 must still fire.
"""

import json
import logging

import pytest

from tests.live.bot_harness import brain_lines, exit_orders


TP1_TICK = 0.1011


def _stored_after_tp1(live):
    live.start_bot()
    live.open_trade()
    live.walk([0.1005, TP1_TICK])
    assert live.trade().stop_loss == pytest.approx(0.1)
    return live.state()


def _old_schema(state):
    old = {key: value for key, value in state.items() if key not in {"version", "ratchets"}}
    old["tp_hit"] = old.pop("triggered_legs")  # a field renamed since
    return {**old, "version": 0}


def _hits_disagree(state):
    return {**state, "tp_hits_count": 2}


CORRUPTIONS = {
    "undecodable JSON": lambda state: ("dict", '{"version": 1, "pair": "ETH/BTC", '),
    "a string (foreign type)": lambda state: ("str", "tp1 done"),
    "an int row holding text": lambda state: ("int", "not-a-number"),
    "an older schema": lambda state: ("dict", json.dumps(_old_schema(state))),
    "hits that disagree": lambda state: ("dict", json.dumps(_hits_disagree(state))),
    "a size the orders contradict": lambda state: (
        "dict",
        json.dumps({**state, "remaining_size": 0.5, "leg_base_size": 0.5}),
    ),
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS), ids=list(CORRUPTIONS))
def test_damaged_state_is_rebuilt_from_the_orders_with_a_warning(live, caplog, damage):
    good = _stored_after_tp1(live)
    live.stop_bot()
    live.write_custom_data(*CORRUPTIONS[damage](good))
    caplog.clear()

    live.start_bot()
    live.step(TP1_TICK)
    trade = live.trade()
    assert trade.stop_loss == pytest.approx(0.1)  # never loosened
    warnings = brain_lines(caplog, logging.WARNING)
    assert any(
        "[EXIT_BRAIN_STATE] ETH/BTC LONG: state rebuilt from 2 filled orders" in line
        and "remaining_size=0.375, tp_hits_count=1, sl_reason=breakeven" in line
        for line in warnings
    ), warnings
    rebuilt = live.state()
    assert isinstance(rebuilt, dict)
    for key in ("triggered_legs", "tp_hits_count", "remaining_size", "active_sl", "sl_reason"):
        assert rebuilt[key] == good[key], key

    # The rebuilt state is stored for good: the next loops read it without a new warning.
    caplog.clear()
    live.walk([TP1_TICK, 0.1015])
    assert not brain_lines(caplog, logging.WARNING)
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]  # no repeat

    live.step(0.1021)
    trade = live.trade()
    assert [tag for tag, _, _ in exit_orders(trade)] == ["exit_brain_tp1", "exit_brain_tp2"]
    assert live.state()["tp_hits_count"] == 2
    assert trade.stop_loss == pytest.approx(0.101)


def test_state_missing_for_an_open_trade_is_built_from_its_orders_with_a_warning(live, caplog):
    # The plugin goes live while a trade is open: freqtrade opened it with the brain disabled.
    live.start_bot(brain={"enabled": False})
    live.open_trade()
    live.step(0.1005)
    assert live.state() is None
    live.stop_bot()
    caplog.clear()

    live.start_bot()
    live.step(0.1006)
    warnings = brain_lines(caplog, logging.WARNING)
    assert any(
        "state created from 1 filled orders (no stored state)" in line for line in warnings
    ), warnings
    state = live.state()
    assert state["entry_price"] == pytest.approx(0.1)
    assert [level[0] for level in state["tp_levels"]] == [0.101, 0.102, 0.104]
    assert state["remaining_size"] == pytest.approx(0.5)
    stop_before_tp1 = live.trade().stop_loss

    live.walk([TP1_TICK, TP1_TICK])
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]
    assert trade.stop_loss == pytest.approx(0.1)
    assert trade.stop_loss > stop_before_tp1


def test_state_deleted_after_tp1_comes_back_with_the_hit_and_the_breakeven_stop(live, caplog):
    good = _stored_after_tp1(live)
    live.delete_custom_data()  # deleted under the running bot
    caplog.clear()
    live.walk([TP1_TICK, TP1_TICK])
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]
    assert trade.stop_loss == pytest.approx(0.1)
    state = live.state()
    assert state["triggered_legs"] == good["triggered_legs"]
    assert state["sl_reason"] == "breakeven"
    assert any(
        "state rebuilt from 2 filled orders" in line or "(no stored state)" in line
        for line in brain_lines(caplog, logging.WARNING)
    )
