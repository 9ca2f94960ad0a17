"""Settings of the ``exit_brain`` config section (docs/behaviour.md §2): parse, validate, freeze.

Every rejection raises :class:`ConfigError` whose message names the key, the bad value and the
allowed range, e.g. ``exit_brain.tp_profile[2] must be in (0, 1], was 1.5``.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from exit_brain_plugin.core.enums import Mode, RatchetRule, SizeBasis
from exit_brain_plugin.core.errors import ConfigError
from exit_brain_plugin.core.rollout import PairMode, parse_pair_modes, to_raw


SECTION = "exit_brain"
MAX_TP_LEVELS_LIMIT = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsConfig:
    """``exit_brain.metrics`` (docs/behaviour.md §9.1): the Prometheus exporter, off by default."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9464

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as plain JSON types."""
        return {"enabled": self.enabled, "host": self.host, "port": self.port}


@dataclass(frozen=True, slots=True, kw_only=True)
class BrainConfig:
    """Validated, immutable settings; defaults are docs/behaviour.md §2's reference behaviour."""

    enabled: bool = True
    mode: Mode = Mode.ACT
    tp_profile: tuple[float, ...] = (0.25, 0.25, 0.50)
    tp_distances: tuple[float, ...] = (0.01, 0.02, 0.04)
    tp_atr_multipliers: tuple[float, ...] | None = None
    size_basis: SizeBasis = SizeBasis.REMAINING
    max_tp_levels: int = 4
    ratchet_sl_enabled: bool = True
    ratchet_rule: RatchetRule = RatchetRule.SEED
    ratchet_offset: float = 0.0
    loss_guard_enabled: bool = True
    max_unrealized_loss_pct: float = 12.5
    pair_modes: tuple[PairMode, ...] = ()
    metrics: MetricsConfig = MetricsConfig()
    notifications: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as plain JSON types (for logs and reports; holds no secrets)."""
        return {
            "enabled": self.enabled,
            "mode": str(self.mode),
            "tp_profile": list(self.tp_profile),
            "tp_distances": list(self.tp_distances),
            "tp_atr_multipliers": (
                None if self.tp_atr_multipliers is None else list(self.tp_atr_multipliers)
            ),
            "size_basis": str(self.size_basis),
            "max_tp_levels": self.max_tp_levels,
            "ratchet_sl_enabled": self.ratchet_sl_enabled,
            "ratchet_rule": str(self.ratchet_rule),
            "ratchet_offset": self.ratchet_offset,
            "loss_guard_enabled": self.loss_guard_enabled,
            "max_unrealized_loss_pct": self.max_unrealized_loss_pct,
            "pair_modes": to_raw(self.pair_modes),
            "metrics": self.metrics.to_dict(),
            "notifications": self.notifications,
        }


def _where(key: str, index: int | None = None) -> str:
    return f"{SECTION}.{key}" + ("" if index is None else f"[{index}]")


def _bool(raw: Mapping[str, Any], key: str, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{_where(key)} must be true or false, was {value!r}")
    return value


def _number(value: Any, where: str, allowed: str) -> float:
    # bool is an int subclass: `true` is never a number here.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number in {allowed}, was {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{where} must be a finite number in {allowed}, was {value!r}")
    return number


_Choice = TypeVar("_Choice", Mode, RatchetRule, SizeBasis)


def _choice(
    raw: Mapping[str, Any],
    key: str,
    enum: type[_Choice],
    default: _Choice,
    exclude: tuple[_Choice, ...] = (),
) -> _Choice:
    value = raw.get(key, default)
    members = [member for member in enum if member not in exclude]
    allowed = ", ".join(f'"{member.value}"' for member in members)
    if not isinstance(value, str) or value not in {member.value for member in members}:
        raise ConfigError(f"{_where(key)} must be one of {allowed}, was {value!r}")
    return enum(value)


def _number_list(
    raw: Mapping[str, Any],
    key: str,
    default: Sequence[float] | None,
    *,
    low_open: float,
    high: float,
    high_closed: bool,
    increasing: bool,
) -> tuple[float, ...] | None:
    value = raw.get(key, default)
    if value is None:
        return None
    close = "]" if high_closed else ")"
    allowed = f"({low_open:g}, {high:g}{close}"
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) == 0:
        raise ConfigError(
            f"{_where(key)} must be a non-empty list of numbers in {allowed}, was {value!r}"
        )
    numbers: list[float] = []
    for index, item in enumerate(value):
        number = _number(item, _where(key, index), allowed)
        too_high = number > high if high_closed else number >= high
        if number <= low_open or too_high:
            raise ConfigError(f"{_where(key, index)} must be in {allowed}, was {item!r}")
        if increasing and numbers and number <= numbers[-1]:
            raise ConfigError(
                f"{_where(key, index)} must be greater than {_where(key, index - 1)} "
                f"(distances strictly increasing), was {item!r} after {numbers[-1]!r}"
            )
        numbers.append(number)
    return tuple(numbers)


def _int(raw: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{_where(key)} must be a whole number in [{low}, {high}], was {value!r}")
    return value


def _bounded(
    raw: Mapping[str, Any], key: str, default: float, low: float, high: float, *, low_open: bool
) -> float:
    allowed = f"{'(' if low_open else '['}{low:g}, {high:g}]"
    number = _number(raw.get(key, default), _where(key), allowed)
    if (number <= low if low_open else number < low) or number > high:
        raise ConfigError(f"{_where(key)} must be in {allowed}, was {raw.get(key)!r}")
    return number


def _offset_limit(before: float, distance: float) -> float:
    # The largest offset (exclusive) that keeps the stop after the level at ``before`` behind
    # the level at ``distance``: the inequalities of _check_offset solved for the offset (to
    # within float rounding; the check itself stays on the inequalities).
    return min((1 + distance) / (1 + before) - 1, 1 - (1 - distance) / (1 - before))


def ratchet_offset_limit(distances: Sequence[float], rule: RatchetRule) -> float:
    """Return the supremum of the ``ratchet_offset`` values the ladder ``distances`` takes.

    A valid offset is strictly below it (the check of :func:`parse_config`).
    """
    checked = distances if rule is RatchetRule.STEP else distances[:2]
    return min(
        _offset_limit(checked[index - 1] if index else 0.0, distance)
        for index, distance in enumerate(checked)
    )


def _check_offset(offset: float, distances: Sequence[float]) -> None:
    # The ratcheted stop must stay behind the level just filled, long and short: breakeven +
    # offset below TP1, and TP(n-1) + offset below TPn. Otherwise the stop lands beyond the
    # price at the fill and the next loop closes the whole position. (With the seed rule the
    # stop stays at TP1 after TP2, so only the first two levels matter.)
    if offset <= 0:
        return
    for index, distance in enumerate(distances):
        before = distances[index - 1] if index else 0.0
        long_ok = (1 + before) * (1 + offset) < 1 + distance
        short_ok = (1 - before) * (1 - offset) > 1 - distance
        if not (long_ok and short_ok):
            raise ConfigError(
                f"{_where('ratchet_offset')} must keep the ratcheted stop behind the level just "
                f"filled: below the gap between {_where('tp_distances', index)}={distance:g} "
                f"and the stop before it, was {offset!r}"
            )


def _metrics(raw: Mapping[str, Any]) -> MetricsConfig:
    value = raw.get("metrics", {})
    where = _where("metrics")
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"{where} must be an object like "
            f'{{"enabled": false, "host": "127.0.0.1", "port": 9464}}, was {value!r}'
        )
    known = set(MetricsConfig.__dataclass_fields__)
    unknown = sorted(str(key) for key in value if key not in known)
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]} is not a known setting (was {value[unknown[0]]!r}); "
            f"allowed keys: {', '.join(sorted(known))}"
        )
    defaults = MetricsConfig()
    enabled = value.get("enabled", defaults.enabled)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{where}.enabled must be true or false, was {enabled!r}")
    host = value.get("host", defaults.host)
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host):
        raise ConfigError(
            f'{where}.host must be an address to listen on, e.g. "127.0.0.1" (this machine '
            f'only) or "0.0.0.0" (every interface), was {host!r}'
        )
    port = value.get("port", defaults.port)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ConfigError(f"{where}.port must be a whole number in [1, 65535], was {port!r}")
    return MetricsConfig(enabled=enabled, host=host, port=port)


def parse_config(raw: Mapping[str, Any] | None) -> BrainConfig:
    """Validate the ``exit_brain`` section and return frozen settings.

    :param raw: the section as read from config.json (``None`` or ``{}`` gives the defaults)
    :return: the validated settings
    :raises ConfigError: naming the key, the bad value and the allowed range
    """
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{SECTION} must be an object of settings, was {raw!r}")
    known = set(BrainConfig.__dataclass_fields__)
    unknown = sorted(str(key) for key in raw if key not in known)
    if unknown:
        raise ConfigError(
            f"{_where(unknown[0])} is not a known setting (was {raw[unknown[0]]!r}); "
            f"allowed keys: {', '.join(sorted(known))}"
        )
    defaults = BrainConfig()
    profile = _number_list(
        raw,
        "tp_profile",
        defaults.tp_profile,
        low_open=0.0,
        high=1.0,
        high_closed=True,
        increasing=False,
    )
    distances = _number_list(
        raw,
        "tp_distances",
        defaults.tp_distances,
        low_open=0.0,
        high=1.0,
        high_closed=False,
        increasing=True,
    )
    atr = _number_list(
        raw,
        "tp_atr_multipliers",
        None,
        low_open=0.0,
        high=1000.0,
        high_closed=True,
        increasing=True,
    )
    if profile is None or distances is None:  # their defaults are lists, never None
        raise ConfigError(f"{_where('tp_profile')} and {_where('tp_distances')} cannot be null")
    for key, levels in (("tp_distances", distances), ("tp_atr_multipliers", atr)):
        if levels is not None and len(levels) != len(profile):
            raise ConfigError(
                f"{_where(key)} must have one entry per tp_profile level ({len(profile)}), "
                f"was {list(levels)!r}"
            )
    offset = _bounded(raw, "ratchet_offset", defaults.ratchet_offset, 0.0, 0.5, low_open=False)
    rule = _choice(raw, "ratchet_rule", RatchetRule, defaults.ratchet_rule)
    _check_offset(offset, distances if rule is RatchetRule.STEP else distances[:2])
    return BrainConfig(
        enabled=_bool(raw, "enabled", defaults.enabled),
        # "off" is a per-pair mode only: `enabled: false` switches the whole brain off.
        mode=_choice(raw, "mode", Mode, defaults.mode, exclude=(Mode.OFF,)),
        tp_profile=profile,
        tp_distances=distances,
        tp_atr_multipliers=atr,
        size_basis=_choice(raw, "size_basis", SizeBasis, defaults.size_basis),
        max_tp_levels=_int(raw, "max_tp_levels", defaults.max_tp_levels, 1, MAX_TP_LEVELS_LIMIT),
        ratchet_sl_enabled=_bool(raw, "ratchet_sl_enabled", defaults.ratchet_sl_enabled),
        ratchet_rule=rule,
        ratchet_offset=offset,
        loss_guard_enabled=_bool(raw, "loss_guard_enabled", defaults.loss_guard_enabled),
        max_unrealized_loss_pct=_bounded(
            raw,
            "max_unrealized_loss_pct",
            defaults.max_unrealized_loss_pct,
            0.0,
            100.0,
            low_open=True,
        ),
        pair_modes=parse_pair_modes(raw.get("pair_modes"), SECTION),
        metrics=_metrics(raw),
        notifications=_bool(raw, "notifications", defaults.notifications),
    )
