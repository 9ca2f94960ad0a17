"""Ratchet invariants (ratchet.py R1-R3): the stop only tightens and follows its rule."""

import itertools
import math

from hypothesis import given
from hypothesis import strategies as st

from exit_brain_plugin.core import Fill, FillKind, RatchetRule, Side, apply_fill, evaluate_stop
from exit_brain_plugin.core.pricing import shift_favourable
from tests.properties.simulator import simulate, tighter
from tests.properties.strategies import configs, open_states, scenarios


def _not_looser(side, new, old):
    return math.isclose(new, old, rel_tol=1e-12) or tighter(side, new, old) == new


@given(scenarios())
def test_stop_never_loosens(scenario):
    trace = simulate(scenario)
    for step in trace.steps:
        old, new = step.before.active_sl, step.after.active_sl
        if new is None:
            assert old is None or step.after.loss_guard_triggered
        elif old is not None:
            assert _not_looser(trace.side, new, old)


@given(scenarios())
def test_stop_freqtrade_is_asked_to_hold_never_loosens_its_stop(scenario):
    trace = simulate(scenario)
    held = trace.initial_stop
    for step in trace.steps:
        target = evaluate_stop(
            step.after,
            trace.config,
            held_stop_price=held,
            host_stop_price=None,
            loss_guard_price=trace.loss_guard_price,
        )
        if target is not None and held is not None:
            assert _not_looser(trace.side, target.price, held)
        held = step.held_stop


def _candidate(state, config):
    hits = state.tp_hits_count
    if hits == 1:
        price = state.entry_price
    elif config.ratchet_rule is RatchetRule.SEED:
        price = state.tp_levels[0].price
    else:
        price = state.tp_levels[hits - 2].price
    return shift_favourable(state.side, price, config.ratchet_offset)


@given(scenarios())
def test_stop_after_a_tp_fill_follows_the_ratchet_rule(scenario):
    trace = simulate(scenario)
    config = trace.config
    for step in trace.steps:
        fill = step.fill
        if fill is None or fill.kind is not FillKind.TAKE_PROFIT:
            continue
        old = step.verdict.state.active_sl
        new = step.after.active_sl
        if step.after.tp_hits_count == step.verdict.state.tp_hits_count:
            assert new == old  # no leg completed: no ratchet
        elif not config.ratchet_sl_enabled:
            assert new == old
        else:
            candidate = _candidate(step.after, config)
            expected = candidate if old is None else tighter(trace.side, old, candidate)
            assert math.isclose(new, expected, rel_tol=1e-12)


@given(scenarios(side=Side.SHORT))
def test_short_stop_only_moves_down(scenario):
    trace = simulate(scenario)
    stops = [s.active_sl for s in trace.states if s.active_sl is not None]
    assert all(b <= a for a, b in itertools.pairwise(stops))


@given(open_states(), configs(), st.data())
def test_tp_fill_never_loosens_any_stop(state, config, data):
    count = data.draw(st.integers(1, len(state.tp_levels) - state.tp_hits_count))
    first = state.tp_hits_count + 1
    legs = tuple(range(first, first + count))
    fill = Fill(
        kind=FillKind.TAKE_PROFIT,
        filled_amount=state.remaining_size / 2,
        price=state.tp_levels[legs[-1] - 1].price,
        order_id="tp",
        legs=legs,
    )
    after = apply_fill(state, fill, config).state
    assert after.tp_hits_count == state.tp_hits_count + count
    if state.active_sl is None:
        assert (after.active_sl is None) is not config.ratchet_sl_enabled
    else:
        assert _not_looser(state.side, after.active_sl, state.active_sl)
        if config.ratchet_sl_enabled:
            assert _not_looser(state.side, after.active_sl, _candidate(after, config))
