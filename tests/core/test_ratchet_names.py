"""The ratchet stop's name (core/ratchet.py R4): one naming for the brain and the reports."""

import pytest

from exit_brain_plugin.core.ratchet import ratchet_leg, ratchet_stop_name, ratchet_stop_names
from tests.conftest import make_config


@pytest.mark.parametrize(
    ("rule", "hits", "leg", "name"),
    [
        ("seed", 0, None, None),
        ("seed", 1, 0, "breakeven"),
        ("seed", 2, 1, "tp1"),
        ("seed", 4, 1, "tp1"),
        ("step", 1, 0, "breakeven"),
        ("step", 2, 1, "tp1"),
        ("step", 4, 3, "tp3"),
    ],
    ids=["seed-none", "seed-1", "seed-2", "seed-4", "step-1", "step-2", "step-4"],
)
def test_the_ratchet_stop_is_named_by_the_price_it_sits_on(rule, hits, leg, name):
    config = make_config(ratchet_rule=rule)
    assert ratchet_leg(hits, config) == leg
    assert ratchet_stop_name(hits, config) == name


def test_every_name_the_settings_can_produce_is_listed_in_order():
    assert ratchet_stop_names(make_config(), 4) == ("breakeven", "tp1")
    step = make_config(ratchet_rule="step")
    assert ratchet_stop_names(step, 4) == ("breakeven", "tp1", "tp2", "tp3")
    assert ratchet_stop_names(make_config(ratchet_sl_enabled=False), 4) == ()
