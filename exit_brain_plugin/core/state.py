"""Per-position state (docs/behaviour.md §3) and its versioned JSON form.

The JSON form holds only int, float, bool, str, None, lists and dicts, under one custom-data
key of the trade. ``from_json_dict`` raises :class:`StateError` for anything it cannot trust;
the adapter then rebuilds the state from the trade's orders.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exit_brain_plugin.core.enums import Mode, Side
from exit_brain_plugin.core.errors import StateError


SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TpLevel:
    """One rung of the ladder: an absolute price and the fraction to close there."""

    price: float
    fraction: float


@dataclass(frozen=True, slots=True, kw_only=True)
class RatchetRecord:
    """One stop move made by the ratchet."""

    tp_hits: int
    old_price: float | None
    new_price: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanSettings:
    """The settings that shape a position's plan, fixed in its state at creation.

    A restart or reload with other values changes new positions only (docs/operations.md);
    the loss-guard threshold and the feature switches are not here: they apply live.
    """

    tp_profile: tuple[float, ...]
    tp_distances: tuple[float, ...]
    tp_atr_multipliers: tuple[float, ...] | None
    size_basis: str
    max_tp_levels: int
    ratchet_rule: str
    ratchet_offset: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionState:
    """Everything the brain remembers about one position.

    ``leg_base_amount`` is the remaining amount when the next unhit leg started: a fill that
    covers only part of a leg leaves ``remaining_amount`` below it, and the gap is the progress
    toward that leg (docs/behaviour.md §4.3: state changes only by what actually filled).
    ``exit_kind`` is set by the fill that closed the position (``take_profit``,
    ``loss_guard``, ``stop:<sl_reason>``, ``other:<reason>``).
    ``mode`` is the mode the position was created with (``act`` or ``observe``; docs/
    behaviour.md §9.4), kept until it closes; ``None`` in a state written before per-pair modes.
    ``booked_orders`` are the ids of the orders whose fills the state holds (booking is by
    order identity, docs/behaviour.md §3); None in a row written before it existed.
    ``plan`` holds the plan-shaping settings in force when the position was created; None in
    a row written before it existed (the adapter then fixes the settings in force once).
    ``loss_guard_price`` is the price at which freqtrade's profit ratio is the loss-guard
    threshold, as the adapter last computed it from the trade (fees, leverage and funding in),
    for readers of the state (the plot); None while unknown, with the guard off, or in a row
    written before it existed. The core never reads it: the stop takes the price from the
    adapter on every call.
    """

    version: int = SCHEMA_VERSION
    pair: str
    side: Side
    entry_price: float
    initial_size: float
    remaining_size: float
    leg_base_size: float
    tp_levels: tuple[TpLevel, ...]
    triggered_legs: tuple[int, ...] = ()
    tp_hits_count: int = 0
    active_sl: float | None = None
    sl_reason: str = "initial"
    max_unrealized_profit_pct: float = 0.0
    loss_guard_triggered: bool = False
    ratchets: tuple[RatchetRecord, ...] = ()
    exit_kind: str | None = None
    mode: Mode | None = None
    booked_orders: tuple[str, ...] | None = None
    plan: PlanSettings | None = None
    loss_guard_price: float | None = None

    @property
    def next_leg(self) -> int | None:
        """Return the 1-based index of the next unhit level, or None when all are hit."""
        index = len(self.triggered_legs) + 1
        return index if index <= len(self.tp_levels) else None


def to_json_dict(state: PositionState) -> dict[str, Any]:
    """Return the JSON-safe form of ``state`` (the inverse of :func:`from_json_dict`)."""
    return {
        "version": state.version,
        "pair": state.pair,
        "side": str(state.side),
        "entry_price": state.entry_price,
        "initial_size": state.initial_size,
        "remaining_size": state.remaining_size,
        "leg_base_size": state.leg_base_size,
        "tp_levels": [[level.price, level.fraction] for level in state.tp_levels],
        "triggered_legs": list(state.triggered_legs),
        "tp_hits_count": state.tp_hits_count,
        "active_sl": state.active_sl,
        "sl_reason": state.sl_reason,
        "max_unrealized_profit_pct": state.max_unrealized_profit_pct,
        "loss_guard_triggered": state.loss_guard_triggered,
        "ratchets": [
            [record.tp_hits, record.old_price, record.new_price, record.reason]
            for record in state.ratchets
        ],
        "exit_kind": state.exit_kind,
        "mode": None if state.mode is None else str(state.mode),
        "booked_orders": None if state.booked_orders is None else list(state.booked_orders),
        "plan": None if state.plan is None else _plan_to_json(state.plan),
        "loss_guard_price": state.loss_guard_price,
    }


def _plan_to_json(plan: PlanSettings) -> dict[str, Any]:
    return {
        "tp_profile": list(plan.tp_profile),
        "tp_distances": list(plan.tp_distances),
        "tp_atr_multipliers": (
            None if plan.tp_atr_multipliers is None else list(plan.tp_atr_multipliers)
        ),
        "size_basis": plan.size_basis,
        "max_tp_levels": plan.max_tp_levels,
        "ratchet_rule": plan.ratchet_rule,
        "ratchet_offset": plan.ratchet_offset,
    }


def _numbers(raw: Any, key: str) -> tuple[float, ...]:
    if not isinstance(raw, list) or not raw:
        raise StateError(f"stored state 'plan.{key}' is not a list of numbers, was {raw!r}")
    return tuple(_num(item, f"plan.{key}", positive=True) for item in raw)


def _plan(raw: Any) -> PlanSettings | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise StateError(f"stored state 'plan' is not an object, was {raw!r}")
    profile = _numbers(raw.get("tp_profile"), "tp_profile")
    distances = _numbers(raw.get("tp_distances"), "tp_distances")
    levels = raw.get("max_tp_levels")
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 1:
        raise StateError(f"stored state 'plan.max_tp_levels' is malformed, was {levels!r}")
    basis, rule = raw.get("size_basis"), raw.get("ratchet_rule")
    atr = raw.get("tp_atr_multipliers")
    if basis not in ("remaining", "initial") or rule not in ("seed", "step"):
        raise StateError(f"stored state 'plan' has an unknown size_basis or ratchet_rule: {raw!r}")
    return PlanSettings(
        tp_profile=profile,
        tp_distances=distances,
        tp_atr_multipliers=None if atr is None else _numbers(atr, "tp_atr_multipliers"),
        size_basis=basis,
        max_tp_levels=levels,
        ratchet_rule=rule,
        ratchet_offset=_num(raw.get("ratchet_offset"), "plan.ratchet_offset"),
    )


def _booked(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise StateError(f"stored state 'booked_orders' is not a list of ids, was {raw!r}")
    return tuple(raw)


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise StateError(f"stored state has no {key!r}")
    value = data[key]
    if isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind):
        raise StateError(f"stored state {key!r} has the wrong type, was {value!r}")
    if not isinstance(value, kind):
        raise StateError(f"stored state {key!r} has the wrong type, was {value!r}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _num(value: Any, key: str, *, optional: bool = False, positive: bool = False) -> float:
    if value is None and optional:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StateError(f"stored state {key!r} is not a number, was {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise StateError(f"stored state {key!r} is out of range, was {value!r}")
    return number


def _levels(raw: Any) -> tuple[TpLevel, ...]:
    if not isinstance(raw, list):
        raise StateError(f"stored state 'tp_levels' is not a list, was {raw!r}")
    levels = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 2:
            raise StateError(f"stored state 'tp_levels' entry is not [price, fraction]: {item!r}")
        price = _num(item[0], "tp_levels.price", positive=True)
        fraction = _num(item[1], "tp_levels.fraction", positive=True)
        if fraction > 1.0:
            raise StateError(f"stored state 'tp_levels' fraction above 1: {item!r}")
        levels.append(TpLevel(price=price, fraction=fraction))
    return tuple(levels)


def _ratchets(raw: Any) -> tuple[RatchetRecord, ...]:
    if not isinstance(raw, list):
        raise StateError(f"stored state 'ratchets' is not a list, was {raw!r}")
    records = []
    for item in raw:
        if not isinstance(item, list) or len(item) != 4 or not isinstance(item[3], str):
            raise StateError(f"stored state 'ratchets' entry is malformed: {item!r}")
        old = None if item[1] is None else _num(item[1], "ratchets.old_price")
        hits = item[0]
        if isinstance(hits, bool) or not isinstance(hits, int):
            raise StateError(f"stored state 'ratchets' tp_hits is not a whole number: {item!r}")
        records.append(
            RatchetRecord(
                tp_hits=hits,
                old_price=old,
                new_price=_num(item[2], "ratchets.new_price"),
                reason=item[3],
            )
        )
    return tuple(records)


def from_json_dict(data: Any) -> PositionState:
    """Parse a stored state, checking every field.

    :param data: what ``to_json_dict`` produced, after a JSON round trip
    :return: the state
    :raises StateError: for a foreign, corrupt, older or newer schema
    """
    if not isinstance(data, Mapping):
        raise StateError(f"stored state is not an object, was {type(data).__name__}")
    version = data.get("version")
    # `True == 1` and `1.0 == 1` in Python: the version must be the integer itself.
    if isinstance(version, bool) or not isinstance(version, int) or version != SCHEMA_VERSION:
        raise StateError(
            f"stored state has schema version {version!r}, this brain reads {SCHEMA_VERSION}"
        )
    side_raw = _get(data, "side", str)
    if side_raw not in {side.value for side in Side}:
        raise StateError(f"stored state 'side' is not long/short, was {side_raw!r}")
    legs = _get(data, "triggered_legs", list)
    if any(isinstance(leg, bool) or not isinstance(leg, int) or leg < 1 for leg in legs):
        raise StateError(f"stored state 'triggered_legs' is malformed, was {legs!r}")
    hits = _get(data, "tp_hits_count", int)
    active_sl = _get(data, "active_sl", (int, float, type(None)))
    exit_kind = _get(data, "exit_kind", (str, type(None)))
    # Optional: states written before per-pair modes have no "mode" (the adapter resolves it).
    mode = data.get("mode")
    if mode is not None and (not isinstance(mode, str) or mode not in set(Mode)):
        raise StateError(f"stored state 'mode' is not act/observe/off, was {mode!r}")
    state = PositionState(
        pair=_get(data, "pair", str),
        side=Side(side_raw),
        entry_price=_num(data.get("entry_price"), "entry_price", positive=True),
        initial_size=_num(data.get("initial_size"), "initial_size", positive=True),
        remaining_size=_num(data.get("remaining_size"), "remaining_size"),
        leg_base_size=_num(data.get("leg_base_size"), "leg_base_size"),
        tp_levels=_levels(_get(data, "tp_levels", list)),
        triggered_legs=tuple(legs),
        tp_hits_count=hits,
        active_sl=None if active_sl is None else _num(active_sl, "active_sl", positive=True),
        sl_reason=_get(data, "sl_reason", str),
        max_unrealized_profit_pct=_finite(
            data.get("max_unrealized_profit_pct"), "max_unrealized_profit_pct"
        ),
        loss_guard_triggered=_get(data, "loss_guard_triggered", bool),
        ratchets=_ratchets(_get(data, "ratchets", list)),
        exit_kind=exit_kind,
        mode=None if mode is None else Mode(mode),
        # Added after schema 1 was released: optional, absent in older rows.
        booked_orders=_booked(data.get("booked_orders")),
        plan=_plan(data.get("plan")),
        loss_guard_price=_optional_price(data.get("loss_guard_price"), "loss_guard_price"),
    )
    if state.tp_hits_count != len(state.triggered_legs) or state.triggered_legs != tuple(
        range(1, len(state.triggered_legs) + 1)
    ):
        raise StateError(
            f"stored state hits disagree: tp_hits_count={state.tp_hits_count}, "
            f"triggered_legs={list(state.triggered_legs)}"
        )
    return state


def _optional_price(value: Any, key: str) -> float | None:
    return None if value is None else _num(value, key, positive=True)


def _finite(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise StateError(f"stored state {key!r} is not a finite number, was {value!r}")
    return float(value)
