"""Brain invariants (brain.py, loss_guard.py): guard once and dominant, idempotence, mirror."""

import math
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from exit_brain_plugin.core import (
    EventKind,
    ExitKind,
    ExitOrder,
    Hold,
    LogTag,
    Side,
    evaluate_position,
)
from tests.conftest import make_snapshot
from tests.properties.simulator import is_beyond_stop, price_at, simulate, without_offset
from tests.properties.strategies import configs, open_states, scenarios


@given(scenarios(loss_guard=True))
def test_loss_guard_fires_once(scenario):
    trace = simulate(scenario)
    fired_events = 0
    fired = False
    for step in trace.steps:
        events = step.events  # the guard may fire in an evaluation or as a stop fill
        fired_events += sum(event.kind is EventKind.LOSS_GUARD_FIRED for event in events)
        if fired and step.verdict is not None:
            # G2: every later evaluation only repeats the full close; no TP, no ratchet
            assert step.order is not None
            assert step.order.kind is ExitKind.LOSS_GUARD
            assert step.order.close_all
        if fired:
            # the rest may still close at a stop (a "Stopped out" line), but no level fills
            # and the stop never moves again
            assert not [e for e in events if e.tag is LogTag.TP_TRIGGER]
            assert not [e for e in events if e.kind in (EventKind.TP_FILLED, EventKind.RATCHETED)]
            assert step.after.tp_hits_count == step.before.tp_hits_count
            assert (step.after.active_sl, step.after.tp_levels) == (None, ())
        fired = fired or step.after.loss_guard_triggered
    # docs/behaviour.md §7: the trigger line is written exactly once for a position whose guard
    # fired
    assert fired_events == (1 if trace.states[-1].loss_guard_triggered else 0)


@given(
    open_states(),
    configs(loss_guard_enabled=True),
    st.lists(st.tuples(st.floats(-0.3, 0.3), st.floats(-1.0, 1.0)), min_size=1, max_size=8),
)
def test_fired_loss_guard_only_repeats_the_full_close(state, config, ticks):
    crash = make_snapshot(state.entry_price, side=state.side, profit=-1.0)
    fired = evaluate_position(crash, state, config).state
    for move, profit in ticks:
        snapshot = make_snapshot(
            price_at(state.side, state.entry_price, move),
            side=state.side,
            entry=state.entry_price,
            profit=profit,
        )
        verdict = evaluate_position(snapshot, fired, config)
        assert verdict.decision.kind is ExitKind.LOSS_GUARD
        assert (verdict.decision.amount, verdict.decision.close_all) == (state.remaining_size, True)
        assert verdict.events == ()
        assert verdict.state.tp_hits_count == state.tp_hits_count


@given(scenarios(loss_guard=True))
def test_loss_guard_dominates_whatever_the_ladder_and_stop_state(scenario):
    trace = simulate(scenario)
    config = trace.config
    crash = -config.max_unrealized_loss_pct / 100.0
    for step in trace.steps:
        state = step.after
        if step.snapshot is None or state.loss_guard_triggered or state.remaining_size <= 0:
            continue
        snapshot = replace(step.snapshot, current_profit=crash)
        verdict = evaluate_position(snapshot, state, config, step.plan)
        assert isinstance(verdict.decision, ExitOrder)
        assert verdict.decision.kind is ExitKind.LOSS_GUARD
        assert verdict.decision.close_all
        assert verdict.decision.amount == state.remaining_size


@given(scenarios(with_plan=True))
def test_evaluation_is_idempotent_with_a_strategy_plan(scenario):
    _assert_idempotent(scenario)


@given(scenarios(with_plan=False))
def test_evaluation_is_idempotent(scenario):
    _assert_idempotent(scenario)


def _assert_idempotent(scenario):
    trace = simulate(scenario)
    for step in trace.steps:
        if step.verdict is None:
            continue
        again = evaluate_position(step.snapshot, step.verdict.state, trace.config, step.plan)
        assert again.decision == step.verdict.decision
        assert again.state == step.verdict.state


def _mirrored(long_price, short_price, entry):
    if long_price is None or short_price is None:
        return long_price is None and short_price is None
    return math.isclose(
        long_price - entry, entry - short_price, rel_tol=1e-9, abs_tol=entry * 1e-12
    )


def _decision_key(verdict):
    if verdict is None:
        return None
    decision = verdict.decision
    if isinstance(decision, Hold):
        return "hold"
    return (decision.kind, decision.tag, decision.legs, decision.close_all, decision.amount)


@given(scenarios())
def test_long_short_mirror(scenario):
    scenario = without_offset(scenario)
    long, short = simulate(scenario, side=Side.LONG), simulate(scenario, side=Side.SHORT)
    entry = scenario.entry_price
    assert len(long.steps) == len(short.steps)
    for a, b in zip(long.steps, short.steps, strict=True):
        assert _decision_key(a.verdict) == _decision_key(b.verdict)
        assert (a.fill is None) == (b.fill is None)
        for x, y in ((a.before, b.before), (a.after, b.after)):
            assert (x.remaining_size, x.triggered_legs, x.sl_reason, x.exit_kind) == (
                y.remaining_size,
                y.triggered_legs,
                y.sl_reason,
                y.exit_kind,
            )
            assert x.loss_guard_triggered == y.loss_guard_triggered
            assert _mirrored(x.active_sl, y.active_sl, entry)
            assert len(x.tp_levels) == len(y.tp_levels)
        assert _mirrored(a.held_stop, b.held_stop, entry)


@given(scenarios())
def test_breached_brain_stop_is_always_closed_by_someone(scenario):
    trace = simulate(scenario)
    for step in trace.steps:
        state, snapshot = step.before, step.snapshot
        if snapshot is None or state.active_sl is None or state.sl_reason == "initial":
            continue
        if not is_beyond_stop(trace.side, snapshot.price, state.active_sl):
            continue
        held = snapshot.exchange_stop_price
        freqtrade_closes = held is not None and is_beyond_stop(trace.side, snapshot.price, held)
        assert freqtrade_closes or (step.order is not None and step.order.close_all)
