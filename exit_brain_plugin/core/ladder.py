"""Take-profit ladder: which levels are reached, how much to close, what the exchange accepts.

Rules (docs/behaviour.md §4.2-§4.3):
L1. Levels are hit strictly in order; a level is reached when the price is at or beyond it.
L2. All consecutive unhit levels reached at one price (a gap) close as ONE exit whose size is
    the composition of their fractions: ``remaining`` basis closes
    ``base × (1 − Π(1 − f_i))``, ``initial`` basis closes ``Σ initial × f_i`` (capped at what
    is left).
L3. An exit amount is truncated to the exchange step and never exceeds the remaining amount.
L4. Amounts the exchange or freqtrade would refuse are decided explicitly, never sent:
    - a remainder that would fall below the minimum: close the whole remainder;
    - an exit below the minimum order: merge into the next level (it joins that level's exit
      as a gap would), or close the whole remainder on the last level;
    - a whole remainder below the minimum order: nothing can be sent; left to the stop.
L5. The ladder never changes the state: a level counts as hit only when its order fills.
L6. A plan (settings or strategy) keeps at most ``max_tp_levels`` levels, drops levels on the
    wrong side of the entry, and is scaled to sum 1.0 when its fractions sum above 1.0 (levels
    already hit keep their fractions; only the unhit ones are divided by the sum, so the same
    plan supplied again changes nothing).
L7. Levels priced from the settings are rounded to the price tick away from the entry (up for
    a long, down for a short), so that a coarse tick never puts a level on the entry; levels
    that land on the same tick merge into one that closes what they would have closed in
    turn. Both are logged.

Invariants (tests/properties): remaining never negative (test_remaining_never_negative), total
closed never above the initial size (test_closed_never_exceeds_initial), no level twice
(test_no_level_triggers_twice).
"""

import math
from collections.abc import Sequence

from exit_brain_plugin.core import events as ev
from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.decisions import ExitOrder
from exit_brain_plugin.core.enums import ExitKind, Level, Side, SizeBasis
from exit_brain_plugin.core.events import BrainEvent
from exit_brain_plugin.core.pricing import (
    approx_eq,
    approx_ge,
    floor_to_step,
    is_level_reached,
    is_on_profit_side,
    price_from_distance,
    round_favourable,
)
from exit_brain_plugin.core.snapshot import MarketSnapshot
from exit_brain_plugin.core.state import PositionState, TpLevel
from exit_brain_plugin.core.tags import tp_tag


FRACTION_TOL = 1e-9


def levels_from_settings(
    side: Side,
    entry_price: float,
    config: BrainConfig,
    atr: float | None,
    price_step: float | None = None,
) -> tuple[TpLevel, ...]:
    """Price the default ladder from the entry (docs/behaviour.md §5): distances, or ATR multiples.

    Prices are rounded to the exchange's price step away from the entry (L7).
    """
    return priced_levels("", side, entry_price, config, atr, price_step)[0]


def priced_levels(
    pair: str,
    side: Side,
    entry_price: float,
    config: BrainConfig,
    atr: float | None,
    price_step: float | None = None,
) -> tuple[tuple[TpLevel, ...], tuple[BrainEvent, ...]]:
    """Price the default ladder from the entry and round it to the price tick (L7).

    :return: the levels and the notes saying what a coarse tick did to them
    """
    if config.tp_atr_multipliers is not None and atr is not None:
        distances = tuple(k * atr / entry_price for k in config.tp_atr_multipliers)
    else:
        distances = config.tp_distances
    levels: list[tuple[list[int], TpLevel]] = []
    moved: list[int] = []
    for leg, (distance, fraction) in enumerate(
        zip(distances, config.tp_profile, strict=True), start=1
    ):
        if distance >= 1.0:
            continue  # an ATR distance of 100 % or more has no short price: dropped
        exact = price_from_distance(side, entry_price, distance)
        price = round_favourable(side, exact, price_step)
        if abs(price - exact) > 0.01 * abs(exact - entry_price):
            moved.append(leg)
        if levels and approx_eq(levels[-1][1].price, price):
            legs, last = levels[-1]
            merged = _merged_fraction(last.fraction, fraction, config.size_basis)
            levels[-1] = ([*legs, leg], TpLevel(price=price, fraction=merged))
        else:
            levels.append(([leg], TpLevel(price=price, fraction=fraction)))
    notes: list[BrainEvent] = []
    if moved:
        notes.append(
            ev.state_note(
                pair,
                side,
                f"price tick {price_step:g} is coarse: TP{', TP'.join(map(str, moved))} rounded "
                "away from the entry to the next tick",
                Level.INFO,
            )
        )
    for legs, level in levels:
        if len(legs) > 1:
            notes.append(
                ev.plan_warning(
                    pair,
                    side,
                    f"TP{'+TP'.join(map(str, legs))} land on the same tick "
                    f"{ev.fmt_price(level.price)}: merged into one level closing "
                    f"{level.fraction:.4g}",
                )
            )
    return tuple(level for _, level in levels), tuple(notes)


def _merged_fraction(first: float, second: float, basis: SizeBasis) -> float:
    # Two levels on one price close what they would have closed one after the other (L2).
    if basis is SizeBasis.INITIAL:
        return min(1.0, first + second)
    return 1.0 - (1.0 - first) * (1.0 - second)


def clean_plan(
    pair: str,
    side: Side,
    entry_price: float,
    levels: Sequence[TpLevel],
    config: BrainConfig,
    *,
    keep: int = 0,
) -> tuple[tuple[TpLevel, ...], tuple[BrainEvent, ...]]:
    """Apply L6 to a proposed ladder.

    :param levels: proposed levels, by index (1-based legs)
    :param keep: number of leading levels already hit; they stay as they are (docs/behaviour.md
    §4.2)
    :return: the cleaned ladder and the warnings it caused
    """
    notes: list[BrainEvent] = []
    kept = list(levels[:keep])
    proposed = []
    for level in levels[keep:]:
        valid = (
            math.isfinite(level.price)
            and level.price > 0
            and math.isfinite(level.fraction)
            and 0 < level.fraction <= 1.0
        )
        if not valid:
            notes.append(ev.plan_warning(pair, side, f"TP level {level} is invalid, dropped"))
        elif not is_on_profit_side(side, entry_price, level.price):
            notes.append(
                ev.plan_warning(
                    pair,
                    side,
                    f"TP level {ev.fmt_price(level.price)} is on the wrong side of entry "
                    f"{ev.fmt_price(entry_price)}, dropped",
                )
            )
        else:
            proposed.append(level)
    proposed.sort(key=lambda level: level.price, reverse=side is Side.SHORT)
    merged = kept + proposed
    if len(merged) > config.max_tp_levels:
        notes.append(
            ev.plan_warning(
                pair,
                side,
                f"{len(merged)} TP levels exceed max_tp_levels={config.max_tp_levels}, "
                f"dropped {len(merged) - config.max_tp_levels}",
            )
        )
        merged = merged[: config.max_tp_levels]
    total = sum(level.fraction for level in merged)
    if total > 1.0 + FRACTION_TOL:
        notes.append(ev.fractions_normalized(pair, side, total))
        # Hit levels are history: only the unhit ones are scaled, so that supplying the same
        # plan on every bot loop gives the same ladder (no drift, no repeated warning).
        merged = merged[:keep] + [
            TpLevel(price=level.price, fraction=level.fraction / total) for level in merged[keep:]
        ]
    elif merged and total < 1.0 - FRACTION_TOL:
        notes.append(
            ev.fractions_runner(
                pair,
                side,
                total,
                100.0 * runner_share([level.fraction for level in merged], config.size_basis),
            )
        )
    return tuple(merged), tuple(notes)


def runner_share(fractions: Sequence[float], basis: SizeBasis) -> float:
    """Return the share of the initial size left after every level fills (0..1)."""
    if basis is SizeBasis.INITIAL:
        return max(0.0, 1.0 - sum(fractions))
    return math.prod(1.0 - fraction for fraction in fractions)


def reached_legs(state: PositionState, price: float) -> tuple[int, ...]:
    """Return the consecutive unhit legs (1-based) that ``price`` has reached (L1)."""
    levels, first = state.tp_levels, len(state.triggered_legs)
    # the usual candle: the next level is not reached (or there is none)
    if first >= len(levels) or not is_level_reached(state.side, price, levels[first].price):
        return ()
    legs = [first + 1]
    for index in range(first + 1, len(levels)):
        if not is_level_reached(state.side, price, levels[index].price):
            break
        legs.append(index + 1)
    return tuple(legs)


def leg_amounts(state: PositionState, config: BrainConfig, legs: Sequence[int]) -> list[float]:
    """Return the ideal amount each leg closes, in order, starting from ``leg_base_size`` (L2)."""
    base = state.leg_base_size
    amounts = []
    for leg in legs:
        fraction = state.tp_levels[leg - 1].fraction
        if config.size_basis is SizeBasis.REMAINING:
            amount = base * fraction
        else:
            amount = min(state.initial_size * fraction, base)
        amounts.append(amount)
        base -= amount
    return amounts


def evaluate_ladder(
    state: PositionState,
    snapshot: MarketSnapshot,
    config: BrainConfig,
    *,
    price: float | None = None,
    explain: bool = True,
) -> tuple[ExitOrder | None, tuple[BrainEvent, ...]]:
    """Decide the take-profit exit at ``snapshot.price`` (L1-L5).

    :param price: decide at this price instead (a resting order at its level price); the
        snapshot's limits stay
    :param explain: False to leave out the trigger event (the same decision, built faster)
    :return: the exit to send now (or None) and the events explaining it
    """
    at = snapshot.price if price is None else price
    legs = reached_legs(state, at)
    if not legs:
        return None, ()
    remaining = state.remaining_size
    progress = state.leg_base_size - remaining
    need = max(0.0, sum(leg_amounts(state, config, legs)) - progress)
    request = floor_to_step(min(need, remaining), snapshot.amount_step)
    step = snapshot.amount_step or 0.0
    is_last = legs[-1] == len(state.tp_levels)
    notes: list[BrainEvent] = []
    close_all = approx_ge(request, remaining, abs_tol=step * 1e-6)
    leftover = remaining - request
    # A request of 0 (an amount step as large as the position) sends nothing and leaves the
    # position as it is: the merge rule below decides it, never the remainder rule.
    if not close_all and request > 0 and 0 < leftover < snapshot.min_remaining_amount:
        notes.append(
            ev.tp_size_decision(
                state.pair,
                state.side,
                legs,
                f"would leave {ev.fmt_amount(leftover)} below the minimum remainder "
                f"{ev.fmt_amount(snapshot.min_remaining_amount)}: closing the whole remainder",
                decision="close_remainder",
            )
        )
        close_all = True
    elif not close_all and (request <= 0 or request < snapshot.min_order_amount):
        if not is_last:
            notes.append(
                ev.tp_size_decision(
                    state.pair,
                    state.side,
                    legs,
                    f"size {ev.fmt_amount(request)} below the exchange minimum "
                    f"{ev.fmt_amount(snapshot.min_order_amount)}: merged into TP{legs[-1] + 1}",
                    decision="merged",
                )
            )
            return None, tuple(notes)
        notes.append(
            ev.tp_size_decision(
                state.pair,
                state.side,
                legs,
                f"size {ev.fmt_amount(request)} below the exchange minimum "
                f"{ev.fmt_amount(snapshot.min_order_amount)} on the last level: closing the whole "
                "remainder",
                decision="last_level",
            )
        )
        close_all = True
    amount = remaining if close_all else request
    if close_all and amount < snapshot.min_order_amount:
        notes.append(
            ev.tp_size_decision(
                state.pair,
                state.side,
                legs,
                f"remainder {ev.fmt_amount(amount)} is below the exchange minimum "
                f"{ev.fmt_amount(snapshot.min_order_amount)} and cannot be sold: left to the stop",
                decision="unsellable",
            )
        )
        return None, tuple(notes)
    level_price = state.tp_levels[legs[-1] - 1].price
    if explain:
        notes.insert(0, _trigger_note(state, config, legs, at, level_price, amount))
    order = ExitOrder(
        kind=ExitKind.TAKE_PROFIT,
        tag=tp_tag(legs),
        amount=amount,
        close_all=close_all,
        price=at,
        legs=legs,
        level_price=level_price,
    )
    return order, tuple(notes)


def _trigger_note(
    state: PositionState,
    config: BrainConfig,
    legs: tuple[int, ...],
    price: float,
    level_price: float,
    amount: float,
) -> BrainEvent:
    basis = "remaining" if config.size_basis is SizeBasis.REMAINING else "initial"
    reference = state.remaining_size if basis == "remaining" else state.initial_size
    return ev.tp_trigger(
        state.pair,
        state.side,
        legs,
        price,
        level_price,
        amount,
        round(100.0 * amount / reference, 2),
        basis,
    )


def next_level_price(state: PositionState) -> float | None:
    """Return the price of the next unhit level, or None when the ladder is done."""
    leg = state.next_leg
    return None if leg is None else state.tp_levels[leg - 1].price


def complete_legs(
    state: PositionState,
    config: BrainConfig,
    legs: Sequence[int],
    filled: float,
    *,
    complete: bool,
    tolerance: float,
) -> tuple[tuple[int, ...], float]:
    """Return the legs a fill completes and the new ``leg_base_size`` (docs/behaviour.md §4.3).

    A fully filled order completes all its legs. A partial fill completes the legs its
    cumulative amount covers (within ``tolerance``); the rest stays in progress.
    """
    remaining_after = max(0.0, state.remaining_size - filled)
    if complete:
        return tuple(legs), remaining_after
    progress = state.leg_base_size - state.remaining_size + filled
    base = state.leg_base_size
    done: list[int] = []
    for leg, amount in zip(legs, leg_amounts(state, config, legs), strict=True):
        if not approx_ge(progress, amount, abs_tol=tolerance):
            break
        done.append(leg)
        progress -= amount
        base -= amount
    if not done:
        return (), state.leg_base_size
    return tuple(done), max(base, remaining_after)


def is_dust(amount: float, step: float | None) -> bool:
    """Return True when ``amount`` is zero for the exchange (below one step, or float noise)."""
    return (
        amount <= 0
        or approx_eq(amount, 0.0, abs_tol=1e-12)
        or (step is not None and amount < step * (1 - 1e-9))
    )
