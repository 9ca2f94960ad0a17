"""The brain: one evaluation of one position, and the state a position starts from.

Rules, in priority order (docs/behaviour.md §4):
B1. Loss guard (loss_guard.py G1-G2): first; when it fires nothing else is evaluated.
B2. Stop backstop: when the brain's stop is breached but freqtrade's own stop is looser (it
    refused the stop because it was beyond the price), close the whole position.
B3. Plan update: a ladder supplied by the strategy is cleaned (ladder.py L6); hit levels stay.
B4. Take-profit triggers (ladder.py L1-L5): at most one exit order per evaluation.
B5. The high-water mark of PnL % is tracked.
Fills change sizes, hits and the stop (fills.py F1-F5); the stop freqtrade should hold is
stops.py's (S1-S3).
Settings: the plan-shaping settings are fixed in the state at creation (``plan``); every
public function here applies them over the settings in force (``settings_for``).
Invariants (tests/properties): evaluating again with the returned state and the same snapshot
gives the same decision and no new state change (test_evaluation_is_idempotent); LONG and SHORT
mirror each other (test_long_short_mirror).
"""

import functools
from collections.abc import Sequence
from dataclasses import replace

from exit_brain_plugin.core import events as ev
from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.decisions import ExitOrder, Hold, Verdict
from exit_brain_plugin.core.enums import ExitKind, RatchetRule, SizeBasis
from exit_brain_plugin.core.events import BrainEvent
from exit_brain_plugin.core.ladder import (
    clean_plan,
    evaluate_ladder,
    next_level_price,
    priced_levels,
)
from exit_brain_plugin.core.loss_guard import is_loss_guard_hit
from exit_brain_plugin.core.pricing import is_stop_breached
from exit_brain_plugin.core.snapshot import MarketSnapshot, PositionOpen
from exit_brain_plugin.core.state import PlanSettings, PositionState, TpLevel
from exit_brain_plugin.core.stops import INITIAL_SL_REASON, LOSS_GUARD_REASON, is_closed
from exit_brain_plugin.core.tags import LOSS_GUARD_TAG, STOP_BACKSTOP_TAG


#: The one Hold decision (frozen and field-less: every Hold is equal to it).
HOLD = Hold()


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
    plan = state.plan
    if plan is None:
        return config
    seen = _MERGED_BY_IDENTITY.get(id(plan))
    if seen is not None and seen[0] is plan and seen[1] is config:
        return seen[2]
    merged = _with_plan(plan, config)
    if len(_MERGED_BY_IDENTITY) >= _MERGED_BY_IDENTITY_MAX:
        _MERGED_BY_IDENTITY.clear()
    _MERGED_BY_IDENTITY[id(plan)] = (plan, config, merged)
    return merged


# Every evaluation asks for the settings of its state, so the merged settings are cached
# twice. First by identity: a state carries the same plan object from one evaluation to the
# next and the adapter passes the same settings object, so two `is` tests replace hashing two
# frozen dataclasses (the entry holds the plan, so its id cannot be reused while it is
# there). Then by value: a state read back from JSON holds an equal plan in a new object, and
# a run has a handful of distinct (plan, settings) pairs.
_MERGED_BY_IDENTITY: dict[int, tuple[PlanSettings, BrainConfig, BrainConfig]] = {}
_MERGED_BY_IDENTITY_MAX = 256


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
    return Verdict(decision=HOLD, state=state, events=(created, *notes))


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
    if is_closed(state):
        return Verdict(decision=HOLD, state=state)
    config = settings_for(state, config)
    pnl_pct = 100.0 * snapshot.current_profit
    if pnl_pct > state.max_unrealized_profit_pct:
        state = replace(state, max_unrealized_profit_pct=pnl_pct)
    if state.loss_guard_triggered:  # G2: retry the same close, say nothing new
        return Verdict(
            decision=_full_close(state, ExitKind.LOSS_GUARD, LOSS_GUARD_TAG, snapshot.price),
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
    decision = HOLD if order is None else order
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
    order = _full_close(fired, ExitKind.LOSS_GUARD, LOSS_GUARD_TAG, snapshot.price)
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
    order = _full_close(state, ExitKind.STOP_BACKSTOP, STOP_BACKSTOP_TAG, snapshot.price)
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
    if level_price is None or is_closed(state) or state.loss_guard_triggered:
        return None
    # the ladder at the level price, without the log lines nobody reads (the snapshot's
    # other facts are the ones at this tick)
    order, _ = evaluate_ladder(
        state, snapshot, settings_for(state, config), price=level_price, explain=False
    )
    return order
