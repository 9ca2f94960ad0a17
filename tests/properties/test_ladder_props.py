"""Ladder invariants (ladder.py) along random price paths, fills, restarts and plans."""

import math

from hypothesis import given

from exit_brain_plugin.core import ExitKind
from tests.properties.simulator import simulate
from tests.properties.strategies import scenarios


def _tolerance(trace):
    return trace.scenario.exchange.size * 1e-9


@given(scenarios())
def test_remaining_never_negative(scenario):
    trace = simulate(scenario)
    for step in trace.steps:
        assert step.after.remaining_size >= 0
        assert step.position_amount >= -_tolerance(trace)


@given(scenarios())
def test_closed_never_exceeds_initial(scenario):
    trace = simulate(scenario)
    tol = _tolerance(trace)
    assert trace.total_filled <= scenario.exchange.size + tol
    for step in trace.steps:
        if step.order is not None:
            assert step.order.amount <= step.verdict.state.remaining_size + tol
            assert step.order.amount <= step.position_before + tol


@given(scenarios())
def test_state_tracks_what_the_exchange_holds(scenario):
    trace = simulate(scenario)
    step_amount = scenario.exchange.amount_step or 0.0
    for step in trace.steps:
        if step.after.remaining_size == 0:
            assert step.position_amount < step_amount + _tolerance(trace) or step.fill is None
        else:
            assert math.isclose(step.after.remaining_size, step.position_amount, abs_tol=1e-9)


@given(scenarios())
def test_no_level_triggers_twice(scenario):
    trace = simulate(scenario)
    for step in trace.steps:
        after, before = step.after, step.before
        assert after.triggered_legs == tuple(range(1, after.tp_hits_count + 1))
        assert after.triggered_legs[: len(before.triggered_legs)] == before.triggered_legs
        order = step.order
        if order is not None and order.kind is ExitKind.TAKE_PROFIT:
            first = len(step.verdict.state.triggered_legs) + 1
            assert order.legs == tuple(range(first, first + len(order.legs)))
            assert order.tag == "exit_brain_" + "+".join(f"tp{leg}" for leg in order.legs)


@given(scenarios())
def test_tp_orders_are_sizes_the_exchange_accepts(scenario):
    trace = simulate(scenario)
    exchange = scenario.exchange
    tol = _tolerance(trace)
    for step in trace.steps:
        order = step.order
        if order is None or order.kind is not ExitKind.TAKE_PROFIT:
            continue
        assert order.amount >= exchange.min_order_amount - tol
        if not order.close_all:
            assert order.amount > 0
            leftover = step.verdict.state.remaining_size - order.amount
            assert leftover >= exchange.min_remaining_amount - tol
            if exchange.amount_step is not None:
                units = order.amount / exchange.amount_step
                assert math.isclose(units, round(units), abs_tol=1e-6)


@given(scenarios())
def test_exit_orders_are_finite_and_positive(scenario):
    for step in simulate(scenario).steps:
        if step.order is not None:
            assert math.isfinite(step.order.amount)
            assert step.order.amount > 0
            assert math.isfinite(step.order.price)
            assert step.order.price > 0
