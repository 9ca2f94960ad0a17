"""Per-pair modes (docs/behaviour.md §9.4): which mode a new position of a pair runs in.

Rules, in precedence order:

1. A key equal to the pair (an exact key: no ``*``, ``?`` or ``[``) gives the mode.
2. Otherwise, of the shell-style patterns (``fnmatch``, case-sensitive) that match the pair,
   the longest pattern (most characters) gives the mode.
3. Two patterns of the same length that both match and disagree: the mode that does less
   wins (``off`` over ``observe`` over ``act``), so an ambiguous rollout never acts.
4. A pair that matches no key runs in the section's ``mode``.

Invariants (property tests in tests/properties/test_rollout_props.py):

- R1 ``test_exact_key_beats_every_pattern``: an exact key decides, whatever the patterns.
- R2 ``test_longest_matching_pattern_decides``: without an exact key, the mode is that of the
  longest matching pattern (ties: rule 3).
- R3 ``test_unmatched_pair_uses_the_default``: no matching key gives the default.
- R4 ``test_resolution_ignores_key_order``: the order of the keys in config.json changes
  nothing.

The mode is resolved once per position, when it is created; the position keeps it until it
closes (the adapter stores it with the position).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from exit_brain_plugin.core.enums import Mode
from exit_brain_plugin.core.errors import ConfigError


KEY = "pair_modes"
_WILDCARDS = frozenset("*?[")
# Rule 3: on a tie, the mode that does less wins.
_CAUTION = {Mode.OFF: 0, Mode.OBSERVE: 1, Mode.ACT: 2}


@dataclass(frozen=True, slots=True, kw_only=True)
class PairMode:
    """One ``pair_modes`` entry: an exact pair or a shell-style pattern, and its mode."""

    key: str
    mode: Mode

    @property
    def is_pattern(self) -> bool:
        """Return True when the key holds a wildcard (``*``, ``?``, ``[``)."""
        return not _WILDCARDS.isdisjoint(self.key)


def parse_pair_modes(raw: Any, section: str) -> tuple[PairMode, ...]:
    """Validate ``pair_modes`` and return its entries in config order.

    :param raw: the value of ``pair_modes`` (``None`` means no entry)
    :param section: the config section's name, for the messages
    :return: the entries
    :raises ConfigError: one line naming the key and the pattern, e.g.
        ``exit_brain.pair_modes["*/USDT"] must be one of "act", "observe", "off", was 'shadow'``
    """
    where = f"{section}.{KEY}"
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f'{where} must be an object of pair or pattern -> mode (e.g. {{"ETH/BTC": "act", '
            f'"*/USDT": "observe"}}), was {raw!r}'
        )
    allowed = ", ".join(f'"{mode.value}"' for mode in Mode)
    entries = []
    for key, value in raw.items():
        if not isinstance(key, str) or not key.strip() or key != key.strip():
            raise ConfigError(
                f'{where} keys must be pairs or shell-style patterns such as "*/USDT", was {key!r}'
            )
        if not isinstance(value, str) or value not in {mode.value for mode in Mode}:
            raise ConfigError(f'{where}["{key}"] must be one of {allowed}, was {value!r}')
        entries.append(PairMode(key=key, mode=Mode(value)))
    return tuple(entries)


def resolve_mode(pair: str, pair_modes: Iterable[PairMode], default: Mode) -> Mode:
    """Return the mode a new position of ``pair`` runs in.

    :param pair: freqtrade's pair name, e.g. ``ETH/BTC`` or ``XRP/USDT:USDT``
    :param pair_modes: the parsed ``pair_modes`` entries
    :param default: the section's ``mode``
    :return: the mode of the exact key, else of the longest matching pattern, else ``default``
    """
    best: PairMode | None = None
    for entry in pair_modes:
        if not entry.is_pattern:
            if entry.key == pair:
                return entry.mode
            continue
        if not fnmatchcase(pair, entry.key):
            continue
        if best is None or _beats(entry, best):
            best = entry
    return default if best is None else best.mode


def _beats(entry: PairMode, best: PairMode) -> bool:
    if len(entry.key) != len(best.key):
        return len(entry.key) > len(best.key)
    return _CAUTION[entry.mode] < _CAUTION[best.mode]


def pairs_by_mode(
    pairs: Iterable[str], pair_modes: Iterable[PairMode], default: Mode
) -> dict[Mode, tuple[str, ...]]:
    """Group ``pairs`` by the mode a new position of each would run in (sorted, no repeats).

    :return: every mode (``act``, ``observe``, ``off``) mapped to its pairs, maybe empty
    """
    entries = tuple(pair_modes)
    grouped: dict[Mode, list[str]] = {mode: [] for mode in Mode}
    for pair in sorted(set(pairs)):
        grouped[resolve_mode(pair, entries, default)].append(pair)
    return {mode: tuple(found) for mode, found in grouped.items()}


def describe_pair_modes(pairs: Iterable[str], pair_modes: Iterable[PairMode], default: Mode) -> str:
    """Return the mode line's per-pair part (docs/behaviour.md §7 line, then this).

    ``act: ETH/BTC | observe: LTC/BTC, XRP/BTC | off: none | other pairs: observe``
    """
    grouped = pairs_by_mode(pairs, pair_modes, default)
    parts = [f"{mode}: {', '.join(found) or 'none'}" for mode, found in grouped.items()]
    return " | ".join((*parts, f"other pairs: {default}"))


def to_raw(pair_modes: Iterable[PairMode]) -> dict[str, str]:
    """Return the entries as config.json has them (the inverse of :func:`parse_pair_modes`)."""
    return {entry.key: str(entry.mode) for entry in pair_modes}
