"""Hypothesis strategies: random valid settings, exchanges, price paths and fill outcomes.

Prices are generated as *favourable moves* ``r`` from the entry (``+0.02`` is 2 % in the trade's
favour) so that one path can be played as a LONG (``entry × (1 + r)``) or as a SHORT
(``entry × (1 − r)``): the mirror of each other around the entry price.
"""

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from exit_brain_plugin.core import (
    BrainConfig,
    ConfigError,
    Mode,
    PositionState,
    RatchetRecord,
    Side,
    TpLevel,
    parse_config,
)


FRACTIONS = st.integers(1, 20).map(lambda k: k / 20)
OUTCOMES = ("full", "full", "full", "partial", "partial", "reject", "zero")


@st.composite
def settings_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Return a valid ``exit_brain`` section: every switch, basis and rule, 1-5 levels."""
    count = draw(st.integers(1, 5))
    units = draw(st.lists(st.integers(1, 60), min_size=count, max_size=count, unique=True))
    raw = {
        "tp_profile": draw(st.lists(FRACTIONS, min_size=count, max_size=count)),
        "tp_distances": [unit / 400 for unit in sorted(units)],  # 0.25 % .. 15 %
        "size_basis": draw(st.sampled_from(["remaining", "initial"])),
        "ratchet_rule": draw(st.sampled_from(["seed", "step"])),
        "ratchet_offset": draw(st.sampled_from([0.0, 0.0, 0.001, 0.002, 0.01])),
        "ratchet_sl_enabled": draw(st.booleans()),
        "loss_guard_enabled": draw(st.booleans()),
        "max_unrealized_loss_pct": draw(st.sampled_from([2.5, 5.0, 12.5, 25.0, 50.0])),
        "max_tp_levels": draw(st.integers(1, 5)),
    }
    try:
        parse_config(raw)
    except ConfigError:  # an offset that puts the ratcheted stop beyond its level (issue 9)
        raw["ratchet_offset"] = 0.0
    return raw


def configs(**fixed: Any) -> st.SearchStrategy[BrainConfig]:
    """Return validated random settings; ``fixed`` settings override the drawn ones."""
    return settings_dicts().map(lambda raw: parse_config({**raw, **fixed}))


@dataclass(frozen=True, kw_only=True)
class Exchange:
    """The exchange facts of one market: amount step and minimums, in base units."""

    size: float
    amount_step: float | None
    min_order_amount: float
    min_remaining_amount: float


def _on_step(amount: float, step: float | None) -> float:
    if step is None:
        return round(amount, 8)
    return round(math.floor(amount / step + 1e-9) * step, 8)


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    """Return a position size and random exchange rules (no step, or steps 0.001 .. 1)."""
    step = draw(st.sampled_from([None, 0.001, 0.01, 0.1, 1.0]))
    if step is None:
        size = round(draw(st.floats(0.01, 1000.0)), 6)
    else:
        size = round(draw(st.integers(1, 2000)) * step, 8)
    min_order = _on_step(size * draw(st.sampled_from([0.0, 0.0, 0.01, 0.05, 0.2])), step)
    min_remaining = _on_step(size * draw(st.sampled_from([0.0, 0.0, 0.02, 0.1, 0.3])), step)
    return Exchange(
        size=size,
        amount_step=step,
        min_order_amount=min_order,
        min_remaining_amount=min_remaining,
    )


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One position played tick by tick.

    :param path: favourable moves from the entry, one per tick
    :param outcomes: what happens to an exit sent at each tick, and the filled share if partial
    :param restarts: whether the bot restarts (state JSON round trip) after each tick
    :param plan: a strategy plan as ``(favourable distance, fraction)``, supplied on every
        tick from ``plan_from`` on (distances may be on the wrong side of the entry)
    :param holds_brain_stop: whether freqtrade takes the brain's stop (``evaluate_stop``);
        when False it keeps the strategy's stop, so the brain's own closes (loss guard, stop
        backstop) do the work
    """

    settings: dict[str, Any]
    side: Side
    entry_price: float
    exchange: Exchange
    leverage: float
    stop_distance: float | None
    path: tuple[float, ...]
    outcomes: tuple[tuple[str, float], ...]
    restarts: tuple[bool, ...]
    plan: tuple[tuple[float, float], ...]
    plan_from: int | None
    holds_brain_stop: bool

    @property
    def config(self) -> BrainConfig:
        """Return the parsed settings."""
        return parse_config(self.settings)


@st.composite
def price_paths(draw: st.DrawFn, distances: list[float]) -> tuple[float, ...]:
    """Return a walk of favourable moves with jumps, gaps and exact touches of the levels."""
    length = draw(st.integers(1, 40))
    moves = st.one_of(
        st.floats(-0.03, 0.03).map(lambda x: ("walk", round(x, 4))),
        st.floats(-0.12, 0.3).map(lambda x: ("jump", round(x, 4))),
        st.sampled_from(sorted({*distances, 0.0})).map(lambda x: ("at", x)),
    )
    position = 0.0
    path = []
    for kind, value in draw(st.lists(moves, min_size=length, max_size=length)):
        position = value if kind != "walk" else round(position + value, 4)
        position = min(0.5, max(-0.5, position))
        path.append(position)
    return tuple(path)


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    side: Side | None = None,
    loss_guard: bool | None = None,
    with_plan: bool | None = None,
) -> Scenario:
    """Return a random position: settings, exchange, leverage, stop, path, fills, plan.

    :param side: fix the side; ``loss_guard``: fix ``loss_guard_enabled``; ``with_plan``:
        whether the strategy supplies a plan (keyword arguments focus a property on a rule)
    """
    settings = draw(settings_dicts())
    if loss_guard is not None:
        settings["loss_guard_enabled"] = loss_guard
    plan_distance = st.floats(-0.05, 0.3).map(lambda x: round(x, 4))
    plan = draw(st.lists(st.tuples(plan_distance, FRACTIONS), min_size=1, max_size=6))
    path = draw(price_paths([*settings["tp_distances"], *(d for d, _ in plan if d > 0)]))
    ticks = len(path)
    outcome = st.tuples(st.sampled_from(OUTCOMES), st.floats(0.05, 0.95))
    return Scenario(
        settings=settings,
        side=draw(st.sampled_from(Side)) if side is None else side,
        entry_price=draw(st.sampled_from([0.085, 1.0, 3000.0, 50000.0])),
        exchange=draw(exchanges()),
        leverage=draw(st.sampled_from([1.0, 2.0, 5.0, 10.0, 20.0])),
        stop_distance=draw(st.sampled_from([None, 0.01, 0.02, 0.05, 0.1, 0.2])),
        path=path,
        outcomes=tuple(draw(st.lists(outcome, min_size=ticks, max_size=ticks))),
        restarts=tuple(draw(st.lists(st.booleans(), min_size=ticks, max_size=ticks))),
        plan=tuple(plan),
        plan_from=draw(
            st.integers(0, ticks - 1)
            if with_plan
            else st.none()
            if with_plan is False
            else st.none() | st.integers(0, ticks - 1)
        ),
        holds_brain_stop=draw(st.booleans()),
    )


POSITIVE = st.floats(1e-6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def position_states(draw: st.DrawFn) -> PositionState:
    """Return an arbitrary valid state (every field), independent of any evaluation."""
    level_count = draw(st.integers(0, 6))
    hits = draw(st.integers(0, level_count))
    size = draw(POSITIVE)
    records = st.builds(
        RatchetRecord,
        tp_hits=st.integers(1, 6),
        old_price=st.none() | POSITIVE,
        new_price=POSITIVE,
        reason=st.sampled_from(["breakeven", "tp1", "tp2"]),
    )
    return PositionState(
        pair=draw(st.sampled_from(["ETH/USDT", "BTC/USDT:USDT", "ETH/BTC", "ÄÖ/€"])),
        side=draw(st.sampled_from(Side)),
        entry_price=draw(POSITIVE),
        initial_size=size,
        remaining_size=draw(st.floats(0.0, size)),
        leg_base_size=draw(st.floats(0.0, size)),
        tp_levels=tuple(
            draw(
                st.lists(
                    st.builds(TpLevel, price=POSITIVE, fraction=st.floats(1e-6, 1.0)),
                    min_size=level_count,
                    max_size=level_count,
                )
            )
        ),
        triggered_legs=tuple(range(1, hits + 1)),
        tp_hits_count=hits,
        active_sl=draw(st.none() | POSITIVE),
        sl_reason=draw(st.sampled_from(["initial", "breakeven", "tp1", "loss_guard"])),
        max_unrealized_profit_pct=draw(st.floats(-1e4, 1e4)),
        loss_guard_triggered=draw(st.booleans()),
        ratchets=tuple(draw(st.lists(records, max_size=4))),
        exit_kind=draw(st.none() | st.sampled_from(["take_profit", "loss_guard", "stop:tp1"])),
        mode=draw(st.none() | st.sampled_from([Mode.ACT, Mode.OBSERVE])),
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)


@st.composite
def open_states(draw: st.DrawFn) -> PositionState:
    """Return a consistent open position part-way up its ladder, with a stop anywhere.

    The stop may sit on either side of the entry (a host strategy's trailing stop can already
    be in profit), so ratchet properties see stops tighter than every candidate.
    """
    side = draw(st.sampled_from(Side))
    entry = 3000.0
    count = draw(st.integers(1, 5))
    units = sorted(draw(st.lists(st.integers(1, 60), min_size=count, max_size=count, unique=True)))
    sign = 1.0 if side is Side.LONG else -1.0
    levels = tuple(
        TpLevel(price=entry * (1.0 + sign * unit / 400), fraction=draw(FRACTIONS)) for unit in units
    )
    hits = draw(st.integers(0, count - 1))
    size = 10.0
    remaining = draw(st.floats(0.5, size))
    stop = draw(st.none() | st.floats(-0.2, 0.2).map(lambda x: entry * (1.0 + round(x, 4))))
    return PositionState(
        pair="ETH/USDT",
        side=side,
        entry_price=entry,
        initial_size=size,
        remaining_size=remaining,
        leg_base_size=remaining,
        tp_levels=levels,
        triggered_legs=tuple(range(1, hits + 1)),
        tp_hits_count=hits,
        active_sl=stop,
        sl_reason=draw(st.sampled_from(["initial", "breakeven", "tp1", "strategy"])),
    )
