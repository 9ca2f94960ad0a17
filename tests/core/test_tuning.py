"""``exit-brain tune``'s pure parts: the walk-forward layout and the search space."""

import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exit_brain_plugin.core import ConfigError, parse_config
from exit_brain_plugin.core.tuning import (
    MAX_TUNED_LEVELS,
    TUNED_KEYS,
    Window,
    parse_day_range,
    sample_settings,
    walk_forward,
)


DAY = timedelta(days=1)
A = datetime(2018, 1, 10, tzinfo=UTC)


class HypothesisDraw:
    """A sampler whose every answer Hypothesis picks: any value of the declared range."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data
        self.asked: dict[str, tuple[float, float]] = {}

    def suggest_int(self, name: str, low: int, high: int) -> int:
        self.asked[name] = (low, high)
        return self.data.draw(st.integers(low, high), label=name)

    def suggest_float(self, name: str, low: float, high: float, *, step: float) -> float:
        self.asked[name] = (low, high)
        # Any float of [low, high], on the grid or not: the space must hold for all of them.
        return self.data.draw(
            st.one_of(
                st.integers(0, math.floor((high - low) / step)).map(lambda k: low + k * step),
                st.floats(low, high, allow_nan=False),
            ),
            label=name,
        )

    def suggest_categorical(self, name: str, choices: Sequence[str]) -> str:
        return self.data.draw(st.sampled_from(list(choices)), label=name)


bases = st.fixed_dictionaries(
    {
        "max_tp_levels": st.integers(1, 20),
        "mode": st.sampled_from(["act", "observe"]),
        "loss_guard_enabled": st.booleans(),
    },
    optional={"tp_atr_multipliers": st.just([1.0, 2.0, 3.0])},
).map(parse_config)


@given(base=bases, data=st.data())
def test_every_sampled_setting_passes_the_config_validation(base, data):
    draw = HypothesisDraw(data)
    section = sample_settings(draw, base)
    config = parse_config(section)  # raises ConfigError on any invalid setting
    levels = len(config.tp_profile)
    assert 1 <= levels <= min(base.max_tp_levels, MAX_TUNED_LEVELS)
    assert len(config.tp_distances) == levels
    assert sum(config.tp_profile) <= 1.0
    assert all(0.0 < fraction <= 1.0 for fraction in config.tp_profile)
    assert (config.tp_atr_multipliers is None) == (base.tp_atr_multipliers is None)
    untouched = {k: v for k, v in base.to_dict().items() if k not in TUNED_KEYS}
    assert {k: section[k] for k in untouched} == untouched


def test_optuna_samplers_draw_only_valid_settings():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    base = parse_config({})
    for sampler in (optuna.samplers.RandomSampler(seed=1), optuna.samplers.TPESampler(seed=2)):
        study = optuna.create_study(sampler=sampler)
        for _ in range(40):
            trial = study.ask()
            section = sample_settings(trial, base)
            parse_config(section)
            study.tell(trial, sum(section["tp_distances"]))
        assert {t.params["tp_levels"] for t in study.trials} == {1, 2, 3, 4}


def _covers(folds, span, train_days, test_days):
    for fold in folds:
        assert not fold.train.overlaps(fold.test)
        assert fold.train.end == fold.test.start  # trains on the days just before its test
        assert fold.train.days == train_days
        assert fold.test.days == test_days
        assert fold.train.start >= span.start
    tests = [fold.test for fold in folds]
    assert all(a.end == b.start for a, b in itertools.pairwise(tests))
    assert not any(a.overlaps(b) for i, a in enumerate(tests) for b in tests[i + 1 :])
    assert tests[-1].end == span.end
    assert tests[0].start == span.end - len(folds) * test_days * DAY


def _fits(days, folds, train, test):
    # the documented defaults, then "train + folds × test ≤ days, each at least 1"
    if test is None:
        test = (days - train) // folds if train is not None else days // (folds + 1)
    if train is None:
        train = days - folds * test
    return test >= 1 and train >= 1 and train + folds * test <= days


@given(
    days=st.integers(1, 400),
    folds=st.integers(1, 12),
    train=st.none() | st.integers(1, 200),
    test=st.none() | st.integers(1, 100),
)
def test_folds_never_overlap_their_test_window_and_cover_the_range_as_documented(
    days, folds, train, test
):
    span = Window(A, A + days * DAY)
    fits = _fits(days, folds, train, test)
    if not fits:
        with pytest.raises(ConfigError, match="--timerange has"):
            walk_forward(span, folds, train, test)
        return
    result = walk_forward(span, folds, train, test)
    assert [fold.index for fold in result] == list(range(1, folds + 1))
    train_days, test_days = result[0].train.days, result[0].test.days
    _covers(result, span, train_days, test_days)
    if train is not None:
        assert train_days == train
    if test is not None:
        assert test_days == test
    if train is None:
        # the first train window starts at the range's start: nothing is left unused
        assert result[0].train.start == span.start
    if train is None and test is None:
        assert test_days == days // (folds + 1)


def test_default_layout_on_the_shipped_data():
    folds = walk_forward(parse_day_range("20180110-20180130"), 2)
    assert [(f.train.label(), f.test.label()) for f in folds] == [
        ("2018-01-10 → 2018-01-18", "2018-01-18 → 2018-01-24"),
        ("2018-01-16 → 2018-01-24", "2018-01-24 → 2018-01-30"),
    ]
    # freqtrade's timerange includes the candle at its stop: windows stop one second early
    assert folds[0].train.timerange() == "1515542400-1516233599"
    assert folds[0].test.timerange() == "1516233600-1516751999"


@pytest.mark.parametrize(
    ("timerange", "folds", "train", "test", "message"),
    [
        ("20180110", 2, None, None, "--timerange must be YYYYMMDD-YYYYMMDD"),
        ("2018-01-10", 2, None, None, "--timerange must be YYYYMMDD-YYYYMMDD"),
        ("20180130-20180110", 2, None, None, "--timerange must end after it starts"),
        ("20180110-20180130", 0, None, None, "--folds must be at least 1, was 0"),
        ("20180110-20180130", 2, 0, None, "--train-days must be at least 1, was 0"),
        ("20180110-20180130", 3, 10, 4, "--timerange has 20 days, too few for --folds 3"),
        ("20180110-20180112", 2, None, None, "--timerange has 2 days, too few"),
    ],
)
def test_bad_layouts_name_the_option(timerange, folds, train, test, message):
    with pytest.raises(ConfigError, match=message):
        walk_forward(parse_day_range(timerange), folds, train, test)
