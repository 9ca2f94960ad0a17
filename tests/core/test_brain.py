"""The brain (brain.py B1-B5, F1-F2): precedence, stop backstop, the stop freqtrade holds."""

import pytest

from exit_brain_plugin.core import (
    LOSS_GUARD_TAG,
    STOP_BACKSTOP_TAG,
    ExitKind,
    Fill,
    FillKind,
    Hold,
    PositionOpen,
    Side,
    StopTarget,
    apply_fill,
    classify_stop,
    create_state,
    evaluate_position,
    evaluate_stop,
)
from tests.conftest import levels, make_config, make_snapshot, make_state, rendered


CONFIG = make_config()
BREAKEVEN = {"hits": 1, "remaining_size": 7.5, "leg_base_size": 7.5, "active_sl": 3000.0}


def _stop(state, config=CONFIG, held=None, host=None, guard=None):
    return evaluate_stop(
        state, config, held_stop_price=held, host_stop_price=host, loss_guard_price=guard
    )


# precedence (docs/behaviour.md §4)


def test_loss_guard_beats_a_reached_take_profit_in_the_same_evaluation():
    verdict = evaluate_position(make_snapshot(3150.0, profit=-0.13), make_state(), CONFIG)
    assert verdict.decision.kind is ExitKind.LOSS_GUARD
    assert not [line for line in rendered(verdict.events) if "TP1 HIT" in line]


def test_loss_guard_beats_a_plan_update():
    plan = list(levels([(3100, 0.5), (3200, 0.5)]))
    verdict = evaluate_position(make_snapshot(2990.0, profit=-0.13), make_state(), CONFIG, plan)
    assert verdict.state.tp_levels == ()
    assert all("EXIT_LOSS_GUARD" in line for line in rendered(verdict.events))


def test_loss_guard_beats_the_stop_backstop():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    verdict = evaluate_position(make_snapshot(2990.0, profit=-0.13), state, CONFIG)
    assert verdict.decision.tag == LOSS_GUARD_TAG


def test_plan_update_applies_before_the_take_profit_check():
    plan = list(levels([(3100, 0.5), (3200, 0.5)]))
    verdict = evaluate_position(make_snapshot(3120.0), make_state(), CONFIG, plan)
    assert (verdict.decision.tag, verdict.decision.amount) == ("exit_brain_tp1", 5.0)


def test_closed_position_always_holds():
    state = make_state(remaining_size=0.0, exit_kind="stop:initial")
    verdict = evaluate_position(make_snapshot(3600.0, profit=-0.5), state, CONFIG)
    assert (verdict.decision, verdict.state, verdict.events) == (Hold(), state, ())


def test_high_water_mark_only_rises():
    up = evaluate_position(make_snapshot(3100.0), make_state(), CONFIG).state
    down = evaluate_position(make_snapshot(3050.0), up, CONFIG).state
    assert up.max_unrealized_profit_pct == pytest.approx(100 * (3100 / 3000 - 1))
    assert down.max_unrealized_profit_pct == up.max_unrealized_profit_pct


# B2: stop backstop


def test_backstop_closes_when_freqtrade_holds_a_looser_stop():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    snapshot = make_snapshot(2990.0, exchange_stop_price=2940.0)
    verdict = evaluate_position(snapshot, state, CONFIG)
    assert (verdict.decision.kind, verdict.decision.tag) == (
        ExitKind.STOP_BACKSTOP,
        STOP_BACKSTOP_TAG,
    )
    assert (verdict.decision.amount, verdict.decision.close_all) == (7.5, True)
    assert "beyond the breakeven stop $3000.0000" in rendered(verdict.events)[0]


def test_backstop_leaves_the_close_to_freqtrade_when_its_stop_is_breached_too():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    verdict = evaluate_position(make_snapshot(2990.0, exchange_stop_price=3000.0), state, CONFIG)
    assert verdict.decision == Hold()


def test_backstop_ignores_the_strategy_initial_stop():
    verdict = evaluate_position(make_snapshot(2930.0), make_state(), CONFIG)
    assert verdict.decision == Hold()


def test_backstop_for_a_short_fires_above_its_stop():
    state = make_state(
        side=Side.SHORT, sl_reason="breakeven", **{**BREAKEVEN, "active_sl": 50000.0}
    )
    snapshot = make_snapshot(50100.0, side=Side.SHORT, exchange_stop_price=51000.0)
    assert evaluate_position(snapshot, state, CONFIG).decision.kind is ExitKind.STOP_BACKSTOP


def test_backstop_fill_closes_the_state_with_the_stop_reason():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    order = evaluate_position(make_snapshot(2990.0), state, CONFIG).decision
    fill = Fill(
        kind=FillKind.STOP,
        filled_amount=order.amount,
        price=2990.0,
        order_id="b",
        reason="breakeven",
    )
    assert apply_fill(state, fill, CONFIG).state.exit_kind == "stop:breakeven"


# evaluate_stop: the stop freqtrade should hold


def test_no_brain_stop_before_a_hit_without_loss_guard_price():
    assert _stop(make_state(), held=2940.0) is None


def test_ratchet_stop_is_returned_with_its_reason():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    assert _stop(state, held=2940.0) == StopTarget(price=3000.0, source="breakeven")


def test_loss_guard_price_is_the_stop_before_any_hit():
    assert _stop(make_state(), host=2940.0, guard=2981.25) == StopTarget(
        price=2981.25, source="loss_guard"
    )


def test_tighter_of_ratchet_and_loss_guard_price_wins_long():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    assert _stop(state, guard=2981.25).source == "breakeven"
    assert _stop(state, guard=3010.0) == StopTarget(price=3010.0, source="loss_guard")


def test_tighter_of_ratchet_and_loss_guard_price_wins_short():
    state = make_state(
        side=Side.SHORT, sl_reason="breakeven", **{**BREAKEVEN, "active_sl": 50000.0}
    )
    assert _stop(state, guard=50300.0).price == 50000.0
    assert _stop(state, guard=49900.0).price == 49900.0


def test_stop_is_never_looser_than_the_held_stop():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    assert _stop(state, held=3050.0) == StopTarget(price=3050.0, source="strategy")


def test_stop_is_never_looser_than_the_host_strategy_stop():
    state = make_state(sl_reason="breakeven", **BREAKEVEN)
    assert _stop(state, held=2940.0, host=3020.0) == StopTarget(price=3020.0, source="strategy")


def test_short_stop_is_never_looser_than_the_held_stop():
    state = make_state(
        side=Side.SHORT, sl_reason="breakeven", **{**BREAKEVEN, "active_sl": 50000.0}
    )
    assert _stop(state, held=49800.0).price == 49800.0


def test_loss_guard_price_is_not_a_stop_when_the_guard_is_disabled():
    config = make_config(loss_guard_enabled=False)
    assert _stop(make_state(), config, host=2940.0, guard=2981.25) is None


def test_no_loss_guard_stop_once_the_guard_fired():
    fired = evaluate_position(make_snapshot(2990.0, profit=-0.13), make_state(), CONFIG).state
    assert _stop(fired, held=2940.0, guard=2981.25) is None


# classify_stop: whose stop was hit (for "stopped at breakeven" reports)


@pytest.mark.parametrize(
    ("state_fields", "stop_price", "expected"),
    [
        ({}, 2981.25, "loss_guard"),
        ({"sl_reason": "breakeven", **BREAKEVEN}, 3000.0, "breakeven"),
        ({"sl_reason": "breakeven", **BREAKEVEN}, 3000.004, "breakeven"),
        ({}, 2940.0, "initial"),
        ({"sl_reason": "tp1", **{**BREAKEVEN, "active_sl": 3150.0}}, 3100.0, "strategy"),
    ],
    ids=["guard-price", "ratchet", "within-one-step", "initial", "someone-else"],
)
def test_classify_stop_names_the_stop_that_was_hit(state_fields, stop_price, expected):
    state = make_state(**state_fields)
    assert classify_stop(state, stop_price, 2981.25, tolerance=0.01) == expected


# creation and fills


def test_create_state_prices_the_default_ladder_and_keeps_the_strategy_stop():
    opening = PositionOpen(
        pair="ETH/USDT", side=Side.LONG, entry_price=3000.0, amount=10.0, initial_stop_price=2940.0
    )
    state = create_state(opening, CONFIG).state
    assert [level.price for level in state.tp_levels] == pytest.approx([3030, 3060, 3120])
    assert (state.active_sl, state.sl_reason, state.remaining_size) == (2940.0, "initial", 10.0)


def test_create_state_drops_an_unusable_atr_and_uses_distances():
    opening = PositionOpen(
        pair="ETH/USDT", side=Side.LONG, entry_price=3000.0, amount=1.0, atr=float("nan")
    )
    state = create_state(opening, make_config(tp_atr_multipliers=[1, 2, 3])).state
    assert state.tp_levels[0].price == pytest.approx(3030.0)


def test_entry_fill_adds_to_the_position_and_moves_the_entry():
    fill = Fill(
        kind=FillKind.ENTRY,
        filled_amount=5.0,
        price=2900.0,
        order_id="dca",
        entry_price_after=2966.67,
    )
    verdict = apply_fill(make_state(), fill, CONFIG)
    assert (verdict.state.remaining_size, verdict.state.entry_price) == (15.0, 2966.67)
    assert "entry fill 5.0000 added, remaining_size=15.0000" in rendered(verdict.events)[0]


def test_tp_fill_for_a_skipped_leg_counts_no_hit():
    order = evaluate_position(make_snapshot(3350.0), make_state(), CONFIG).decision
    wrong = Fill(
        kind=FillKind.TAKE_PROFIT, filled_amount=1.0, price=3350.0, order_id="w", legs=(2,)
    )
    state = apply_fill(make_state(), wrong, CONFIG).state
    assert order.legs == (1, 2)
    assert (state.tp_hits_count, state.remaining_size) == (0, 9.0)


def test_observe_mode_does_not_change_what_the_core_decides():
    observe = make_config(mode="observe")
    first = evaluate_position(make_snapshot(3150.0), make_state(), observe)
    assert first.decision == evaluate_position(make_snapshot(3150.0), make_state(), CONFIG).decision
