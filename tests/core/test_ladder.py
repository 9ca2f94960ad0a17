"""Take-profit ladder (ladder.py L1-L6): triggers, gaps, sizes, exchange limits, plans."""

import pytest

from exit_brain_plugin.core import (
    ExitKind,
    ExitOrder,
    Hold,
    PositionOpen,
    Side,
    apply_fill,
    create_state,
    evaluate_position,
    legs_from_tag,
    price_resting_exit,
    tp_tag,
)
from tests.conftest import (
    fill_for,
    levels,
    make_config,
    make_snapshot,
    make_state,
    rendered,
)


CONFIG = make_config()


def _evaluate(state, price, config=CONFIG, plan=None, **snapshot_fields):
    return evaluate_position(make_snapshot(price, **snapshot_fields), state, config, plan)


# L1 / L2: triggers and gaps


def test_price_below_first_level_holds():
    verdict = _evaluate(make_state(), 3149.99)
    assert (verdict.decision, verdict.events) == (Hold(), ())


def test_level_is_hit_at_exactly_its_price():
    assert _evaluate(make_state(), 3150.0).decision.legs == (1,)


def test_gap_over_two_levels_is_one_exit_tagged_tp1_tp2():
    order = _evaluate(make_state(), 3350.0).decision
    assert (order.tag, order.legs, order.amount) == ("exit_brain_tp1+tp2", (1, 2), 4.375)
    assert order.level_price == 3300.0
    assert not order.close_all


def test_gap_fill_counts_two_hits_and_ratchets_once_to_tp1():
    verdict = _evaluate(make_state(), 3350.0)
    done = apply_fill(verdict.state, fill_for(verdict.decision), CONFIG)
    assert (done.state.tp_hits_count, done.state.triggered_legs) == (2, (1, 2))
    assert (done.state.remaining_size, done.state.active_sl) == (5.625, 3150.0)
    assert len(done.state.ratchets) == 1
    assert "Updated state after TP1+TP2" in rendered(done.events)[1]


def test_gap_over_three_levels_composes_all_three_fractions():
    order = _evaluate(make_state(), 3700.0).decision
    assert (order.tag, order.legs) == ("exit_brain_tp1+tp2+tp3", (1, 2, 3))
    assert order.amount == pytest.approx(10.0 - 2.8125)


def test_short_gap_over_two_levels_mirrors_the_long():
    order = _evaluate(make_state(side=Side.SHORT), 47500.0, side=Side.SHORT).decision
    assert (order.tag, order.amount) == ("exit_brain_tp1+tp2", 4.375)


def test_levels_are_priced_from_entry_for_a_short():
    opening = PositionOpen(pair="BTC/USDT", side=Side.SHORT, entry_price=50000.0, amount=1.0)
    state = create_state(opening, make_config(tp_distances=[0.02, 0.04, 0.06])).state
    assert [level.price for level in state.tp_levels] == pytest.approx([49000, 48000, 47000])


def test_atr_multipliers_price_levels_from_atr_when_given():
    opening = PositionOpen(
        pair="ETH/USDT", side=Side.LONG, entry_price=3000.0, amount=1.0, atr=30.0
    )
    state = create_state(opening, make_config(tp_atr_multipliers=[1, 2, 4])).state
    assert [level.price for level in state.tp_levels] == pytest.approx([3030, 3060, 3120])


# size basis and exchange amounts (L2-L4)


def test_initial_size_basis_closes_a_fraction_of_the_initial_size():
    config = make_config(size_basis="initial")
    state = make_state(hits=1, remaining_size=7.5, leg_base_size=7.5)
    order = _evaluate(state, 3300.0, config).decision
    assert (order.amount, order.close_all) == (2.5, False)
    assert "(25% of initial)" in rendered(_evaluate(state, 3300.0, config).events)[0]


def test_initial_size_basis_last_level_closes_the_whole_remainder():
    state = make_state(hits=2, remaining_size=5.0, leg_base_size=5.0)
    order = _evaluate(state, 3600.0, make_config(size_basis="initial")).decision
    assert (order.amount, order.close_all) == (5.0, True)


def test_amount_is_truncated_to_the_exchange_step():
    order = _evaluate(make_state(size=1.0), 3150.0, amount_step=0.1).decision
    assert (order.amount, order.close_all) == (0.2, False)


def test_exit_below_min_order_is_merged_into_the_next_level():
    verdict = _evaluate(make_state(size=1.0), 3150.0, min_order_amount=0.3)
    assert verdict.decision == Hold()
    assert verdict.state.tp_hits_count == 0
    assert "below the exchange minimum 0.3000: merged into TP2" in rendered(verdict.events)[0]


def test_merged_level_joins_the_next_level_as_one_composite_exit():
    order = _evaluate(make_state(size=1.0), 3300.0, min_order_amount=0.3).decision
    assert (order.tag, order.amount) == ("exit_brain_tp1+tp2", 0.4375)


def test_last_level_below_min_order_closes_the_whole_remainder():
    state = make_state(hits=2, remaining_size=0.5, leg_base_size=0.5)
    verdict = _evaluate(state, 3600.0, min_order_amount=0.3)
    assert (verdict.decision.amount, verdict.decision.close_all) == (0.5, True)
    assert "on the last level: closing the whole remainder" in rendered(verdict.events)[1]


def test_remainder_below_min_remaining_closes_everything():
    verdict = _evaluate(make_state(), 3150.0, min_remaining_amount=8.0)
    assert (verdict.decision.amount, verdict.decision.close_all) == (10.0, True)
    assert "below the minimum remainder 8.0000" in rendered(verdict.events)[1]


def test_dust_remainder_below_min_order_holds_and_says_so():
    state = make_state(hits=2, remaining_size=0.2, leg_base_size=0.2)
    verdict = _evaluate(state, 3600.0, min_order_amount=0.3)
    assert verdict.decision == Hold()
    assert "cannot be sold: left to the stop" in rendered(verdict.events)[-1]


def test_amount_rounded_to_zero_on_a_middle_level_is_merged():
    verdict = _evaluate(make_state(size=0.003), 3150.0, amount_step=0.001)
    assert verdict.decision == Hold()
    assert "size 0.0000 below" in rendered(verdict.events)[0]


# L5: state changes only on fills


def test_evaluation_alone_never_counts_a_hit():
    verdict = _evaluate(make_state(), 3150.0)
    assert (verdict.state.tp_hits_count, verdict.state.remaining_size) == (0, 10.0)


def test_rejected_order_changes_nothing_and_is_retried():
    state = make_state()
    first = _evaluate(state, 3150.0)
    again = _evaluate(first.state, 3150.0)
    assert again.decision == first.decision


def test_partial_fill_retries_only_the_missing_amount():
    verdict = _evaluate(make_state(), 3150.0)
    partial = apply_fill(verdict.state, fill_for(verdict.decision, filled=1.0), CONFIG).state
    assert (partial.remaining_size, partial.tp_hits_count) == (9.0, 0)
    retry = _evaluate(partial, 3150.0).decision
    assert (retry.tag, retry.amount) == ("exit_brain_tp1", 1.5)


def test_partial_fill_then_retry_fill_counts_the_level_once():
    verdict = _evaluate(make_state(), 3150.0)
    partial = apply_fill(verdict.state, fill_for(verdict.decision, filled=1.0), CONFIG).state
    retry = _evaluate(partial, 3150.0).decision
    done = apply_fill(partial, fill_for(retry), CONFIG).state
    assert (done.remaining_size, done.tp_hits_count, done.triggered_legs) == (7.5, 1, (1,))
    assert _evaluate(done, 3150.0).decision == Hold()


def test_partial_fill_event_states_the_amount_still_to_close():
    verdict = _evaluate(make_state(), 3150.0)
    partial = apply_fill(verdict.state, fill_for(verdict.decision, filled=1.0), CONFIG)
    assert "filled 1.0000, 1.5000 still to close" in rendered(partial.events)[1]


def test_partial_fill_of_a_gap_completes_only_the_covered_leg():
    verdict = _evaluate(make_state(), 3350.0)
    state = apply_fill(verdict.state, fill_for(verdict.decision, filled=3.0), CONFIG).state
    assert (state.tp_hits_count, state.remaining_size, state.active_sl) == (1, 7.0, 3000.0)
    retry = _evaluate(state, 3350.0).decision
    assert (retry.legs, retry.amount) == ((2,), pytest.approx(1.375))


def test_partial_fill_while_price_falls_back_waits_for_the_level_again():
    verdict = _evaluate(make_state(), 3150.0)
    partial = apply_fill(verdict.state, fill_for(verdict.decision, filled=1.0), CONFIG).state
    assert _evaluate(partial, 3100.0).decision == Hold()


def test_fill_for_legs_already_hit_reduces_size_without_a_second_hit():
    verdict = _evaluate(make_state(), 3150.0)
    once = apply_fill(verdict.state, fill_for(verdict.decision), CONFIG).state
    twice = apply_fill(once, fill_for(verdict.decision, order_id="dup"), CONFIG).state
    assert (twice.tp_hits_count, twice.triggered_legs) == (1, (1,))
    assert twice.remaining_size == 5.0


def test_fill_leaving_less_than_one_step_closes_the_state():
    state = make_state(size=1.0, hits=2, remaining_size=0.25, leg_base_size=0.25)
    order = ExitOrder(
        kind=ExitKind.TAKE_PROFIT,
        tag="exit_brain_tp3",
        amount=0.2,
        close_all=False,
        price=3600.0,
        legs=(3,),
    )
    done = apply_fill(state, fill_for(order, amount_step=0.1), CONFIG).state
    assert (done.remaining_size, done.exit_kind, done.tp_hits_count) == (0.0, "take_profit", 3)


# resting exits and tags


def test_resting_exit_is_the_decision_at_the_next_level_price():
    order = price_resting_exit(make_snapshot(3050.0), make_state(hits=1), CONFIG)
    assert (order.kind, order.tag, order.price) == (ExitKind.TAKE_PROFIT, "exit_brain_tp2", 3300.0)


def test_no_resting_exit_once_the_ladder_is_done():
    state = make_state(hits=3, remaining_size=2.8125, leg_base_size=2.8125)
    assert price_resting_exit(make_snapshot(3700.0), state, CONFIG) is None


@pytest.mark.parametrize(
    ("legs", "tag"),
    [
        ((1,), "exit_brain_tp1"),
        ((2, 3), "exit_brain_tp2+tp3"),
        ((1, 2, 3), "exit_brain_tp1+tp2+tp3"),
    ],
    ids=["one", "gap-of-two", "gap-of-three"],
)
def test_tag_and_legs_round_trip(legs, tag):
    assert (tp_tag(legs), legs_from_tag(tag)) == (tag, legs)


@pytest.mark.parametrize(
    "tag",
    [None, "", "exit_brain_loss_guard", "exit_brain_tp0", "exit_brain_tp2+tp1", "roi", "tp1"],
    ids=["none", "empty", "loss-guard", "zero", "unordered", "roi", "no-prefix"],
)
def test_non_tp_tags_have_no_legs(tag):
    assert legs_from_tag(tag) is None


# L6: plan updates (UPDATE_TP_LIMITS)


def _plan(*pairs):
    return list(levels(pairs))


def test_plan_is_cut_to_max_tp_levels_with_a_warning():
    config = make_config(max_tp_levels=2)
    plan = _plan((3100, 0.3), (3200, 0.3), (3300, 0.4))
    verdict = _evaluate(make_state(), 3000.0, config, plan)
    assert [level.price for level in verdict.state.tp_levels] == [3100, 3200]
    assert any(
        "3 TP levels exceed max_tp_levels=2, dropped 1" in line for line in rendered(verdict.events)
    )


def test_plan_fractions_above_one_are_normalized_with_the_spec_line():
    verdict = _evaluate(make_state(), 3000.0, plan=_plan((3100, 0.5), (3200, 0.4), (3300, 0.3)))
    fractions = [level.fraction for level in verdict.state.tp_levels]
    assert fractions == pytest.approx([0.5 / 1.2, 0.4 / 1.2, 0.3 / 1.2])
    assert "[EXIT_BRAIN_STATE] ETH/USDT LONG: TP fractions sum=1.200 > 1.0, normalized to 1.0" in (
        rendered(verdict.events)
    )


def test_plan_fractions_below_one_log_the_runner_with_the_spec_line():
    config = make_config(size_basis="initial")
    verdict = _evaluate(
        make_state(), 3000.0, config, _plan((3100, 0.25), (3200, 0.25), (3300, 0.25))
    )
    assert (
        "[EXIT_BRAIN_STATE] ETH/USDT LONG: TP fractions sum=0.750 < 1.0, "
        "remaining 25.0% will be runner"
    ) in rendered(verdict.events)


def test_runner_share_on_remaining_basis_is_what_is_really_left():
    verdict = _evaluate(make_state(), 3000.0, plan=_plan((3100, 0.25), (3200, 0.25), (3300, 0.25)))
    assert any(
        "sum=0.750 < 1.0, remaining 42.2% will be runner" in line
        for line in rendered(verdict.events)
    )


def test_plan_levels_on_the_wrong_side_are_dropped_with_a_warning():
    verdict = _evaluate(make_state(), 3000.0, plan=_plan((2900, 0.25), (3200, 0.25), (3300, 0.5)))
    assert [level.price for level in verdict.state.tp_levels] == [3200, 3300]
    assert (
        "ETH/USDT LONG: TP level $2900.0000 is on the wrong side of entry $3000.0000, dropped"
        in ("\n".join(rendered(verdict.events)))
    )


def test_short_plan_level_above_entry_is_on_the_wrong_side():
    state = make_state(side=Side.SHORT)
    plan = _plan((50500, 0.5), (49000, 0.5))
    verdict = _evaluate(state, 50000.0, plan=plan, side=Side.SHORT)
    assert [level.price for level in verdict.state.tp_levels] == [49000]


def test_plan_keeps_hit_levels_hit():
    state = make_state(hits=1, remaining_size=7.5, leg_base_size=7.5, active_sl=3000.0)
    verdict = _evaluate(state, 3350.0, plan=_plan((3100, 0.5), (3400, 0.25), (3700, 0.5)))
    assert [level.price for level in verdict.state.tp_levels] == [3150, 3400, 3700]
    assert (verdict.state.triggered_legs, verdict.decision) == ((1,), Hold())


def test_same_plan_every_loop_after_a_hit_changes_nothing_more():
    state = make_state(hits=1, remaining_size=5.0, leg_base_size=5.0, tp=((3150, 0.5), (3300, 0.5)))
    plan = _plan((3150, 0.5), (3300, 0.5), (3600, 0.5))
    first = _evaluate(state, 3100.0, plan=plan)
    second = _evaluate(first.state, 3100.0, plan=plan)
    assert second.state == first.state
    assert second.events == ()


def test_no_plan_keeps_the_current_ladder_silently():
    state = make_state()
    verdict = _evaluate(state, 3000.0)
    assert (verdict.state.tp_levels, verdict.events) == (state.tp_levels, ())


def test_plan_identical_to_the_current_ladder_logs_nothing():
    state = make_state()
    plan = list(state.tp_levels)
    assert _evaluate(state, 3000.0, plan=plan).events == ()


def test_exit_order_from_a_plan_uses_the_new_prices():
    plan = _plan((3050, 0.5), (3100, 0.5))
    order = _evaluate(make_state(), 3060.0, plan=plan).decision
    assert isinstance(order, ExitOrder)
    assert (order.legs, order.level_price, order.amount) == ((1,), 3050.0, 5.0)
