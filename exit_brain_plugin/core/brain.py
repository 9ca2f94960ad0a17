"""The brain: one evaluation of one position, and the state transitions on fills.

Rules, in priority order (docs/behaviour.md §4):
B1. Loss guard (loss_guard.py G1-G2): first; when it fires nothing else is evaluated.
B2. Stop backstop: when the brain's stop is breached but freqtrade's own stop is looser (it
    refused the stop because it was beyond the price), close the whole position.
B3. Plan update: a ladder supplied by the strategy is cleaned (ladder.py L6); hit levels stay.
B4. Take-profit triggers (ladder.py L1-L5): at most one exit order per evaluation.
B5. The high-water mark of PnL % is tracked.
Fills (``apply_fill``) are the only thing that changes sizes, hits and the stop:
F1. A TP fill completes the legs it covers (partial fills count only what filled), then the
    stop ratchets (ratchet.py R1-R3).
F2. A loss-guard fill sets ``loss_guard_triggered``; any fill that empties the position
    records ``exit_kind``; a stop fill that empties it says which stop it was (``stop_exit``).
F3. A partial exit the brain did not send (the host's own, ``/forceexit`` with an amount) is
    no ladder progress: the next level closes its fraction of what remains after it.
F4. Every fill records its order id (``booked_orders``): booking is by order identity.
Settings: the plan-shaping settings are fixed in the state at creation (``plan``); every
public function here applies them over the settings in force (``settings_for``).
Invariants (tests/properties): evaluating again with the returned state and the same snapshot
gives the same decision and no new state change (test_evaluation_is_idempotent); LONG and SHORT
mirror each other (test_long_short_mirror).
"""

import functools
from collections.abc import Iterable, Sequence
from dataclasses import replace

from exit_brain_plugin.core import events as ev
from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.decisions import (
    ExitOrder,
    Fill,
    FillKind,
    Hold,
    StopTarget,
    Verdict,
)
from exit_brain_plugin.core.enums import ExitKind, Level, RatchetRule, SizeBasis
from exit_brain_plugin.core.events import BrainEvent
from exit_brain_plugin.core.ladder import (
    clean_plan,
    complete_legs,
    evaluate_ladder,
    is_dust,
    leg_amounts,
    next_level_price,
    priced_levels,
)
from exit_brain_plugin.core.loss_guard import is_loss_guard_hit
from exit_brain_plugin.core.pricing import approx_eq, is_stop_breached, tighter_stop
from exit_brain_plugin.core.ratchet import apply_ratchet
from exit_brain_plugin.core.snapshot import MarketSnapshot, PositionOpen
from exit_brain_plugin.core.state import PlanSettings, PositionState, TpLevel


INITIAL_SL_REASON = "initial"
LOSS_GUARD_REASON = "loss_guard"
STRATEGY_SL_REASON = "strategy"


def plan_of(config: BrainConfig) -> PlanSettings:
    """Return the plan-shaping settings of ``config`` (what a new state fixes)."""
    return PlanSettings(
        tp_profile=config.tp_profile,
        tp_distances=config.tp_distances,
        tp_atr_multipliers=config.tp_atr_multipliers,
        size_basis=str(config.size_basis),
        max_tp_levels=config.max_tp_levels,
        ratchet_rule=str(config.ratchet_rule),
        ratchet_offset=config.ratchet_offset,
    )


def settings_for(state: PositionState, config: BrainConfig) -> BrainConfig:
    """Return the settings that apply to ``state``: its fixed plan over the ones in force.

    The loss guard (switch and threshold), the ratchet switch, ``enabled`` and ``mode`` stay
    as in force (they apply to open positions); everything that shapes the plan is the
    state's own (docs/operations.md).
    """
    return config if state.plan is None else _with_plan(state.plan, config)


# Every evaluation asks for the settings of its state: a handful of distinct (plan, settings)
# pairs per run, so the merged settings are cached (both are frozen and hashable).
@functools.lru_cache(maxsize=256)
def _with_plan(plan: PlanSettings, config: BrainConfig) -> BrainConfig:
    return replace(
        config,
        tp_profile=plan.tp_profile,
        tp_distances=plan.tp_distances,
        tp_atr_multipliers=plan.tp_atr_multipliers,
        size_basis=SizeBasis(plan.size_basis),
        max_tp_levels=plan.max_tp_levels,
        ratchet_rule=RatchetRule(plan.ratchet_rule),
        ratchet_offset=plan.ratchet_offset,
    )


def create_state(opening: PositionOpen, config: BrainConfig) -> Verdict:
    """Create the state at the first entry fill, with the ladder priced from the entry.

    The plan-shaping settings of ``config`` are fixed in the state (``plan``).

    :return: a Hold verdict holding the new state and its creation events
    """
    raw, tick_notes = priced_levels(
        opening.pair, opening.side, opening.entry_price, config, opening.atr, opening.price_step
    )
    levels, notes = clean_plan(opening.pair, opening.side, opening.entry_price, raw, config)
    notes = (*tick_notes, *notes)
    state = PositionState(
        pair=opening.pair,
        side=opening.side,
        entry_price=opening.entry_price,
        initial_size=opening.amount,
        remaining_size=opening.amount,
        leg_base_size=opening.amount,
        tp_levels=levels,
        active_sl=opening.initial_stop_price,
        sl_reason=INITIAL_SL_REASON,
        booked_orders=() if opening.order_id is None else (opening.order_id,),
        plan=plan_of(config),
    )
    created = ev.state_created(opening.pair, opening.side, opening.entry_price, opening.amount)
    return Verdict(decision=Hold(), state=state, events=(created, *notes))


def _is_closed(state: PositionState) -> bool:
    return state.exit_kind is not None or state.remaining_size <= 0


def _full_close(state: PositionState, kind: ExitKind, tag: str, price: float) -> ExitOrder:
    return ExitOrder(kind=kind, tag=tag, amount=state.remaining_size, close_all=True, price=price)


def evaluate_position(
    snapshot: MarketSnapshot,
    state: PositionState,
    config: BrainConfig,
    plan: Sequence[TpLevel] | None = None,
) -> Verdict:
    """Decide what to do with one position at one tick (B1-B5).

    :param snapshot: the market at this tick (price, freqtrade's profit ratio, exchange limits)
    :param state: the position's state
    :param config: validated settings
    :param plan: a ladder supplied by the strategy, or None to keep the current one
    :return: the decision, the new state (only plan and high-water mark change here) and events
    """
    if _is_closed(state):
        return Verdict(decision=Hold(), state=state)
    config = settings_for(state, config)
    pnl_pct = 100.0 * snapshot.current_profit
    if pnl_pct > state.max_unrealized_profit_pct:
        state = replace(state, max_unrealized_profit_pct=pnl_pct)
    if state.loss_guard_triggered:  # G2: retry the same close, say nothing new
        return Verdict(
            decision=_full_close(state, ExitKind.LOSS_GUARD, ev.LOSS_GUARD_TAG, snapshot.price),
            state=state,
        )
    if is_loss_guard_hit(config, snapshot.current_profit):
        return _fire_loss_guard(snapshot, state, config, pnl_pct)
    backstop = _stop_backstop(snapshot, state)
    if backstop is not None:
        return backstop
    notes: tuple[BrainEvent, ...] = ()
    if plan is not None:
        state, notes = _update_plan(state, config, plan)
    order, tp_notes = evaluate_ladder(state, snapshot, config)
    decision = Hold() if order is None else order
    return Verdict(decision=decision, state=state, events=notes + tp_notes)


def _fire_loss_guard(
    snapshot: MarketSnapshot, state: PositionState, config: BrainConfig, pnl_pct: float
) -> Verdict:
    fired = replace(
        state, loss_guard_triggered=True, tp_levels=(), active_sl=None, sl_reason=LOSS_GUARD_REASON
    )
    notes = (
        ev.loss_guard_triggered(state.pair, state.side, pnl_pct, config.max_unrealized_loss_pct),
        ev.loss_guard_closing(state.pair, state.side, state.remaining_size, pnl_pct),
    )
    order = _full_close(fired, ExitKind.LOSS_GUARD, ev.LOSS_GUARD_TAG, snapshot.price)
    return Verdict(decision=order, state=fired, events=notes)


def _stop_backstop(snapshot: MarketSnapshot, state: PositionState) -> Verdict | None:
    stop = state.active_sl
    if stop is None or state.sl_reason == INITIAL_SL_REASON:
        return None
    if not is_stop_breached(state.side, snapshot.price, stop):
        return None
    held = snapshot.exchange_stop_price
    if held is not None and is_stop_breached(state.side, snapshot.price, held):
        return None  # freqtrade's own stop fires and reports it (docs/behaviour.md §6)
    order = _full_close(state, ExitKind.STOP_BACKSTOP, ev.STOP_BACKSTOP_TAG, snapshot.price)
    note = ev.stop_backstop(state.pair, state.side, snapshot.price, stop, state.sl_reason)
    return Verdict(decision=order, state=state, events=(note,))


def _update_plan(
    state: PositionState, config: BrainConfig, plan: Sequence[TpLevel]
) -> tuple[PositionState, tuple[BrainEvent, ...]]:
    hits = state.tp_hits_count
    proposed = [*state.tp_levels[:hits], *plan[hits:]]
    levels, notes = clean_plan(
        state.pair, state.side, state.entry_price, proposed, config, keep=hits
    )
    if levels == state.tp_levels:
        return state, ()
    text = ", ".join(f"{ev.fmt_price(level.price)}×{level.fraction:g}" for level in levels)
    return replace(state, tp_levels=levels), (ev.plan_updated(state.pair, state.side, text), *notes)


def price_resting_exit(
    snapshot: MarketSnapshot, state: PositionState, config: BrainConfig
) -> ExitOrder | None:
    """Return the exit the brain would send when price reaches the next level, or None.

    Backtests rest it as a limit order at the level price, so that a level touched inside a
    candle fills at exactly that price (docs/behaviour.md §6); the decision itself is
    ``evaluate_position``
    at that price, so there is one rule for both.
    """
    level_price = next_level_price(state)
    if level_price is None or _is_closed(state) or state.loss_guard_triggered:
        return None
    at_level = replace(snapshot, price=level_price)
    order, _ = evaluate_ladder(state, at_level, settings_for(state, config))
    return order


def evaluate_stop(
    state: PositionState,
    config: BrainConfig,
    *,
    held_stop_price: float | None,
    host_stop_price: float | None,
    loss_guard_price: float | None,
) -> StopTarget | None:
    """Return the stop freqtrade should hold, or None to leave the strategy's stop alone.

    The brain's candidates are its ratcheted stop and the loss-guard price; the tightest wins.
    The result is never looser than ``host_stop_price`` (the strategy's answer) nor than
    ``held_stop_price`` (freqtrade's current stop), whatever the strategy answers: the stop
    only tightens. Pass ``held_stop_price=None`` only where the held stop is the brain's own
    loss-guard price of a position that has since grown (an added entry reprices the guard).
    """
    candidates: list[StopTarget] = []
    if state.active_sl is not None and state.sl_reason != INITIAL_SL_REASON:
        candidates.append(StopTarget(price=state.active_sl, source=state.sl_reason))
    if (
        config.loss_guard_enabled
        and not state.loss_guard_triggered
        and loss_guard_price is not None
        and not _is_closed(state)
    ):
        candidates.append(StopTarget(price=loss_guard_price, source=LOSS_GUARD_REASON))
    if not candidates:
        return None
    best = candidates[0]
    for candidate in candidates[1:]:
        if tighter_stop(state.side, candidate.price, best.price) != best.price:
            best = candidate
    floors = [price for price in (host_stop_price, held_stop_price) if price is not None]
    floor = None
    for price in floors:
        floor = price if floor is None else tighter_stop(state.side, floor, price)
    if floor is not None and (
        approx_eq(floor, best.price) or tighter_stop(state.side, floor, best.price) == floor
    ):
        return StopTarget(price=floor, source=STRATEGY_SL_REASON)
    return best


def classify_stop(
    state: PositionState, stop_price: float, loss_guard_price: float | None, tolerance: float
) -> str:
    """Return whose stop ``stop_price`` is: ``loss_guard``, a ratchet reason or ``strategy``.

    :param tolerance: absolute price tolerance (one exchange price step)
    """
    if (
        loss_guard_price is not None
        and not state.loss_guard_triggered
        and approx_eq(stop_price, loss_guard_price, abs_tol=tolerance)
    ):
        return LOSS_GUARD_REASON
    if state.active_sl is not None and approx_eq(stop_price, state.active_sl, abs_tol=tolerance):
        return state.sl_reason
    if state.sl_reason == INITIAL_SL_REASON:
        return INITIAL_SL_REASON
    return STRATEGY_SL_REASON


def apply_fill(state: PositionState, fill: Fill, config: BrainConfig) -> Verdict:
    """Apply one (partly) filled order to the state (F1-F2).

    :return: a Hold verdict with the new state and the events of the fill
    """
    verdict = _apply_fill(state, fill, settings_for(state, config))
    if state.booked_orders is None or fill.order_id in state.booked_orders:
        return verdict
    booked = replace(verdict.state, booked_orders=(*state.booked_orders, fill.order_id))
    return replace(verdict, state=booked)


def _apply_fill(state: PositionState, fill: Fill, config: BrainConfig) -> Verdict:
    if fill.kind is FillKind.ENTRY:
        return _apply_entry(state, fill)
    if fill.kind is FillKind.TAKE_PROFIT and _is_next_legs(state, fill.legs):
        return _apply_tp(state, fill, config)
    remaining = _reduce(state, fill)
    notes: tuple[BrainEvent, ...] = ()
    # F3: an exit the brain did not send for the next legs moves the legs' base with it, so
    # that what it sold never counts as progress toward a level.
    leg_base = max(remaining, state.leg_base_size - fill.filled_amount)
    new = replace(state, remaining_size=remaining, leg_base_size=leg_base)
    if fill.kind is FillKind.LOSS_GUARD:
        new = replace(
            new,
            loss_guard_triggered=True,
            tp_levels=(),
            active_sl=None,
            sl_reason=LOSS_GUARD_REASON,
        )
        notes = (
            *_guard_fired_at_fill(state, fill, config),
            ev.loss_guard_executed(state.pair, state.side, fill.filled_amount, fill.order_id),
        )
    if is_dust(remaining, fill.amount_step):
        new = replace(new, remaining_size=0.0, exit_kind=_exit_kind(fill))
        if fill.kind is FillKind.STOP:
            stopped = ev.stop_exit(
                state.pair,
                state.side,
                fill.reason or INITIAL_SL_REASON,
                fill.price,
                fill.filled_amount,
                fill.order_id,
            )
            notes = (*notes, stopped)
    return Verdict(decision=Hold(), state=new, events=notes)


def _guard_fired_at_fill(
    state: PositionState, fill: Fill, config: BrainConfig
) -> tuple[BrainEvent, ...]:
    # The guard also fires as a stop at its price (inside a candle in backtests): the
    # evaluation never saw it, so the fill says it (docs/behaviour.md §7 lines).
    if state.loss_guard_triggered:
        return ()
    threshold = config.max_unrealized_loss_pct
    pnl = -threshold if fill.profit_ratio is None else 100.0 * fill.profit_ratio
    return (
        ev.loss_guard_triggered(state.pair, state.side, pnl, threshold),
        ev.loss_guard_closing(state.pair, state.side, state.remaining_size, pnl),
    )


def _exit_kind(fill: Fill) -> str:
    if fill.kind is FillKind.LOSS_GUARD:
        return LOSS_GUARD_REASON
    if fill.kind is FillKind.STOP:
        return f"stop:{fill.reason or INITIAL_SL_REASON}"
    if fill.kind is FillKind.TAKE_PROFIT:
        return "take_profit"
    return f"other:{fill.reason or 'exit'}"


def _reduce(state: PositionState, fill: Fill) -> float:
    return max(0.0, state.remaining_size - fill.filled_amount)


def _is_next_legs(state: PositionState, legs: Sequence[int]) -> bool:
    first = len(state.triggered_legs) + 1
    return (
        bool(legs)
        and tuple(legs) == tuple(range(first, first + len(legs)))
        and (legs[-1] <= len(state.tp_levels))
    )


def _apply_entry(state: PositionState, fill: Fill) -> Verdict:
    entry = fill.entry_price_after if fill.entry_price_after is not None else state.entry_price
    new = replace(
        state,
        remaining_size=state.remaining_size + fill.filled_amount,
        leg_base_size=state.leg_base_size + fill.filled_amount,
        entry_price=entry,
    )
    note = ev.state_note(
        state.pair,
        state.side,
        f"entry fill {ev.fmt_amount(fill.filled_amount)} added, "
        f"remaining_size={ev.fmt_amount(new.remaining_size)}",
        Level.INFO,
    )
    return Verdict(decision=Hold(), state=new, events=(note,))


def _apply_tp(state: PositionState, fill: Fill, config: BrainConfig) -> Verdict:
    tolerance = fill.amount_step or 0.0
    done, leg_base = complete_legs(
        state, config, fill.legs, fill.filled_amount, complete=fill.complete, tolerance=tolerance
    )
    remaining = _reduce(state, fill)
    notes: list[BrainEvent] = [
        ev.tp_executed(state.pair, state.side, fill.legs, fill.filled_amount, fill.order_id)
    ]
    new = replace(
        state,
        remaining_size=remaining,
        leg_base_size=leg_base,
        triggered_legs=(*state.triggered_legs, *done),
        tp_hits_count=state.tp_hits_count + len(done),
    )
    if not fill.complete:
        # What the order's legs still need after this fill: their ideal amounts (from the
        # state before the fill) minus everything filled toward them so far.
        ordered = sum(leg_amounts(state, config, fill.legs))
        missing = max(0.0, ordered - (state.leg_base_size - remaining))
        notes.append(
            ev.tp_partial_fill(
                state.pair, state.side, fill.legs, fill.filled_amount, missing, fill.order_id
            )
        )
    if done:
        notes.append(
            ev.tp_state_updated(state.pair, state.side, done, remaining, new.tp_hits_count)
        )
        new, ratchet_notes = apply_ratchet(new, config)
        notes.extend(ratchet_notes)
    if is_dust(remaining, fill.amount_step):
        new = replace(new, remaining_size=0.0, exit_kind="take_profit")
    return Verdict(decision=Hold(), state=new, events=tuple(notes))


def rebuild_state(
    opening: PositionOpen,
    fills: Iterable[Fill],
    config: BrainConfig,
    levels: Sequence[TpLevel] | None = None,
) -> Verdict:
    """Rebuild a state by replaying the trade's filled orders (the ground truth,
    docs/behaviour.md §3).

    :param opening: the first entry fill
    :param fills: every later fill, in time order
    :param levels: the ladder the position was created with (kept from its stored state), or
        None to price it from ``config`` (pass ``settings_for(stored, config)`` with it)
    :return: the rebuilt state; its events are the replay's (the adapter summarises them)
    """
    verdict = create_state(opening, config)
    state, notes = verdict.state, list(verdict.events)
    if levels is not None:
        state = replace(state, tp_levels=tuple(levels))
    for fill in fills:
        step = apply_fill(state, fill, config)
        state = step.state
        notes.extend(step.events)
    return Verdict(decision=Hold(), state=state, events=tuple(notes))
