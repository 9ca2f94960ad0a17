"""Settings validation (docs/behaviour.md §2): every bad value names its key and itself; good ones
parse."""

import math

import pytest

from exit_brain_plugin.core import (
    BrainConfig,
    ConfigError,
    Mode,
    RatchetRule,
    SizeBasis,
    parse_config,
)


# (raw section, key named in the message, the bad value as the message shows it)
INVALID = [
    pytest.param({"tp_ladder": [0.5]}, "exit_brain.tp_ladder", "[0.5]", id="unknown-key"),
    pytest.param({"enabled": "yes"}, "exit_brain.enabled", "'yes'", id="enabled-string"),
    pytest.param({"enabled": 1}, "exit_brain.enabled", "1", id="enabled-int"),
    pytest.param({"mode": "shadow"}, "exit_brain.mode", "'shadow'", id="mode-unknown"),
    pytest.param({"mode": None}, "exit_brain.mode", "None", id="mode-null"),
    pytest.param({"tp_profile": 0.5}, "exit_brain.tp_profile", "0.5", id="profile-not-list"),
    pytest.param({"tp_profile": []}, "exit_brain.tp_profile", "[]", id="profile-empty"),
    pytest.param(
        {"tp_profile": [0.5, True], "tp_distances": [0.01, 0.02]},
        "exit_brain.tp_profile[1]",
        "True",
        id="profile-bool-where-number",
    ),
    pytest.param(
        {"tp_profile": [0.0], "tp_distances": [0.01]},
        "exit_brain.tp_profile[0]",
        "0.0",
        id="fraction-zero",
    ),
    pytest.param(
        {"tp_profile": [0.5, 1.5], "tp_distances": [0.01, 0.02]},
        "exit_brain.tp_profile[1]",
        "1.5",
        id="fraction-above-one",
    ),
    pytest.param(
        {"tp_profile": [math.nan], "tp_distances": [0.01]},
        "exit_brain.tp_profile[0]",
        "nan",
        id="fraction-nan",
    ),
    pytest.param(
        {"tp_profile": ["0.5"], "tp_distances": [0.01]},
        "exit_brain.tp_profile[0]",
        "'0.5'",
        id="fraction-string",
    ),
    pytest.param(
        {"tp_distances": [0.0, 0.02, 0.04]},
        "exit_brain.tp_distances[0]",
        "0.0",
        id="distance-zero",
    ),
    pytest.param(
        {"tp_distances": [-0.01, 0.02, 0.04]},
        "exit_brain.tp_distances[0]",
        "-0.01",
        id="distance-negative",
    ),
    pytest.param(
        {"tp_distances": [0.01, math.inf, 0.04]},
        "exit_brain.tp_distances[1]",
        "inf",
        id="distance-inf",
    ),
    pytest.param(
        {"tp_distances": [0.01, 0.03, 0.02]},
        "exit_brain.tp_distances[2]",
        "0.02",
        id="distances-decreasing",
    ),
    pytest.param(
        {"tp_distances": [0.01, 0.01, 0.04]},
        "exit_brain.tp_distances[1]",
        "0.01",
        id="distances-equal",
    ),
    pytest.param(
        {"tp_distances": [0.01, 0.02]},
        "exit_brain.tp_distances",
        "[0.01, 0.02]",
        id="distances-length-mismatch",
    ),
    pytest.param({"tp_distances": None}, "exit_brain.tp_distances", "null", id="distances-null"),
    pytest.param(
        {"tp_atr_multipliers": [1.0, 2.0]},
        "exit_brain.tp_atr_multipliers",
        "[1.0, 2.0]",
        id="atr-length-mismatch",
    ),
    pytest.param(
        {"tp_atr_multipliers": [1.0, 0.0, 3.0]},
        "exit_brain.tp_atr_multipliers[1]",
        "0.0",
        id="atr-zero",
    ),
    pytest.param(
        {"tp_atr_multipliers": [2.0, 1.0, 3.0]},
        "exit_brain.tp_atr_multipliers[1]",
        "1.0",
        id="atr-not-increasing",
    ),
    pytest.param(
        {"tp_atr_multipliers": "1,2,3"},
        "exit_brain.tp_atr_multipliers",
        "'1,2,3'",
        id="atr-string",
    ),
    pytest.param(
        {"size_basis": "stake"}, "exit_brain.size_basis", "'stake'", id="size-basis-unknown"
    ),
    pytest.param({"max_tp_levels": 0}, "exit_brain.max_tp_levels", "0", id="max-levels-zero"),
    pytest.param(
        {"max_tp_levels": 1.5}, "exit_brain.max_tp_levels", "1.5", id="max-levels-fraction"
    ),
    pytest.param({"max_tp_levels": True}, "exit_brain.max_tp_levels", "True", id="max-levels-bool"),
    pytest.param({"max_tp_levels": "3"}, "exit_brain.max_tp_levels", "'3'", id="max-levels-string"),
    pytest.param(
        {"ratchet_sl_enabled": None}, "exit_brain.ratchet_sl_enabled", "None", id="ratchet-null"
    ),
    pytest.param(
        {"ratchet_rule": "trailing"}, "exit_brain.ratchet_rule", "'trailing'", id="rule-unknown"
    ),
    pytest.param(
        {"ratchet_offset": -0.001}, "exit_brain.ratchet_offset", "-0.001", id="offset-negative"
    ),
    pytest.param({"ratchet_offset": math.nan}, "exit_brain.ratchet_offset", "nan", id="offset-nan"),
    pytest.param(
        {"loss_guard_enabled": "false"},
        "exit_brain.loss_guard_enabled",
        "'false'",
        id="guard-enabled-string",
    ),
    pytest.param(
        {"max_unrealized_loss_pct": 0}, "exit_brain.max_unrealized_loss_pct", "0", id="threshold-0"
    ),
    pytest.param(
        {"max_unrealized_loss_pct": -12.5},
        "exit_brain.max_unrealized_loss_pct",
        "-12.5",
        id="threshold-negative",
    ),
    pytest.param(
        {"max_unrealized_loss_pct": "12.5"},
        "exit_brain.max_unrealized_loss_pct",
        "'12.5'",
        id="threshold-string",
    ),
    pytest.param(
        {"max_unrealized_loss_pct": True},
        "exit_brain.max_unrealized_loss_pct",
        "True",
        id="threshold-bool",
    ),
    pytest.param(
        {"max_unrealized_loss_pct": math.inf},
        "exit_brain.max_unrealized_loss_pct",
        "inf",
        id="threshold-inf",
    ),
]


@pytest.mark.parametrize(("raw", "key", "shown"), INVALID)
def test_invalid_setting_raises_config_error_naming_key_and_value(raw, key, shown):
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    message = str(caught.value)
    assert key in message
    assert shown in message


def test_config_error_is_a_value_error():
    with pytest.raises(ValueError, match=r"exit_brain\.mode"):
        parse_config({"mode": "live"})


def test_error_names_the_allowed_range():
    with pytest.raises(ConfigError, match=r"must be in \(0, 1\], was 1\.5"):
        parse_config({"tp_profile": [0.5, 1.5], "tp_distances": [0.01, 0.02]})


def test_section_that_is_not_an_object_is_rejected():
    with pytest.raises(ConfigError, match=r"exit_brain must be an object"):
        parse_config([("enabled", True)])


@pytest.mark.parametrize("raw", [None, {}], ids=["null-section", "empty-section"])
def test_missing_section_gives_the_spec_defaults(raw):
    config = parse_config(raw)
    assert config == BrainConfig()
    assert (config.mode, config.size_basis, config.ratchet_rule) == (
        Mode.ACT,
        SizeBasis.REMAINING,
        RatchetRule.SEED,
    )
    assert (config.tp_profile, config.tp_distances) == ((0.25, 0.25, 0.5), (0.01, 0.02, 0.04))
    assert (config.max_tp_levels, config.max_unrealized_loss_pct) == (4, 12.5)
    assert (config.enabled, config.ratchet_sl_enabled, config.loss_guard_enabled) == (True,) * 3
    assert (config.ratchet_offset, config.tp_atr_multipliers) == (0.0, None)


VALID = [
    pytest.param(
        {"max_unrealized_loss_pct": 12}, "max_unrealized_loss_pct", 12.0, id="env-int-threshold"
    ),
    pytest.param({"ratchet_offset": 0}, "ratchet_offset", 0.0, id="env-int-offset"),
    pytest.param(
        {"tp_profile": [1], "tp_distances": [0.05]}, "tp_profile", (1.0,), id="env-int-fraction"
    ),
    pytest.param({"tp_atr_multipliers": None}, "tp_atr_multipliers", None, id="null-atr"),
    pytest.param(
        {"tp_atr_multipliers": [1, 2, 4.5]}, "tp_atr_multipliers", (1.0, 2.0, 4.5), id="atr-set"
    ),
    pytest.param({"mode": "observe"}, "mode", Mode.OBSERVE, id="observe"),
    pytest.param({"size_basis": "initial"}, "size_basis", SizeBasis.INITIAL, id="initial-basis"),
    pytest.param({"ratchet_rule": "step"}, "ratchet_rule", RatchetRule.STEP, id="step-rule"),
    pytest.param({"max_tp_levels": 1}, "max_tp_levels", 1, id="one-level"),
    pytest.param({"ratchet_offset": 0.002}, "ratchet_offset", 0.002, id="fee-aware-offset"),
    pytest.param({"enabled": False}, "enabled", False, id="disabled"),
    pytest.param(
        {"max_unrealized_loss_pct": 100}, "max_unrealized_loss_pct", 100.0, id="threshold-100"
    ),
]


@pytest.mark.parametrize(("raw", "field", "expected"), VALID)
def test_valid_setting_is_parsed(raw, field, expected):
    value = getattr(parse_config(raw), field)
    assert value == expected
    assert type(value) is type(expected)


def test_disabling_one_feature_leaves_the_others_on():
    config = parse_config({"loss_guard_enabled": False})
    assert not config.loss_guard_enabled
    assert (config.ratchet_sl_enabled, config.enabled) == (True, True)


def test_parsed_settings_round_trip_through_to_dict():
    config = parse_config({"tp_atr_multipliers": [1, 2, 3], "mode": "observe"})
    assert parse_config(config.to_dict()) == config
