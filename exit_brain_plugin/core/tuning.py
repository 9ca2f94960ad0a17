"""Walk-forward windows and the search space of ``exit-brain tune`` (pure: no optuna, no freqtrade).

Walk-forward layout (docs/tuning.md): the timerange ``A-B`` is read as the half-open interval
[A, B) of whole UTC days. ``K`` folds have consecutive, non-overlapping test windows of ``M``
days that end at B, so together they cover exactly [B − K·M, B). Fold k trains on the ``N`` days
immediately before its test window (a rolling window): its train window never overlaps its own
test window, and a test window is never seen by its own fold's optimisation. Days before
B − K·M − N are not used. Defaults: ``M = ⌊days / (K + 1)⌋`` and ``N = days − K·M`` (so the first
train window starts at A); with only ``--test-days``, ``N = days − K·M``; with only
``--train-days``, ``M = ⌊(days − N) / K⌋``.

A window is passed to freqtrade as the timerange ``<start epoch>-<end epoch − 1>``: freqtrade's
timerange includes the candle that opens at its stop date, so ``end − 1 s`` keeps the candle at
``end`` for the next window.

Search space: every sampled setting is the base ``exit_brain`` section with these keys drawn
(the rest unchanged), and passes :func:`exit_brain_plugin.core.config.parse_config`:

- ``tp_distances``: 1 to ``min(max_tp_levels, 4)`` levels; the first distance in
  [0.002, 0.06], each next one 0.002 to 0.06 further (strictly increasing, at most 0.24);
- ``tp_profile``: one weight per level in [0.05, 1] and a runner weight in [0, 1], each level's
  fraction its weight over the sum of all weights (a simplex: every fraction in (0, 1], the sum
  at most 1, the rest a runner), rounded down to 4 decimals;
- ``tp_atr_multipliers`` (only when the base sets them): first in [0.5, 4], steps of 0.25 to 4;
- ``ratchet_rule`` (seed, step), ``ratchet_offset`` [0, 0.01], ``size_basis`` (remaining,
  initial), ``max_unrealized_loss_pct`` [3, 25].
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from exit_brain_plugin.core.config import BrainConfig, parse_config, ratchet_offset_limit
from exit_brain_plugin.core.enums import RatchetRule
from exit_brain_plugin.core.errors import ConfigError


MAX_TUNED_LEVELS = 4
TUNED_KEYS = (
    "tp_profile",
    "tp_distances",
    "tp_atr_multipliers",
    "size_basis",
    "ratchet_rule",
    "ratchet_offset",
    "max_unrealized_loss_pct",
)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open interval [start, end) of UTC time."""

    start: datetime
    end: datetime

    def timerange(self) -> str:
        """Return the freqtrade timerange of this window (its last second included)."""
        return f"{int(self.start.timestamp())}-{int(self.end.timestamp()) - 1}"

    def label(self) -> str:
        """Return ``YYYY-MM-DD → YYYY-MM-DD`` (end exclusive)."""
        return f"{self.start:%Y-%m-%d} → {self.end:%Y-%m-%d}"

    def overlaps(self, other: "Window") -> bool:
        """Return whether the two windows share any instant."""
        return self.start < other.end and other.start < self.end

    @property
    def days(self) -> int:
        """Return the length in whole days."""
        return (self.end - self.start) // DAY


@dataclass(frozen=True, slots=True)
class Fold:
    """One walk-forward step: optimise on ``train``, score on the unseen ``test``."""

    index: int
    train: Window
    test: Window


def parse_day_range(timerange: str) -> Window:
    """Parse ``YYYYMMDD-YYYYMMDD`` into the window [start, end) at 00:00 UTC.

    :raises ConfigError: naming ``--timerange`` for anything else
    """
    parts = timerange.split("-")
    try:
        if len(parts) != 2 or not all(len(part) == 8 and part.isdigit() for part in parts):
            raise ValueError(timerange)
        start, end = (datetime.strptime(part, "%Y%m%d").replace(tzinfo=UTC) for part in parts)
    except ValueError as error:
        raise ConfigError(
            f"--timerange must be YYYYMMDD-YYYYMMDD (whole days, both ends), was {timerange!r}"
        ) from error
    if end <= start:
        raise ConfigError(f"--timerange must end after it starts, was {timerange!r}")
    return Window(start, end)


def walk_forward(
    span: Window, folds: int, train_days: int | None = None, test_days: int | None = None
) -> list[Fold]:
    """Return the ``folds`` (train, test) windows over ``span`` (layout: module docstring).

    :param span: the tuned range [A, B) in whole days
    :param folds: K ≥ 1
    :param train_days: N, or ``None`` for the default
    :param test_days: M, or ``None`` for the default
    :return: folds in time order; test windows consecutive, ending at B
    :raises ConfigError: naming the option when the range is too short for the layout
    """
    days = span.days
    if folds < 1:
        raise ConfigError(f"--folds must be at least 1, was {folds}")
    for name, value in (("--train-days", train_days), ("--test-days", test_days)):
        if value is not None and value < 1:
            raise ConfigError(f"{name} must be at least 1, was {value}")
    if test_days is None:
        test_days = (days - train_days) // folds if train_days is not None else days // (folds + 1)
    if train_days is None:
        train_days = days - folds * test_days
    if test_days < 1 or train_days < 1 or train_days + folds * test_days > days:
        raise ConfigError(
            f"--timerange has {days} days, too few for --folds {folds} with "
            f"--train-days {train_days} and --test-days {test_days} (needs train + folds × test "
            f"= {train_days + folds * test_days} days, each at least 1): widen --timerange or "
            "lower --folds / --train-days / --test-days"
        )
    first_test = span.end - folds * test_days * DAY
    result = []
    for index in range(folds):
        test_start = first_test + index * test_days * DAY
        result.append(
            Fold(
                index=index + 1,
                train=Window(test_start - train_days * DAY, test_start),
                test=Window(test_start, test_start + test_days * DAY),
            )
        )
    return result


class Sampler(Protocol):
    """What the space asks of a sampler: optuna's ``Trial`` has exactly these methods."""

    def suggest_int(self, name: str, low: int, high: int) -> int:
        """Return a whole number in [low, high]."""

    def suggest_float(self, name: str, low: float, high: float, *, step: float) -> float:
        """Return a number in [low, high] on the grid ``low + k × step``."""

    def suggest_categorical(self, name: str, choices: Sequence[str]) -> str:
        """Return one of ``choices``."""


def _ladder(
    draw: Sampler,
    prefix: str,
    levels: int,
    first: tuple[float, float, float],
    gap: tuple[float, float, float],
) -> list[float]:
    values = [round(draw.suggest_float(f"{prefix}_1", first[0], first[1], step=first[2]), 6)]
    for level in range(2, levels + 1):
        step = draw.suggest_float(f"{prefix}_gap_{level}", gap[0], gap[1], step=gap[2])
        values.append(round(values[-1] + step, 6))
    return values


def _fractions(draw: Sampler, levels: int) -> list[float]:
    weights = [
        draw.suggest_float(f"tp_weight_{level}", 0.05, 1.0, step=0.05)
        for level in range(1, levels + 1)
    ]
    runner = draw.suggest_float("runner_weight", 0.0, 1.0, step=0.05)
    total = sum(weights) + runner
    # Rounded down: the sum never exceeds 1 by rounding; each fraction stays ≥ 0.01.
    return [math.floor(weight / total * 10_000) / 10_000 for weight in weights]


def sample_settings(draw: Sampler, base: BrainConfig) -> dict[str, Any]:
    """Draw one setting of the space over ``base`` (an ``exit_brain`` section as JSON types).

    :param draw: optuna's ``Trial`` or any :class:`Sampler`
    :param base: the config's current settings (untuned keys are kept)
    :return: the section; it always passes :func:`parse_config`
    """
    levels = draw.suggest_int("tp_levels", 1, min(base.max_tp_levels, MAX_TUNED_LEVELS))
    settings = base.to_dict()
    settings["tp_distances"] = _ladder(
        draw, "tp_distance", levels, (0.002, 0.06, 0.001), (0.002, 0.06, 0.001)
    )
    settings["tp_profile"] = _fractions(draw, levels)
    if base.tp_atr_multipliers is not None:
        settings["tp_atr_multipliers"] = _ladder(
            draw, "tp_atr", levels, (0.5, 4.0, 0.25), (0.25, 4.0, 0.25)
        )
    settings["ratchet_rule"] = draw.suggest_categorical("ratchet_rule", ["seed", "step"])
    # The offset is drawn as a share of the largest one this ladder takes (a larger one is a
    # config error: the ratcheted stop would pass the level just filled), capped at 1 %.
    share = draw.suggest_float("ratchet_offset_share", 0.0, 0.9, step=0.05)
    limit = ratchet_offset_limit(settings["tp_distances"], RatchetRule(settings["ratchet_rule"]))
    settings["ratchet_offset"] = min(0.01, math.floor(share * limit * 10_000) / 10_000)
    settings["size_basis"] = draw.suggest_categorical("size_basis", ["remaining", "initial"])
    settings["max_unrealized_loss_pct"] = round(
        draw.suggest_float("max_unrealized_loss_pct", 3.0, 25.0, step=0.5), 6
    )
    parse_config(settings)  # the space's contract: never a setting config.json would refuse
    return settings
