"""The loss-guard price kept in the state: optional, JSON-safe, and old rows still load."""

import json

import pytest

from exit_brain_plugin.core import StateError, from_json_dict, to_json_dict
from tests.conftest import make_state


def test_a_row_written_before_the_guard_price_loads_without_it():
    stored = to_json_dict(make_state())
    del stored["loss_guard_price"]
    assert from_json_dict(stored).loss_guard_price is None


def test_the_guard_price_survives_the_json_round_trip():
    from dataclasses import replace

    state = replace(make_state(), loss_guard_price=0.0875)
    assert from_json_dict(json.loads(json.dumps(to_json_dict(state)))) == state


@pytest.mark.parametrize("bad", [-1.0, 0.0, "0.08", True], ids=["negative", "zero", "text", "bool"])
def test_a_bad_guard_price_is_rejected_by_name(bad):
    stored = to_json_dict(make_state())
    stored["loss_guard_price"] = bad
    with pytest.raises(StateError, match="loss_guard_price"):
        from_json_dict(stored)
