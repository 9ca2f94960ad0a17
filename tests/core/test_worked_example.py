"""docs/behaviour.md §8, number by number, with the docs/behaviour.md §7 log lines the events
render."""

import pytest

from exit_brain_plugin.core import (
    LOSS_GUARD_TAG,
    ExitKind,
    ExitOrder,
    Hold,
    PositionOpen,
    Side,
    TpLevel,
    create_state,
    evaluate_position,
)
from exit_brain_plugin.core import apply_fill as _apply_fill
from tests.conftest import fill_for, make_config, make_snapshot, make_state, rendered


CONFIG = make_config()


def _tp(state, price, *, order_id):
    """Evaluate at ``price``, fill the exit completely; return (order, verdict, fill verdict)."""
    verdict = evaluate_position(make_snapshot(price, side=state.side), state, CONFIG)
    assert isinstance(verdict.decision, ExitOrder)
    done = _apply_fill(verdict.state, fill_for(verdict.decision, order_id=order_id), CONFIG)
    return verdict.decision, verdict, done


def test_long_tp1_closes_quarter_and_moves_stop_to_breakeven():
    order, verdict, done = _tp(make_state(), 3150.0, order_id="1001")
    assert (order.tag, order.amount, order.legs, order.close_all) == (
        "exit_brain_tp1",
        2.5,
        (1,),
        False,
    )
    assert (done.state.remaining_size, done.state.tp_hits_count) == (7.5, 1)
    assert (done.state.active_sl, done.state.sl_reason) == (3000.0, "breakeven")
    assert rendered(verdict.events) == [
        "[EXIT_TP_TRIGGER] 🎯 ETH/USDT LONG: TP1 HIT @ $3150.0000 (TP=$3150.0000) - "
        "Closing 2.5000 (25% of remaining) with MARKET SELL"
    ]
    assert rendered(done.events) == [
        "[EXIT_ORDER] ✅ TP1 MARKET SELL ETH/USDT 2.5000 executed - orderId=1001",
        "[EXIT_TP_TRIGGER] 📊 ETH/USDT LONG: Updated state after TP1 - "
        "remaining_size=7.5000, tp_hits_count=1",
        "[EXIT_RATCHET_SL] 🎯 ETH/USDT LONG: SL ratcheted $2940.0000 → $3000.0000 - "
        "breakeven after TP1 (tp_hits=1)",
    ]


def test_long_tp2_closes_quarter_of_remaining_and_moves_stop_to_tp1():
    state = make_state(hits=1, remaining_size=7.5, leg_base_size=7.5, active_sl=3000.0)
    order, _, done = _tp(state, 3300.0, order_id="1002")
    assert (order.tag, order.amount) == ("exit_brain_tp2", 1.875)
    assert (done.state.remaining_size, done.state.tp_hits_count) == (5.625, 2)
    assert (done.state.active_sl, done.state.sl_reason) == (3150.0, "tp1")
    assert rendered(done.events)[-1] == (
        "[EXIT_RATCHET_SL] 🎯 ETH/USDT LONG: SL ratcheted $3000.0000 → $3150.0000 - "
        "TP1 price after TP2 hit (tp_hits=2)"
    )


def test_long_tp3_closes_half_leaves_runner_and_stop_stays_at_tp1():
    state = make_state(
        hits=2, remaining_size=5.625, leg_base_size=5.625, active_sl=3150.0, sl_reason="tp1"
    )
    order, verdict, done = _tp(state, 3600.0, order_id="1003")
    assert (order.tag, order.amount, order.close_all) == ("exit_brain_tp3", 2.8125, False)
    assert (done.state.remaining_size, done.state.tp_hits_count) == (2.8125, 3)
    assert (done.state.active_sl, done.state.sl_reason) == (3150.0, "tp1")
    assert not [line for line in rendered(done.events) if "EXIT_RATCHET_SL" in line]
    assert "Closing 2.8125 (50% of remaining)" in rendered(verdict.events)[0]


def test_long_worked_example_end_to_end_from_state_creation():
    opening = PositionOpen(
        pair="ETH/USDT", side=Side.LONG, entry_price=3000.0, amount=10.0, initial_stop_price=2940.0
    )
    created = create_state(opening, CONFIG)
    assert rendered(created.events)[0] == (
        "[EXIT_BRAIN_EXECUTOR] Created new state for ETH/USDT:LONG - "
        "entry=$3000.0000, initial_size=10.0000"
    )
    plan = [TpLevel(price=p, fraction=f) for p, f in ((3150, 0.25), (3300, 0.25), (3600, 0.5))]
    state = created.state
    closes, remainders, stops, hits, reasons = [], [], [], [], []
    for price in (3150.0, 3300.0, 3600.0):
        verdict = evaluate_position(make_snapshot(price), state, CONFIG, plan)
        closes.append(verdict.decision.amount)
        state = _apply_fill(verdict.state, fill_for(verdict.decision), CONFIG).state
        remainders.append(state.remaining_size)
        stops.append(state.active_sl)
        hits.append(state.tp_hits_count)
        reasons.append(state.sl_reason)
    assert closes == [2.5, 1.875, 2.8125]
    assert remainders == [7.5, 5.625, 2.8125]
    assert stops == [3000.0, 3150.0, 3150.0]
    assert hits == [1, 2, 3]
    assert reasons == ["breakeven", "tp1", "tp1"]
    assert state.triggered_legs == (1, 2, 3)


def test_created_state_line_matches_spec_section_3():
    opening = PositionOpen(pair="ETH/BTC", side=Side.LONG, entry_price=0.085, amount=1.2)
    assert rendered(create_state(opening, CONFIG).events)[0] == (
        "[EXIT_BRAIN_EXECUTOR] Created new state for ETH/BTC:LONG - "
        "entry=$0.0850, initial_size=1.2000"
    )


def test_short_mirror_moves_stop_to_entry_then_tp1():
    state = make_state(side=Side.SHORT)
    order1, verdict1, done1 = _tp(state, 49000.0, order_id="2001")
    order2, _, done2 = _tp(done1.state, 48000.0, order_id="2002")
    assert (order1.amount, order2.amount) == (2.5, 1.875)
    assert (done1.state.active_sl, done1.state.sl_reason) == (50000.0, "breakeven")
    assert (done2.state.active_sl, done2.state.sl_reason) == (49000.0, "tp1")
    assert rendered(verdict1.events)[0].endswith("with MARKET BUY")
    assert rendered(done2.events)[-1] == (
        "[EXIT_RATCHET_SL] 🎯 BTC/USDT SHORT: SL ratcheted $50000.0000 → $49000.0000 - "
        "TP1 price after TP2 hit (tp_hits=2)"
    )


def test_short_tp3_leaves_the_runner_and_stop_stays_at_tp1():
    state = make_state(side=Side.SHORT)
    for price in (49000.0, 48000.0, 47000.0):
        state = _tp(state, price, order_id="x")[2].state
    assert (state.remaining_size, state.active_sl, state.tp_hits_count) == (2.8125, 49000.0, 3)


def test_loss_guard_at_20x_with_pnl_minus_12_6_closes_everything():
    state = make_state()
    verdict = evaluate_position(make_snapshot(2981.1, profit=-0.126), state, CONFIG)
    assert verdict.decision == ExitOrder(
        kind=ExitKind.LOSS_GUARD, tag=LOSS_GUARD_TAG, amount=10.0, close_all=True, price=2981.1
    )
    assert LOSS_GUARD_TAG == "exit_brain_loss_guard"
    assert verdict.state.loss_guard_triggered
    assert (verdict.state.tp_levels, verdict.state.active_sl) == ((), None)
    assert rendered(verdict.events) == [
        "[EXIT_LOSS_GUARD] 🚨 ETH/USDT LONG: LOSS GUARD TRIGGERED - "
        "unrealized_pnl=-12.60% <= -12.50%",
        "[EXIT_LOSS_GUARD] 🚨 ETH/USDT LONG: Closing FULL position 10.0000 with MARKET SELL "
        "(PnL=-12.60%)",
    ]


def test_loss_guard_fill_logs_the_order_line_and_closes_the_position():
    fired = evaluate_position(make_snapshot(2981.1, profit=-0.126), make_state(), CONFIG)
    done = _apply_fill(fired.state, fill_for(fired.decision, order_id="3001"), CONFIG)
    assert rendered(done.events) == [
        "[EXIT_ORDER] ✅ LOSS GUARD MARKET SELL ETH/USDT 10.0000 executed - orderId=3001"
    ]
    assert (done.state.remaining_size, done.state.exit_kind) == (0.0, "loss_guard")


def test_loss_guard_at_20x_with_pnl_minus_12_0_does_nothing():
    # 20x leverage: −12.0 % PnL is a 0.6 % adverse move.
    verdict = evaluate_position(make_snapshot(2982.0, profit=-0.12), make_state(), CONFIG)
    assert verdict.decision == Hold()
    assert not verdict.state.loss_guard_triggered
    assert verdict.events == ()


@pytest.mark.parametrize("price", [2981.1, 3600.0], ids=["still-losing", "at-tp3"])
def test_loss_guard_already_fired_adds_nothing_new_and_no_tp(price):
    fired = evaluate_position(make_snapshot(2981.1, profit=-0.126), make_state(), CONFIG).state
    verdict = evaluate_position(make_snapshot(price, profit=-0.126), fired, CONFIG)
    assert verdict.decision.kind is ExitKind.LOSS_GUARD  # the same close, retried
    assert verdict.events == ()
    assert verdict.state.tp_hits_count == 0


def test_loss_guard_already_fired_and_filled_holds():
    fired = evaluate_position(make_snapshot(2981.1, profit=-0.126), make_state(), CONFIG)
    closed = _apply_fill(fired.state, fill_for(fired.decision), CONFIG).state
    verdict = evaluate_position(make_snapshot(2900.0, profit=-0.6), closed, CONFIG)
    assert (verdict.decision, verdict.events, verdict.state) == (Hold(), (), closed)
