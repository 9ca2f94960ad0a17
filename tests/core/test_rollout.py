"""Per-pair modes (docs/behaviour.md §9.4): validation, precedence, the mode line's pair lists."""

import json

import pytest

from exit_brain_plugin.core import ConfigError, Mode, parse_config
from exit_brain_plugin.core.rollout import (
    PairMode,
    describe_pair_modes,
    pairs_by_mode,
    parse_pair_modes,
    resolve_mode,
)
from exit_brain_plugin.core.state import from_json_dict, to_json_dict
from tests.conftest import make_state


def _modes(raw):
    return parse_config({"pair_modes": raw}).pair_modes


ROLLOUT = {"ETH/BTC": "act", "*/BTC": "observe", "*": "off", "LTC/*": "act"}


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        ("ETH/BTC", Mode.ACT),  # exact key beats "*/BTC" and "*"
        ("XRP/BTC", Mode.OBSERVE),  # "*/BTC" (5 chars) beats "*" (1 char)
        ("LTC/BTC", Mode.OBSERVE),  # "LTC/*" and "*/BTC" both 5 chars: the one doing less
        ("LTC/USDT", Mode.ACT),  # only "LTC/*" and "*" match: the longer wins
        ("XRP/USDT", Mode.OFF),  # only "*"
        ("ETH/BTC:BTC", Mode.OFF),  # futures symbol: "*/BTC" does not match it
    ],
    ids=["exact", "longer-pattern", "tie-cautious", "longer-of-two", "catch-all", "futures"],
)
def test_pair_mode_precedence(pair, expected):
    assert resolve_mode(pair, _modes(ROLLOUT), Mode.ACT) is expected


def test_pair_matching_no_key_uses_mode():
    modes = _modes({"ETH/BTC": "off", "*/USDT": "act"})
    assert resolve_mode("LTC/BTC", modes, Mode.OBSERVE) is Mode.OBSERVE
    assert resolve_mode("LTC/BTC", modes, Mode.ACT) is Mode.ACT


def test_patterns_are_case_sensitive_like_freqtrade_pairs():
    assert resolve_mode("ETH/USDT", _modes({"*/usdt": "off"}), Mode.ACT) is Mode.ACT


def test_question_mark_and_brackets_are_patterns():
    modes = _modes({"???/BTC": "off", "[EL]TC/BTC": "observe"})
    assert resolve_mode("XRP/BTC", modes, Mode.ACT) is Mode.OFF
    assert resolve_mode("ETC/BTC", modes, Mode.ACT) is Mode.OBSERVE  # 10 chars beat 7
    assert resolve_mode("DOGE/BTC", modes, Mode.ACT) is Mode.ACT


INVALID = [
    pytest.param(
        {"*/USDT": "shadow"},
        'exit_brain.pair_modes["*/USDT"] must be one of "act", "observe", "off", was \'shadow\'',
        id="unknown-mode",
    ),
    pytest.param(
        {"ETH/BTC": None},
        'exit_brain.pair_modes["ETH/BTC"] must be one of "act", "observe", "off", was None',
        id="null-mode",
    ),
    pytest.param(
        {"ETH/BTC": True},
        'exit_brain.pair_modes["ETH/BTC"] must be one of "act", "observe", "off", was True',
        id="bool-mode",
    ),
    pytest.param(
        {"": "act"},
        'exit_brain.pair_modes keys must be pairs or shell-style patterns such as "*/USDT", '
        "was ''",
        id="empty-key",
    ),
    pytest.param(
        {" ETH/BTC": "act"},
        'exit_brain.pair_modes keys must be pairs or shell-style patterns such as "*/USDT", '
        "was ' ETH/BTC'",
        id="padded-key",
    ),
    pytest.param(
        ["ETH/BTC", "act"],
        "exit_brain.pair_modes must be an object of pair or pattern -> mode",
        id="list",
    ),
]


@pytest.mark.parametrize(("raw", "message"), INVALID)
def test_invalid_pair_modes_name_the_key_and_the_pattern(raw, message):
    with pytest.raises(ConfigError) as raised:
        parse_config({"pair_modes": raw})
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_mode_itself_still_accepts_only_act_and_observe():
    with pytest.raises(ConfigError, match=r'exit_brain\.mode must be one of "act", "observe"'):
        parse_config({"mode": "off"})


def test_pair_modes_round_trip_through_to_dict_and_json():
    config = parse_config({"mode": "observe", "pair_modes": ROLLOUT})
    again = parse_config(json.loads(json.dumps(config.to_dict())))
    assert again == config
    assert again.to_dict()["pair_modes"] == ROLLOUT


def test_no_pair_modes_is_empty():
    assert parse_config({}).pair_modes == ()
    assert parse_pair_modes(None, "exit_brain") == ()
    assert parse_pair_modes({}, "exit_brain") == ()


def test_pairs_are_grouped_by_mode_for_the_mode_line():
    modes = _modes(ROLLOUT)
    pairs = ["XRP/BTC", "ETH/BTC", "LTC/USDT", "XRP/USDT", "ETH/BTC"]
    assert pairs_by_mode(pairs, modes, Mode.ACT) == {
        Mode.ACT: ("ETH/BTC", "LTC/USDT"),
        Mode.OBSERVE: ("XRP/BTC",),
        Mode.OFF: ("XRP/USDT",),
    }
    assert describe_pair_modes(pairs, modes, Mode.OBSERVE) == (
        "act: ETH/BTC, LTC/USDT | observe: XRP/BTC | off: XRP/USDT | other pairs: observe"
    )
    assert describe_pair_modes([], modes, Mode.ACT) == (
        "act: none | observe: none | off: none | other pairs: act"
    )


def test_pair_mode_knows_patterns():
    assert PairMode(key="*/USDT", mode=Mode.ACT).is_pattern
    assert not PairMode(key="ETH/USDT", mode=Mode.ACT).is_pattern


# The position's creation mode is stored with its state.


@pytest.mark.parametrize("mode", [Mode.ACT, Mode.OBSERVE])
def test_state_keeps_its_creation_mode_through_json(mode):
    state = make_state(mode=mode)
    data = json.loads(json.dumps(to_json_dict(state)))
    assert data["mode"] == str(mode)
    assert from_json_dict(data).mode is mode


def test_state_written_before_pair_modes_has_no_mode():
    data = json.loads(json.dumps(to_json_dict(make_state())))
    del data["mode"]  # the previous release never wrote the field
    assert from_json_dict(data).mode is None


@pytest.mark.parametrize("bad", ["shadow", 1, ["act"]], ids=["unknown", "int", "list"])
def test_state_with_a_bad_mode_is_rejected(bad):
    data = {**to_json_dict(make_state()), "mode": bad}
    with pytest.raises(Exception, match="stored state 'mode' is not act/observe/off"):
        from_json_dict(data)
