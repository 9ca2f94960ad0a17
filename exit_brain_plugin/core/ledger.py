"""The shadow ledger: the would-be fills observe mode books, one list per position.

Observe mode (docs/behaviour.md §6, §9.5) books each decision as if it had filled at the
decision price; the position's state then holds only the result (remaining size, legs hit,
stop). The ledger keeps
each virtual fill (time, what, how much, at what price), so that the shadow report can turn the
decisions into money. It is stored with the trade under its own custom-data key, next to the
observe state, as a JSON object ``{"version": 1, "fills": [...]}``.

Invariants: every entry has a positive finite amount and price; ``legs`` are the take-profit
levels a fill covers (empty for loss-guard and stop fills); the list is in booking order.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exit_brain_plugin.core.errors import StateError


LEDGER_VERSION = 1
# What a virtual fill was (``kind``): the values of FillKind that observe mode books.
VIRTUAL_KINDS = frozenset({"take_profit", "loss_guard", "stop"})


@dataclass(frozen=True, slots=True, kw_only=True)
class VirtualFill:
    """One decision observe mode booked as filled.

    :param at: ISO 8601 UTC time of the decision
    :param kind: ``take_profit``, ``loss_guard`` or ``stop`` (the brain's stop backstop)
    :param tag: the tag the exit would have carried (``exit_brain_tp1``, ...)
    :param legs: take-profit levels covered (1-based)
    :param amount: base amount the brain would have closed
    :param price: the decision price (the exit rate of that bot loop)
    :param reason: the stop kind active for a stop fill (``breakeven``, ``tp1``, ...)
    """

    at: str
    kind: str
    tag: str
    legs: tuple[int, ...]
    amount: float
    price: float
    reason: str = ""


def ledger_to_json(fills: Sequence[VirtualFill]) -> dict[str, Any]:
    """Return the JSON form of a ledger (the inverse of :func:`ledger_from_json`)."""
    return {"version": LEDGER_VERSION, "fills": [fill_to_json(fill) for fill in fills]}


def fill_to_json(fill: VirtualFill) -> dict[str, Any]:
    """Return the JSON form of one virtual fill (a ledger entry, and the shadow report's)."""
    return {
        "at": fill.at,
        "kind": fill.kind,
        "tag": fill.tag,
        "legs": list(fill.legs),
        "amount": fill.amount,
        "price": fill.price,
        "reason": fill.reason,
    }


def _positive(entry: Mapping[str, Any], key: str) -> float:
    value = entry.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateError(f"shadow ledger {key!r} is not a number, was {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise StateError(f"shadow ledger {key!r} is out of range, was {value!r}")
    return float(value)


def _fill(entry: Any) -> VirtualFill:
    if not isinstance(entry, Mapping):
        raise StateError(f"shadow ledger entry is not an object, was {entry!r}")
    kind = entry.get("kind")
    if kind not in VIRTUAL_KINDS:
        raise StateError(f"shadow ledger 'kind' is unknown, was {kind!r}")
    legs = entry.get("legs", [])
    if not isinstance(legs, list) or any(
        isinstance(leg, bool) or not isinstance(leg, int) or leg < 1 for leg in legs
    ):
        raise StateError(f"shadow ledger 'legs' is malformed, was {legs!r}")
    text = {key: entry.get(key, "") for key in ("at", "tag", "reason")}
    if not all(isinstance(value, str) for value in text.values()):
        raise StateError(f"shadow ledger entry has a non-text field: {entry!r}")
    return VirtualFill(
        at=text["at"],
        kind=str(kind),
        tag=text["tag"],
        legs=tuple(legs),
        amount=_positive(entry, "amount"),
        price=_positive(entry, "price"),
        reason=text["reason"],
    )


def ledger_from_json(data: Any) -> tuple[VirtualFill, ...]:
    """Parse a stored ledger.

    :raises StateError: for anything that is not a ledger this version wrote
    """
    if not isinstance(data, Mapping) or data.get("version") != LEDGER_VERSION:
        raise StateError(f"shadow ledger is not a version {LEDGER_VERSION} ledger")
    fills = data.get("fills")
    if not isinstance(fills, list):
        raise StateError("shadow ledger has no list of fills")
    return tuple(_fill(entry) for entry in fills)
