"""The shadow ledger's JSON form: a round trip, and anything else rejected as a StateError."""

import json

import pytest

from exit_brain_plugin.core import StateError
from exit_brain_plugin.core.ledger import VirtualFill, ledger_from_json, ledger_to_json


FILLS = (
    VirtualFill(
        at="2026-03-02T12:02:30+00:00",
        kind="take_profit",
        tag="exit_brain_tp1+tp2",
        legs=(1, 2),
        amount=0.218,
        price=0.1021,
    ),
    VirtualFill(
        at="2026-03-02T12:03:30+00:00",
        kind="stop",
        tag="exit_brain_stop",
        legs=(),
        amount=0.282,
        price=0.1009,
        reason="tp1",
    ),
)


def test_ledger_round_trips_through_json():
    assert ledger_from_json(json.loads(json.dumps(ledger_to_json(FILLS)))) == FILLS


@pytest.mark.parametrize(
    "data",
    [
        None,
        "tp1 done",
        {"version": 2, "fills": []},
        {"version": 1},
        {"version": 1, "fills": [{"kind": "take_profit", "amount": 1, "price": 0}]},
        {"version": 1, "fills": [{"kind": "entry", "amount": 1, "price": 1}]},
        {"version": 1, "fills": [{"kind": "stop", "amount": True, "price": 1}]},
        {"version": 1, "fills": [{"kind": "stop", "amount": 1, "price": 1, "legs": [0]}]},
        {"version": 1, "fills": [{"kind": "stop", "amount": 1, "price": float("nan")}]},
    ],
    ids=[
        "none",
        "a string",
        "a newer version",
        "no fills",
        "a zero price",
        "an unknown kind",
        "a bool amount",
        "level 0",
        "NaN",
    ],
)
def test_anything_but_a_ledger_is_a_state_error(data):
    with pytest.raises(StateError, match="shadow ledger"):
        ledger_from_json(data)
