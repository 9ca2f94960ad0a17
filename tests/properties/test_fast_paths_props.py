"""The core's fast paths decide exactly as the plain paths (benchmarks/bench_core.py).

- ``evaluate_ladder(..., price=p, explain=False)`` gives the order of the ladder evaluated on
  a snapshot at ``p`` (the resting order's price, docs/behaviour.md §6), without its trigger
  event;
- ``settings_for`` gives the plan merged over the settings passed, whatever was asked before
  (its identity cache never answers for another plan or other settings).
"""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from exit_brain_plugin.core.brain import plan_of, settings_for
from exit_brain_plugin.core.ladder import evaluate_ladder
from tests.conftest import make_snapshot
from tests.properties.strategies import configs, exchanges, open_states, position_states


@given(
    open_states(),
    configs(),
    exchanges(),
    st.floats(-0.3, 0.3),
    st.floats(-0.3, 0.3),
)
def test_ladder_at_a_price_without_events_is_the_ladder_at_that_price(
    state, config, exchange, tick, level
):
    snapshot = make_snapshot(
        state.entry_price * (1.0 + tick),
        side=state.side,
        amount_step=exchange.amount_step,
        min_order_amount=exchange.min_order_amount,
        min_remaining_amount=exchange.min_remaining_amount,
    )
    price = state.entry_price * (1.0 + level)
    fast, quiet = evaluate_ladder(state, snapshot, config, price=price, explain=False)
    plain, explained = evaluate_ladder(state, replace(snapshot, price=price), config)
    assert fast == plain
    # the same events, less the trigger line an order opens with
    assert quiet == (explained if plain is None else explained[1:])
    same, _ = evaluate_ladder(state, snapshot, config, price=snapshot.price)
    assert same == evaluate_ladder(state, snapshot, config)[0]


@given(position_states(), configs(), configs(), configs())
def test_settings_for_never_answers_for_other_plans_or_settings(state, first, second, shaping):
    ours = replace(state, plan=plan_of(shaping))
    other = replace(state, plan=plan_of(first))
    for config in (first, second, first):
        for position in (ours, other, ours):
            merged = settings_for(position, config)
            assert merged.tp_distances == position.plan.tp_distances
            assert merged.tp_profile == position.plan.tp_profile
            assert merged.ratchet_offset == position.plan.ratchet_offset
            assert merged.max_unrealized_loss_pct == config.max_unrealized_loss_pct
            assert merged.loss_guard_enabled == config.loss_guard_enabled
    assert settings_for(replace(state, plan=None), second) is second
