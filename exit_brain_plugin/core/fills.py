"""Fills: the only thing that changes sizes, hits and the stop of a position.

Rules (docs/behaviour.md §3, §4.3-§4.4):
F1. A TP fill completes the legs it covers (partial fills count only what filled), then the
    stop ratchets (ratchet.py R1-R3).
F2. A loss-guard fill sets ``loss_guard_triggered``; any fill that empties the position
    records ``exit_kind``; a stop fill that empties it says which stop it was (``stop_exit``).
F3. A partial exit the brain did not send (the host's own, ``/forceexit`` with an amount) is
    no ladder progress: the next level closes its fraction of what remains after it.
F4. Every fill records its order id (``booked_orders``): booking is by order identity.
F5. A state can always be rebuilt by replaying the trade's filled orders from its first entry
    (``rebuild_state``; the orders are the ground truth, docs/behaviour.md §3).
Every public function here applies the state's fixed plan over the settings in force
(brain.py ``settings_for``).
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace

from exit_brain_plugin.core import events as ev
from exit_brain_plugin.core.brain import HOLD, create_state, settings_for
from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.decisions import Fill, FillKind, Verdict
from exit_brain_plugin.core.enums import Level
from exit_brain_plugin.core.events import BrainEvent
from exit_brain_plugin.core.ladder import complete_legs, is_dust, leg_amounts
from exit_brain_plugin.core.ratchet import apply_ratchet
from exit_brain_plugin.core.snapshot import PositionOpen
from exit_brain_plugin.core.state import PositionState, TpLevel
from exit_brain_plugin.core.stops import INITIAL_SL_REASON, LOSS_GUARD_REASON


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
    return Verdict(decision=HOLD, state=new, events=notes)


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
    return Verdict(decision=HOLD, state=new, events=(note,))


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
    return Verdict(decision=HOLD, state=new, events=tuple(notes))


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
    return Verdict(decision=HOLD, state=state, events=tuple(notes))
