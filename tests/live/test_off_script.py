"""The ladder survives the world off the script (issue 9), through ``FreqtradeBot.process()``.

Spot long: ETH/BTC, entry 0.1, 0.5 ETH; TP1 0.101 (25 %), TP2 0.102, TP3 0.104; tick 0.000001,
amount step 0.001. Futures short: XRP/USDT:USDT isolated, entry 0.1, 100 USDT at 10x = 10000
XRP; TP1 0.099, TP2 0.098, TP3 0.096; tick 0.0001, amount step 0.1. The orders are the ground
truth (docs/behaviour.md §3): every test checks the stored state against them and that the
stop never loosened.
"""

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
    for before, after in zip(stops, stops[1:], strict=False):
        assert (after <= before) if short else (after >= before), stops


def _assert_state_follows_orders(live):
    trade = live.trade()
    state = live.state()
    assert state["remaining_size"] == pytest.approx(trade.amount, rel=1e-9)
    filled = {o.order_id for o in trade.orders if (o.safe_filled or 0) > 0 and not o.ft_is_open}
    assert set(state["booked_orders"]) == filled
    return state


# --------------------------------------------------------------- 1. partial exits from outside


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


# --------------------------------------------------------------- 3. hits the orders do not show


@pytest.mark.parametrize("claimed", [[1, 2], [1, 2, 3]], ids=["tp2", "all-levels"])
def test_stored_hits_the_orders_do_not_show_are_repaired_and_executed(live, caplog, claimed):
    start(live, **LONG)
    live.open_trade()
    live.step(0.1011)
    edited = live.state()
    edited.update(triggered_legs=claimed, tp_hits_count=len(claimed))
    live.write_custom_data("dict", __import__("json").dumps(edited))

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


# --------------------------------------------------------------- 7. the host's stop never loosens it


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


# --------------------------------------------------------------- 8. one amount step is a fill


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
