"""Per-position state (docs/behaviour.md §3): JSON round trip, corrupt data, rebuild from fills."""

import json
import math

import pytest

from exit_brain_plugin.core import (
    SCHEMA_VERSION,
    Fill,
    FillKind,
    Hold,
    PositionOpen,
    RatchetRecord,
    Side,
    StateError,
    evaluate_position,
    from_json_dict,
    rebuild_state,
    to_json_dict,
)
from tests.conftest import make_config, make_snapshot, make_state, rendered


def _round_trip(state):
    return from_json_dict(json.loads(json.dumps(to_json_dict(state))))


def _stored(**changes):
    data = json.loads(json.dumps(to_json_dict(make_state(hits=1, remaining_size=7.5))))
    data.update(changes)
    return data


STATES = [
    pytest.param(make_state(), id="fresh"),
    pytest.param(make_state(side=Side.SHORT, stop=None), id="short-without-stop"),
    pytest.param(
        make_state(
            hits=2,
            remaining_size=5.625,
            leg_base_size=5.625,
            active_sl=3150.0,
            sl_reason="tp1",
            max_unrealized_profit_pct=11.5,
            ratchets=(
                RatchetRecord(tp_hits=1, old_price=2940.0, new_price=3000.0, reason="breakeven"),
                RatchetRecord(tp_hits=2, old_price=3000.0, new_price=3150.0, reason="tp1"),
            ),
        ),
        id="after-tp2",
    ),
    pytest.param(
        make_state(
            tp=(),
            remaining_size=0.0,
            active_sl=None,
            sl_reason="loss_guard",
            loss_guard_triggered=True,
            exit_kind="loss_guard",
            max_unrealized_profit_pct=-3.0,
        ),
        id="loss-guard-closed",
    ),
    pytest.param(make_state(entry=0.0850, size=1.2, tp=((0.0867, 1.0),), stop=0.08), id="tiny"),
]


@pytest.mark.parametrize("state", STATES)
def test_json_round_trip_is_the_identity(state):
    assert _round_trip(state) == state


def test_json_form_holds_only_simple_types():
    def simple(value):
        if isinstance(value, dict):
            return all(isinstance(k, str) and simple(v) for k, v in value.items())
        if isinstance(value, list):
            return all(simple(item) for item in value)
        return value is None or isinstance(value, bool | int | float | str)

    data = to_json_dict(STATES[2].values[0])
    assert simple(data)
    assert data["version"] == SCHEMA_VERSION
    assert data["side"] == "long"


CORRUPT = [
    pytest.param([], id="not-an-object"),
    pytest.param(None, id="null"),
    pytest.param("{}", id="string"),
    pytest.param(_stored(version=0), id="older-version"),
    pytest.param(_stored(version=SCHEMA_VERSION + 1), id="newer-version"),
    pytest.param(_stored(version="1"), id="version-string"),
    pytest.param(_stored(version=True), id="version-bool"),
    pytest.param(_stored(version=1.0), id="version-float"),
    pytest.param({k: v for k, v in _stored().items() if k != "version"}, id="no-version"),
    pytest.param({k: v for k, v in _stored().items() if k != "entry_price"}, id="no-entry"),
    pytest.param({k: v for k, v in _stored().items() if k != "pair"}, id="no-pair"),
    pytest.param(_stored(side="up"), id="side-unknown"),
    pytest.param(_stored(side=None), id="side-null"),
    pytest.param(_stored(entry_price="3000"), id="entry-string"),
    pytest.param(_stored(entry_price=0.0), id="entry-zero"),
    pytest.param(_stored(entry_price=math.nan), id="entry-nan"),
    pytest.param(_stored(initial_size=True), id="size-bool"),
    pytest.param(_stored(remaining_size=-1.0), id="remaining-negative"),
    pytest.param(_stored(remaining_size=math.inf), id="remaining-inf"),
    pytest.param(_stored(tp_levels={"1": 3150}), id="levels-object"),
    pytest.param(_stored(tp_levels=[[3150.0]]), id="level-not-a-pair"),
    pytest.param(_stored(tp_levels=[[3150.0, 1.5]]), id="level-fraction-above-one"),
    pytest.param(_stored(tp_levels=[[3150.0, 0.0]]), id="level-fraction-zero"),
    pytest.param(_stored(tp_levels=[[-1.0, 0.5]]), id="level-price-negative"),
    pytest.param(_stored(triggered_legs=[0], tp_hits_count=1), id="leg-zero"),
    pytest.param(_stored(triggered_legs=[True], tp_hits_count=1), id="leg-bool"),
    pytest.param(_stored(triggered_legs="1"), id="legs-string"),
    pytest.param(_stored(tp_hits_count=1.0), id="hits-float"),
    pytest.param(_stored(tp_hits_count=True), id="hits-bool"),
    pytest.param(_stored(tp_hits_count=2), id="hits-disagree-with-legs"),
    pytest.param(_stored(triggered_legs=[2], tp_hits_count=1), id="legs-not-in-order"),
    pytest.param(_stored(triggered_legs=[1, 1], tp_hits_count=2), id="leg-twice"),
    pytest.param(_stored(active_sl="3000"), id="stop-string"),
    pytest.param(_stored(active_sl=0.0), id="stop-zero"),
    pytest.param(_stored(sl_reason=None), id="reason-null"),
    pytest.param(_stored(loss_guard_triggered=1), id="guard-int"),
    pytest.param(_stored(max_unrealized_profit_pct=math.inf), id="high-water-inf"),
    pytest.param(_stored(ratchets=[[1, 2940.0, 3000.0]]), id="ratchet-short"),
    pytest.param(_stored(ratchets=[[1.0, 2940.0, 3000.0, "be"]]), id="ratchet-hits-float"),
    pytest.param(_stored(ratchets=[[1, "x", 3000.0, "be"]]), id="ratchet-old-string"),
    pytest.param(_stored(ratchets="[]"), id="ratchets-string"),
    pytest.param(_stored(exit_kind=5), id="exit-kind-number"),
]


@pytest.mark.parametrize("data", CORRUPT)
def test_corrupt_or_foreign_state_raises_state_error(data):
    with pytest.raises(StateError):
        from_json_dict(data)


def test_state_error_names_the_bad_field():
    with pytest.raises(StateError, match=r"'remaining_size'.*-1\.0"):
        from_json_dict(_stored(remaining_size=-1.0))


def test_hits_disagreeing_with_legs_says_both():
    with pytest.raises(StateError, match=r"tp_hits_count=2, triggered_legs=\[1\]"):
        from_json_dict(_stored(tp_hits_count=2))


def test_integer_numbers_in_stored_json_are_accepted():
    state = from_json_dict(_stored(entry_price=3000, remaining_size=7))
    assert (state.entry_price, state.remaining_size) == (3000.0, 7.0)


# rebuild from the trade's filled orders (the ground truth)


OPENING = PositionOpen(
    pair="ETH/USDT", side=Side.LONG, entry_price=3000.0, amount=10.0, initial_stop_price=2940.0
)
WORKED_CONFIG = make_config(tp_distances=[0.05, 0.10, 0.20])


def _tp(amount, legs, order_id, complete=True):
    return Fill(
        kind=FillKind.TAKE_PROFIT,
        filled_amount=amount,
        price=3150.0,
        order_id=order_id,
        legs=legs,
        complete=complete,
    )


def test_rebuild_from_fills_reproduces_the_worked_example():
    fills = [_tp(2.5, (1,), "a"), _tp(1.875, (2,), "b"), _tp(2.8125, (3,), "c")]
    state = rebuild_state(OPENING, fills, WORKED_CONFIG).state
    assert (state.remaining_size, state.tp_hits_count, state.triggered_legs) == (
        2.8125,
        3,
        (1, 2, 3),
    )
    assert state.active_sl == pytest.approx(3150.0)
    assert state.sl_reason == "tp1"
    assert [r.reason for r in state.ratchets] == ["breakeven", "tp1"]


def test_rebuild_logs_the_creation_and_every_fill():
    lines = rendered(rebuild_state(OPENING, [_tp(2.5, (1,), "a")], WORKED_CONFIG).events)
    assert lines[0].startswith("[EXIT_BRAIN_EXECUTOR] Created new state for ETH/USDT:LONG")
    assert "[EXIT_ORDER] ✅ TP1 MARKET SELL ETH/USDT 2.5000 executed - orderId=a" in lines


def test_rebuilt_state_never_repeats_a_take_profit():
    fills = [_tp(2.5, (1,), "a"), _tp(1.875, (2,), "b")]
    state = rebuild_state(OPENING, fills, WORKED_CONFIG).state
    order = evaluate_position(make_snapshot(3400.0), state, WORKED_CONFIG).decision
    assert order == Hold()


def test_rebuild_with_a_partial_fill_and_its_retry_counts_one_hit():
    fills = [_tp(1.0, (1,), "a", complete=False), _tp(1.5, (1,), "b")]
    state = rebuild_state(OPENING, fills, WORKED_CONFIG).state
    assert (state.remaining_size, state.tp_hits_count, state.active_sl) == (7.5, 1, 3000.0)


def test_rebuild_ignores_a_repeated_fill_for_legs_already_hit():
    fills = [_tp(2.5, (1,), "a"), _tp(2.5, (1,), "a-again")]
    state = rebuild_state(OPENING, fills, WORKED_CONFIG).state
    assert (state.tp_hits_count, state.triggered_legs) == (1, (1,))


def test_rebuild_applies_a_later_entry_fill_to_size_and_entry():
    entry = Fill(
        kind=FillKind.ENTRY,
        filled_amount=10.0,
        price=2900.0,
        order_id="dca",
        entry_price_after=2950.0,
    )
    state = rebuild_state(OPENING, [entry], WORKED_CONFIG).state
    assert (state.remaining_size, state.entry_price, state.initial_size) == (20.0, 2950.0, 10.0)


def test_rebuild_after_a_stop_fill_is_closed_with_its_reason():
    stop = Fill(
        kind=FillKind.STOP, filled_amount=7.5, price=3000.0, order_id="sl", reason="breakeven"
    )
    state = rebuild_state(OPENING, [_tp(2.5, (1,), "a"), stop], WORKED_CONFIG).state
    assert (state.remaining_size, state.exit_kind) == (0.0, "stop:breakeven")
