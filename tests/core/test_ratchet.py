"""Stop ratchet (ratchet.py R1-R3): candidates per rule, offset, only-tighten, switch."""

import pytest

from exit_brain_plugin.core import Fill, FillKind, Side, apply_fill
from tests.conftest import make_config, make_state, rendered


def _tp_fill(state, legs, config, amount=None):
    """Fill the next TP legs completely (amount defaults to what the ladder would close)."""
    price = state.tp_levels[legs[-1] - 1].price
    fill = Fill(
        kind=FillKind.TAKE_PROFIT,
        filled_amount=state.remaining_size * 0.25 if amount is None else amount,
        price=price,
        order_id=f"tp{legs[-1]}",
        legs=tuple(legs),
    )
    return apply_fill(state, fill, config)


def _walk(config, side=Side.LONG, **state_fields):
    """Fill TP1, TP2 and TP3 one by one; return the stops after each fill."""
    state = make_state(side=side, **state_fields)
    stops = []
    for leg in (1, 2, 3):
        state = _tp_fill(state, [leg], config).state
        stops.append((state.active_sl, state.sl_reason))
    return stops


def test_seed_rule_goes_breakeven_then_tp1_then_stays():
    stops = _walk(make_config())
    assert stops == [(3000.0, "breakeven"), (3150.0, "tp1"), (3150.0, "tp1")]


def test_step_rule_moves_to_the_previous_level_after_each_hit():
    stops = _walk(make_config(ratchet_rule="step"))
    assert stops == [(3000.0, "breakeven"), (3150.0, "tp1"), (3300.0, "tp2")]


def test_step_rule_logs_tp2_price_after_tp3():
    config = make_config(ratchet_rule="step")
    state = make_state(hits=2, active_sl=3150.0, sl_reason="tp1", remaining_size=5.625)
    verdict = _tp_fill(state, [3], config)
    assert rendered(verdict.events)[-1] == (
        "[EXIT_RATCHET_SL] 🎯 ETH/USDT LONG: SL ratcheted $3150.0000 → $3300.0000 - "
        "TP2 price after TP3 hit (tp_hits=3)"
    )


def test_step_rule_for_a_short_moves_down_to_the_previous_level():
    stops = _walk(make_config(ratchet_rule="step"), side=Side.SHORT)
    assert stops == [(50000.0, "breakeven"), (49000.0, "tp1"), (48000.0, "tp2")]


def test_offset_moves_breakeven_in_the_long_favour():
    state = _tp_fill(make_state(), [1], make_config(ratchet_offset=0.002)).state
    assert state.active_sl == pytest.approx(3006.0)


def test_offset_moves_breakeven_in_the_short_favour():
    config = make_config(ratchet_offset=0.002)
    state = _tp_fill(make_state(side=Side.SHORT), [1], config).state
    assert state.active_sl == pytest.approx(49900.0)


def test_offset_applies_to_the_tp1_candidate_too():
    config = make_config(ratchet_offset=0.01, tp_distances=[0.05, 0.1, 0.2])  # the state's ladder
    state = make_state(hits=1, active_sl=3030.0, sl_reason="breakeven", remaining_size=7.5)
    assert _tp_fill(state, [2], config).state.active_sl == pytest.approx(3181.5)


def test_ratchet_never_loosens_a_tighter_existing_stop():
    state = make_state(stop=3100.0)  # the strategy's stop is already above breakeven
    verdict = _tp_fill(state, [1], make_config())
    assert (verdict.state.active_sl, verdict.state.ratchets) == (3100.0, ())
    assert not [line for line in rendered(verdict.events) if "EXIT_RATCHET_SL" in line]


def test_ratchet_never_loosens_a_tighter_short_stop():
    state = make_state(side=Side.SHORT, stop=49500.0)
    assert _tp_fill(state, [1], make_config()).state.active_sl == 49500.0


def test_ratchet_from_no_stop_sets_one():
    verdict = _tp_fill(make_state(stop=None), [1], make_config())
    assert verdict.state.active_sl == 3000.0
    assert "SL ratcheted $none → $3000.0000" in rendered(verdict.events)[-1]


def test_ratchet_disabled_keeps_the_initial_stop():
    config = make_config(ratchet_sl_enabled=False)
    stops = _walk(config)
    assert stops == [(2940.0, "initial")] * 3


def test_ratchet_disabled_still_counts_hits():
    state = _tp_fill(make_state(), [1], make_config(ratchet_sl_enabled=False)).state
    assert (state.tp_hits_count, state.remaining_size) == (1, 7.5)


def test_ratchet_records_every_move():
    state = make_state()
    for leg in (1, 2):
        state = _tp_fill(state, [leg], make_config()).state
    assert [(r.old_price, r.new_price, r.reason) for r in state.ratchets] == [
        (2940.0, 3000.0, "breakeven"),
        (3000.0, 3150.0, "tp1"),
    ]


def test_partial_tp_fill_that_completes_no_leg_does_not_ratchet():
    state = make_state()
    verdict = _tp_fill(state, [1], make_config(), amount=1.0)
    fill = Fill(
        kind=FillKind.TAKE_PROFIT,
        filled_amount=1.0,
        price=3150.0,
        order_id="p",
        legs=(1,),
        complete=False,
    )
    partial = apply_fill(state, fill, make_config()).state
    assert (partial.active_sl, partial.sl_reason) == (2940.0, "initial")
    assert verdict.state.active_sl == 3000.0  # a complete fill of the same amount does


def test_non_tp_exit_fill_never_moves_the_stop():
    fill = Fill(kind=FillKind.OTHER_EXIT, filled_amount=2.0, price=3100.0, order_id="roi")
    state = apply_fill(make_state(), fill, make_config()).state
    assert (state.active_sl, state.remaining_size) == (2940.0, 8.0)
