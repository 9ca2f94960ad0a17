"""Core rules for a world off the script (issue 9): outside exits, fixed plans, coarse ticks.

docs/behaviour.md §8 worked example: ETH LONG entry 3000, size 10, TPs 3150 / 3300 / 3600
(0.25 / 0.25 / 0.5); SHORT entry 50000, TPs 49000 / 48000 / 47000.
"""

import json
import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exit_brain_plugin.core import (
    ConfigError,
    ExitOrder,
    Fill,
    FillKind,
    Hold,
    Side,
    evaluate_position,
    from_json_dict,
    parse_config,
    to_json_dict,
)
from exit_brain_plugin.core.brain import create_state, plan_of, settings_for
from exit_brain_plugin.core.ladder import priced_levels, runner_share
from exit_brain_plugin.core.snapshot import PositionOpen
from tests.conftest import make_config, make_snapshot, make_state


def _outside_exit(state, amount, order_id="host-1"):
    fill = Fill(kind=FillKind.OTHER_EXIT, filled_amount=amount, price=3000.0, order_id=order_id)
    from exit_brain_plugin.core import apply_fill

    return apply_fill(state, fill, make_config()).state


@pytest.mark.parametrize(
    ("side", "tp1_price", "basis", "expected"),
    [
        (Side.LONG, 3150.0, "remaining", 1.5),  # 25 % of the 6 left
        (Side.SHORT, 49000.0, "remaining", 1.5),
        (Side.LONG, 3150.0, "initial", 2.5),  # 25 % of the initial 10
        (Side.SHORT, 49000.0, "initial", 2.5),
    ],
    ids=["long-remaining", "short-remaining", "long-initial", "short-initial"],
)
def test_an_outside_partial_exit_is_no_progress_toward_the_next_level(
    side, tp1_price, basis, expected
):
    state = replace(make_state(side=side, booked_orders=()), plan=plan_of(make_config()))
    state = replace(state, plan=replace(state.plan, size_basis=basis))
    state = _outside_exit(state, 4.0)
    assert (state.remaining_size, state.leg_base_size) == (6.0, 6.0)
    assert state.booked_orders == ("host-1",)
    verdict = evaluate_position(make_snapshot(tp1_price, side=side), state, make_config())
    assert isinstance(verdict.decision, ExitOrder)
    assert verdict.decision.amount == pytest.approx(expected)
    assert verdict.decision.legs == (1,)


def test_the_plan_fixed_in_the_state_wins_over_the_settings_in_force():
    opening = PositionOpen(pair="ETH/BTC", side=Side.LONG, entry_price=3000.0, amount=10.0)
    state = create_state(opening, make_config(size_basis="initial")).state
    in_force = make_config(
        size_basis="remaining", ratchet_rule="step", tp_distances=[0.1, 0.2, 0.3]
    )
    applied = settings_for(state, in_force)
    assert (str(applied.size_basis), str(applied.ratchet_rule)) == ("initial", "seed")
    assert applied.tp_distances == (0.01, 0.02, 0.04)
    assert applied.max_unrealized_loss_pct == in_force.max_unrealized_loss_pct  # applies live


def test_plan_and_booked_orders_round_trip_and_old_rows_read_without_them():
    opening = PositionOpen(
        pair="ETH/BTC", side=Side.SHORT, entry_price=3000.0, amount=10.0, order_id="e1"
    )
    state = create_state(opening, make_config(tp_atr_multipliers=[1.0, 2.0, 3.0])).state
    raw = json.loads(json.dumps(to_json_dict(state)))
    assert from_json_dict(raw) == state
    assert raw["booked_orders"] == ["e1"]
    del raw["plan"], raw["booked_orders"]
    old = from_json_dict(raw)
    assert (old.plan, old.booked_orders) == (None, None)


def test_an_amount_step_as_large_as_the_position_lets_the_merge_rule_decide():
    state = make_state(size=0.001)
    snapshot = make_snapshot(
        3151.0, amount_step=0.001, min_order_amount=0.001, min_remaining_amount=0.0013
    )
    verdict = evaluate_position(snapshot, state, make_config())
    assert isinstance(verdict.decision, Hold)  # not "close 100 % at TP1"
    assert any("merged into TP2" in event.message for event in verdict.events)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ratchet_offset": 0.02}, "tp_distances[0]=0.01"),
        ({"ratchet_offset": 0.01}, "tp_distances[0]=0.01"),
        ({"ratchet_offset": 0.005, "tp_distances": [0.01, 0.012, 0.04]}, "tp_distances[1]=0.012"),
        (
            {"ratchet_offset": 0.005, "tp_distances": [0.01, 0.02, 0.024], "ratchet_rule": "step"},
            "tp_distances[2]=0.024",
        ),
    ],
    ids=["offset-above-tp1", "offset-at-tp1", "offset-past-tp2", "step-offset-past-tp3"],
)
def test_a_ratchet_offset_that_passes_its_level_is_a_startup_error(settings, message):
    with pytest.raises(ConfigError, match=r"exit_brain\.ratchet_offset must keep") as error:
        parse_config(settings)
    assert message in str(error.value)


def test_a_ratchet_offset_inside_the_ladder_is_accepted():
    assert parse_config({"ratchet_offset": 0.005}).ratchet_offset == 0.005
    seed = {"ratchet_offset": 0.005, "tp_distances": [0.01, 0.02, 0.024]}
    assert parse_config(seed).ratchet_offset == 0.005  # seed: TP3 never follows TP2's price


@pytest.mark.parametrize(
    ("tick", "prices", "fractions"),
    [
        (0.002, [0.102, 0.104], [0.4375, 0.5]),
        (0.01, [0.11], [0.71875]),
        (0.000001, [0.101, 0.102, 0.104], [0.25, 0.25, 0.5]),
    ],
    ids=["tick-0.002", "tick-0.01", "tick-fine"],
)
def test_levels_round_away_from_the_entry_and_merge_on_one_tick(tick, prices, fractions):
    levels, notes = priced_levels("ETH/BTC", Side.LONG, 0.1, make_config(), None, tick)
    assert [level.price for level in levels] == prices
    assert [level.fraction for level in levels] == pytest.approx(fractions)
    assert bool(notes) is (tick > 0.000001)


TICKS = st.sampled_from([1e-8, 1e-6, 0.0001, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1.0])


@given(
    tick=TICKS,
    units=st.integers(20, 5000),
    side=st.sampled_from(Side),
    basis=st.sampled_from(["remaining", "initial"]),
)
def test_priced_levels_never_drop_the_ladder_and_keep_what_it_closes(tick, units, side, basis):
    entry = round(units * tick, 10)  # an entry on the tick, as exchanges fill
    config = make_config(size_basis=basis)
    levels, _ = priced_levels("P", side, entry, config, None, tick)
    assert levels  # never the whole ladder dropped
    for level in levels:
        assert math.isclose(level.price / tick, round(level.price / tick), abs_tol=1e-6)
        assert (level.price > entry) if side is Side.LONG else (0 < level.price < entry)
    prices = [level.price for level in levels]
    assert prices == sorted(prices, reverse=side is Side.SHORT)
    assert len(set(prices)) == len(prices)  # merged: one level per tick
    shares = (runner_share([lv.fraction for lv in levels], config.size_basis),)
    assert shares[0] == pytest.approx(runner_share(config.tp_profile, config.size_basis))
