"""The ladder survives the world off the script (issue 9), through ``FreqtradeBot.process()``.

Spot long: ETH/BTC, entry 0.1, 0.5 ETH; TP1 0.101 (25 %), TP2 0.102, TP3 0.104; tick 0.000001,
amount step 0.001. Futures short: XRP/USDT:USDT isolated, entry 0.1, 100 USDT at 10x = 10000
XRP; TP1 0.099, TP2 0.098, TP3 0.096; tick 0.0001, amount step 0.1. The orders are the ground
truth (docs/behaviour.md §3): every test checks the stored state against them and that the
stop never loosened.
"""

import itertools
import json
import logging

import pytest

from tests.live.bot_harness import LiveHarness, brain_lines, exit_orders
from tests.live.offscript import force_exit, start


LONG = {"side": "long"}
SHORT = {"side": "short", "leverage": 10.0}


def _stops(live, prices):
    """Walk the prices; return the stop freqtrade holds after each loop."""
    held = []
    for price in prices:
        live.step(price)
        held.append(live.trade().stop_loss)
    return held


def _never_loosens(stops, *, short):
    for before, after in itertools.pairwise(stops):
        assert (after <= before) if short else (after >= before), stops


def _assert_state_follows_orders(live):
    trade = live.trade()
    state = live.state()
    assert state["remaining_size"] == pytest.approx(trade.amount, rel=1e-9)
    filled = {o.order_id for o in trade.orders if (o.safe_filled or 0) > 0 and not o.ft_is_open}
    if "booked_orders" in state:  # rows of the previous release have none
        assert set(state["booked_orders"]) == filled
    return state


# ---------------------------------------------------- 1. partial exits from outside


@pytest.mark.parametrize(
    ("market", "cut", "tp1_tick", "tp1_amount", "breakeven"),
    [(LONG, 0.2, 0.1011, 0.075, 0.1), (SHORT, 4000.0, 0.0989, 1500.0, 0.1)],
    ids=["spot-long", "futures-short-10x"],
)
def test_a_host_partial_exit_is_no_ladder_progress(
    live, caplog, market, cut, tp1_tick, tp1_amount, breakeven
):
    start(live, **market)
    trade = live.open_trade()
    live.strategy.host_adjust = -cut / trade.amount * trade.stake_amount
    live.step(0.1)  # the host sells 40 % of the position by itself
    assert exit_orders(live.trade()) == [("host_partial", "closed", cut)]
    _assert_state_follows_orders(live)

    live.step(tp1_tick)  # TP1 closes 25 % of what remains, not "already sold"
    trade = live.trade()
    assert exit_orders(trade)[-1] == ("exit_brain_tp1", "closed", tp1_amount)
    state = _assert_state_follows_orders(live)
    assert state["triggered_legs"] == [1]
    assert trade.stop_loss == pytest.approx(breakeven)
    assert not [line for line in brain_lines(caplog) if "merged into TP2" in line]


def test_forceexit_with_an_amount_is_no_ladder_progress(live):
    start(live, **LONG)
    live.open_trade()
    force_exit(live, 0.2)
    live.step(0.1)
    assert exit_orders(live.trade()) == [("force_exit", "closed", 0.2)]
    live.step(0.1011)
    trade = live.trade()
    assert exit_orders(trade)[-1] == ("exit_brain_tp1", "closed", 0.075)
    assert _assert_state_follows_orders(live)["tp_hits_count"] == 1
    assert trade.stop_loss == pytest.approx(0.1)
    live.step(0.1021)  # TP2: 25 % of the 0.225 left
    assert exit_orders(live.trade())[-1] == ("exit_brain_tp2", "closed", 0.056)
    assert live.trade().stop_loss == pytest.approx(0.101)


def test_forceexit_while_a_tp_rests_half_filled_leaves_the_level_its_share(live):
    start(live, **LONG)
    live.open_trade()
    live.exchange.script_exit("hold", filled_fraction=0.5)
    live.step(0.1011)  # TP1 (0.125) rests with 0.062 filled
    force_exit(live, 0.1)  # cancels the TP (0.062 stays sold at TP1), then sells 0.1
    live.step(0.1011)
    trade = live.trade()
    assert exit_orders(trade)[:2] == [
        ("exit_brain_tp1", "canceled", 0.062),
        ("force_exit", "closed", 0.1),
    ]
    live.step(0.1011)  # TP1 completes: 25 % of the 0.4 left after the outside exit
    trade = live.trade()
    assert exit_orders(trade)[-1] == ("exit_brain_tp1", "closed", 0.038)
    state = _assert_state_follows_orders(live)
    assert state["triggered_legs"] == [1]
    assert trade.stop_loss == pytest.approx(0.1)


# ---------------------------------------------------- 3. hits the orders do not show


@pytest.mark.parametrize("claimed", [[1, 2], [1, 2, 3]], ids=["tp2", "all-levels"])
def test_stored_hits_the_orders_do_not_show_are_repaired_and_executed(live, caplog, claimed):
    start(live, **LONG)
    live.open_trade()
    live.step(0.1011)
    edited = live.state()
    edited.update(triggered_legs=claimed, tp_hits_count=len(claimed))
    live.write_custom_data("dict", json.dumps(edited))

    live.step(0.1021)  # TP2 executes: the orders show only TP1
    trade = live.trade()
    assert [tag for tag, _, _ in exit_orders(trade)] == ["exit_brain_tp1", "exit_brain_tp2"]
    assert exit_orders(trade)[-1] == ("exit_brain_tp2", "closed", 0.093)
    state = _assert_state_follows_orders(live)
    assert state["triggered_legs"] == [1, 2]
    assert trade.stop_loss == pytest.approx(0.101)
    claimed_text = ", TP".join(str(leg) for leg in claimed[1:])
    assert any(
        f"stored hits TP{claimed_text} are not in the filled orders (they show TP1)" in line
        for line in brain_lines(caplog, logging.WARNING)
    )


# ---------------------------------------------------- 7. the host's stop never loosens it


def test_a_trailing_host_stop_never_loosens_the_held_stop_at_a_tp_fill_spot_long(live):
    start(live, **LONG, live_host_stop=-0.02)
    live.open_trade()
    live.exchange.script_exit("hold")
    stops = _stops(live, [0.1011, 0.104])  # TP1 rests; the host trails to 0.104 × 0.98
    assert stops[-1] == pytest.approx(0.10192)
    live.exchange.fill_held(live.exchange.last_held())
    stops += _stops(live, [0.1025, 0.1025, 0.1022])  # TP1 fills at a lower price
    _never_loosens(stops, short=False)
    assert live.trade().stop_loss == pytest.approx(0.10192)  # above TP1's 0.101 after TP2
    assert _assert_state_follows_orders(live)["triggered_legs"] == [1, 2]


def test_a_trailing_host_stop_never_loosens_the_held_stop_at_a_tp_fill_futures_short(live):
    start(live, **SHORT, live_host_stop=-0.02)  # 0.2 % above the rate at 10x
    live.open_trade()
    live.exchange.script_exit("hold")
    stops = _stops(live, [0.0989, 0.0985])
    assert stops[-1] == pytest.approx(0.0986)  # 0.0985 × 1.002 = 0.098697, down to the tick
    live.exchange.fill_held(live.exchange.last_held())
    stops += _stops(live, [0.09855, 0.09855])
    _never_loosens(stops, short=True)
    assert live.trade().stop_loss == pytest.approx(0.0986)
    assert live.trade().is_open
    assert _assert_state_follows_orders(live)["triggered_legs"] == [1]


def test_a_trailing_host_stop_never_loosens_the_held_stop_at_an_added_entry(live):
    start(live, **LONG, live_host_stop=-0.02)
    trade = live.open_trade()
    stops = _stops(live, [0.1009])  # the host trails to 0.098882
    assert stops[-1] == pytest.approx(0.098882)
    live.strategy.host_adjust = 0.5 * trade.stake_amount
    stops += _stops(live, [0.0995, 0.0995, 0.0993])  # the added entry fills
    assert len([o for o in live.trade().orders if o.ft_order_side == "buy"]) == 2
    _never_loosens(stops, short=False)
    assert live.trade().stop_loss == pytest.approx(0.098882)


# ---------------------------------------------------- 8. one amount step is a fill


@pytest.fixture
def live_at_one(tmp_path, monkeypatch):
    harness = LiveHarness(tmp_path, monkeypatch, price=1.0)
    try:
        yield harness
    finally:
        harness.close()


@pytest.mark.parametrize(
    ("stake", "tp1_amount"),
    [(0.004, 0.001), (0.008, 0.002), (0.012, 0.003)],
    ids=["tp1-one-step", "tp1-two-steps", "tp1-three-steps"],
)
def test_a_tp_fill_of_a_few_amount_steps_is_booked_by_order_identity(
    live_at_one, stake, tp1_amount
):
    live = live_at_one  # ETH/BTC at 1.0: amount step 0.001 is a quarter of a 0.004 position
    start(live, **LONG, stake_amount=stake)
    trade = live.open_trade()
    assert trade.amount == pytest.approx(stake)
    live.walk([1.011, 1.011, 1.012])
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", tp1_amount)]
    state = _assert_state_follows_orders(live)
    assert state["triggered_legs"] == [1]
    assert trade.stop_loss == pytest.approx(1.0)  # breakeven


# ---------------------------------------------------- 5. stops to the tick, no creep


@pytest.mark.parametrize(
    ("market", "ticks", "after_tp1", "after_tp2"),
    [
        (LONG, [0.101, 0.102, 0.1027, 0.1033, 0.1029, 0.10251, 0.1031, 0.1019], 0.1, 0.101),
        (SHORT, [0.099, 0.098, 0.0977, 0.0971, 0.0983, 0.0978, 0.0981, 0.0975], 0.1, 0.099),
    ],
    ids=["spot-long", "futures-short-10x"],
)
def test_the_ratcheted_stop_is_the_level_to_the_tick_call_after_call(
    live, market, ticks, after_tp1, after_tp2
):
    start(live, **market)
    live.open_trade()
    stops = _stops(live, ticks[:1])
    assert stops[-1] == after_tp1
    stops += _stops(live, ticks[1:])
    assert live.state()["triggered_legs"] == [1, 2]
    assert stops[1:] == [after_tp2] * (len(ticks) - 1)  # exactly TP1's price, every loop
    assert live.trade().is_open


# ------------------------------------------------------- 6. the loss guard after an added entry


def _guard_on_tick(trade):
    from exit_brain_plugin.adapter import translate

    return translate.held_stop_price(float(trade.calc_close_rate_for_roi(-0.125)), trade)


@pytest.mark.parametrize(
    ("market", "add_at", "tolerance"),
    [(LONG, 0.095, 0.0025), (SHORT, 0.1008, 0.011)],
    ids=["spot-long", "futures-short-10x"],
)
def test_an_added_entry_reprices_the_guard_stop_and_it_closes_at_the_threshold(
    live, market, add_at, tolerance
):
    # tolerance: one price tick in PnL % (0.0001 at 0.1 and 10x is 1 %)
    start(live, **market)
    trade = live.open_trade()
    first_guard = trade.stop_loss
    assert first_guard == _guard_on_tick(trade)
    live.strategy.host_adjust = trade.stake_amount  # the host doubles the stake
    live.walk([add_at, add_at])
    trade = live.trade()
    assert len([o for o in trade.orders if o.ft_order_side == trade.entry_side]) == 2
    assert trade.stop_loss == _guard_on_tick(trade) != first_guard  # on the new average entry
    state = _assert_state_follows_orders(live)
    assert state["entry_price"] == pytest.approx(trade.open_rate)
    stop = trade.stop_loss
    live.walk([add_at, stop])  # the price reaches the repriced guard stop
    trade = live.trade()
    assert not trade.is_open
    assert trade.exit_reason == "exit_brain_loss_guard"
    assert trade.close_rate == pytest.approx(stop)
    assert trade.close_profit == pytest.approx(-0.125, abs=tolerance)
    assert live.state()["exit_kind"] == "loss_guard"


# ---------------------------------------------------- 2 and 10. plan fixed at creation


def _to_tp1(live, **brain):
    start(live, **LONG, brain=brain or None)
    live.open_trade()
    live.step(0.1011)
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]


def test_a_restart_with_another_size_basis_keeps_the_open_positions_plan(live):
    _to_tp1(live)
    live.stop_bot()
    start(live, **LONG, brain={"size_basis": "initial", "tp_distances": [0.015, 0.03, 0.05]})
    live.step(0.1021)  # TP2 at its creation price, 25 % of the remaining 0.375
    trade = live.trade()
    assert exit_orders(trade)[-1] == ("exit_brain_tp2", "closed", 0.093)
    state = _assert_state_follows_orders(live)
    assert state["plan"]["size_basis"] == "remaining"
    assert state["plan"]["tp_distances"] == [0.01, 0.02, 0.04]


def test_a_row_of_the_previous_release_takes_the_settings_in_force_once_then_keeps_them(live):
    _to_tp1(live)
    old = live.state()
    old.pop("plan", None)
    old.pop("booked_orders", None)
    live.write_custom_data("dict", json.dumps(old))
    live.stop_bot()
    start(live, **LONG, brain={"size_basis": "initial"})
    live.step(0.1015)
    assert live.state()["plan"]["size_basis"] == "initial"  # the settings in force, once
    live.stop_bot()
    start(live, **LONG)  # back to "remaining": the position keeps "initial"
    live.step(0.1021)
    assert exit_orders(live.trade())[-1] == ("exit_brain_tp2", "closed", 0.125)
    assert _assert_state_follows_orders(live)["plan"]["size_basis"] == "initial"


def test_a_rebuild_restores_the_ladder_the_position_was_created_with(live, caplog):
    _to_tp1(live)
    edited = live.state()
    edited["remaining_size"] = 0.5  # disagrees with the orders: rebuilt
    live.write_custom_data("dict", json.dumps(edited))
    live.stop_bot()
    start(
        live, **LONG, brain={"tp_distances": [0.015, 0.03, 0.05], "tp_profile": [0.5, 0.25, 0.25]}
    )
    live.step(0.1015)
    state = live.state()
    assert any("state rebuilt" in line for line in brain_lines(caplog, logging.WARNING))
    assert state["tp_levels"] == [[0.101, 0.25], [0.102, 0.25], [0.104, 0.5]]
    assert state["remaining_size"] == pytest.approx(0.375)
    live.step(0.1021)
    assert exit_orders(live.trade())[-1] == ("exit_brain_tp2", "closed", 0.093)


# ---------------------------------------------------- 4. act -> observe mid-ladder


def test_a_switch_to_observe_mid_ladder_starts_the_shadow_from_the_position(live, caplog):
    _to_tp1(live)
    live.stop_bot()
    legacy = live.state()  # as the release before per-position modes wrote it: no mode
    assert legacy.pop("mode") == "act"
    live.write_custom_data("dict", json.dumps(legacy))
    caplog.clear()
    start(live, **LONG, brain={"mode": "observe"})
    live.walk([0.1011, 0.1015])
    shadow = live.state(key="exit_brain_observe")
    assert shadow["triggered_legs"] == [1]
    assert shadow["remaining_size"] == pytest.approx(0.375)
    assert not [line for line in brain_lines(caplog) if "TP1 HIT" in line]
    live.step(0.1021)  # the shadow's TP2: 25 % of 0.375, logged, not sent
    shadow = live.state(key="exit_brain_observe")
    assert shadow["triggered_legs"] == [1, 2]
    assert shadow["remaining_size"] == pytest.approx(0.282)
    assert any("TP2 HIT" in line and "0.0930" in line for line in brain_lines(caplog))
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]


# ---------------------------------------------------- 9. the host's exit_brain_plan


def test_a_plan_defined_in_the_host_class_is_used(live):
    start(live, **LONG, live_host_plan=[[0.005, 0.5], [0.03, 0.5]])
    live.open_trade()
    live.step(0.1006)
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.25)]
    prices = [price for price, _ in live.state()["tp_levels"]]
    assert prices == pytest.approx([0.1005, 0.103])
    assert trade.stop_loss == pytest.approx(0.1)


# ---------------------------------------------------- 11. coarse price ticks


@pytest.mark.parametrize(
    ("tick", "levels", "tp1_tick", "tp1_amount"),
    [
        (0.002, [[0.102, 0.4375], [0.104, 0.5]], 0.102, 0.218),
        (0.01, [[0.11, 0.71875]], 0.11, 0.359),
    ],
    ids=["tick-0.002", "tick-0.01"],
)
def test_coarse_ticks_round_levels_away_from_the_entry_and_merge_them(
    live, caplog, tick, levels, tp1_tick, tp1_amount
):
    start(live, **LONG, precision={"price": tick})
    live.open_trade()
    assert live.state()["tp_levels"] == levels
    lines = brain_lines(caplog)
    assert any("rounded away from the entry to the next tick" in line for line in lines)
    assert any("land on the same tick" in line for line in lines)
    live.step(tp1_tick)
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", tp1_amount)]
    assert trade.stop_loss == pytest.approx(0.1)


# ---------------------------------------------------- 12. smaller


def test_a_host_adjustment_on_the_loop_of_a_tp_is_logged(live, caplog):
    start(live, **LONG)
    trade = live.open_trade()
    live.strategy.host_adjust = trade.stake_amount
    live.step(0.1011)
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]
    assert any(
        "the strategy's position adjustment (stake 0.05, tag host_dca) waits for exit_brain_tp1"
        in line
        for line in brain_lines(caplog)
    )
