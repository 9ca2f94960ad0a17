"""State persistence: the JSON form round-trips exactly; anything else is a StateError."""

import json

from hypothesis import given
from hypothesis import strategies as st

from exit_brain_plugin.core import PositionState, StateError, from_json_dict, to_json_dict
from tests.properties.simulator import round_trip, simulate
from tests.properties.strategies import JSON_VALUES, position_states, scenarios


@given(position_states())
def test_any_state_round_trips_through_json(state):
    assert from_json_dict(json.loads(json.dumps(to_json_dict(state)))) == state


@given(scenarios())
def test_every_state_along_a_path_round_trips_through_json(scenario):
    for state in simulate(scenario).states:
        assert round_trip(state) == state


@given(position_states(), st.data())
def test_corrupted_field_is_rejected_or_read_never_crashes(state, data):
    stored = json.loads(json.dumps(to_json_dict(state)))
    key = data.draw(st.sampled_from(sorted(stored)))
    stored[key] = data.draw(JSON_VALUES)
    try:
        loaded = from_json_dict(stored)
    except StateError:
        return
    assert isinstance(loaded, PositionState)
    assert loaded.tp_hits_count == len(loaded.triggered_legs)
