"""The way back to the ground truth: load, adopt, repair or rebuild a position's state.

Rules:

1. The trade's filled orders are the ground truth (docs/behaviour.md §3). A stored state is
   used as it is only when it agrees with them: live, by the identity checks of booking.py;
   in backtests (where the adapter's own fills are the only fills), by the remaining size.
2. A state that is missing, unreadable or disagrees is rebuilt from the orders with
   ``core.rebuild_state``, keeping the plan the position was created with when the stored
   state still says it, and the repair is said in one ``[EXIT_BRAIN_STATE]`` WARNING.
3. A row written before plans and booked orders were stored is adopted once: the plan in
   force now and the orders it agrees with are written into it.
4. Observe mode's shadow starts from the position as it is: the brain's own acting state when
   it agrees, else the brain's orders plus observe mode's own virtual fills.
"""

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from exit_brain_plugin.adapter import booking, translate
from exit_brain_plugin.adapter.shadow import ledger_fills
from exit_brain_plugin.core import (
    BrainEvent,
    FillKind,
    Level,
    Mode,
    PositionState,
    StateError,
    rebuild_state,
)
from exit_brain_plugin.core.brain import plan_of, settings_for
from exit_brain_plugin.core.events import state_note, state_repaired


if TYPE_CHECKING:
    from exit_brain_plugin.adapter.runtime import ExitBrainRuntime


def load(runtime: "ExitBrainRuntime", trade: Any, *, check: bool = True) -> PositionState | None:
    """Return the trade's state: stored, repaired or rebuilt from its orders.

    :param check: compare with the trade's amount and rebuild on disagreement (off where
        freqtrade has not yet booked a fill, e.g. the after-fill stop call in backtests)
    """
    try:
        state = runtime.store.load(trade)
    except StateError as error:
        return rebuild(runtime, trade, f"stored state rejected ({error})")
    if state is None:
        if not translate.filled_orders(trade) or trade.amount <= 0:
            return None
        if runtime.mode(trade) is Mode.OBSERVE and not runtime.backtest:
            shadow = _shadow_from_act(runtime, trade)
            if shadow is not None:
                return shadow
        return rebuild(runtime, trade, None)
    if not (check and runtime.active(trade)):
        return state
    if runtime.backtest:
        if not booking.amounts_agree(state, trade, within_step=True):
            return rebuild(
                runtime,
                trade,
                f"stored remaining_size={state.remaining_size} disagrees with the trade's "
                f"amount {trade.amount}",
                stored=state,
            )
        return state
    why = booking.disagreement(state, trade)
    if why is not None:
        return rebuild(runtime, trade, why, stored=state)
    return _adopt(runtime, trade, state)


def _shadow_from_act(runtime: "ExitBrainRuntime", trade: Any) -> PositionState | None:
    # A position the brain acted on, now run in observe mode (a state written by a
    # release that kept no mode): the shadow starts from the position as it is, its
    # acting state, when that agrees with the orders; otherwise from the orders.
    try:
        acted = runtime.modes.stores[Mode.ACT].load(trade)  # live: uncached
    except StateError:
        return None
    if acted is None or booking.disagreement(acted, trade) is not None:
        return None
    shadow = replace(acted, plan=acted.plan or plan_of(runtime.settings))
    runtime.store.save(trade, shadow)
    note = state_note(
        trade.pair,
        translate.side_of(trade),
        f"observe mode: shadow starts from the position as the brain left it - "
        f"remaining_size={shadow.remaining_size}, tp_hits_count={shadow.tp_hits_count}, "
        f"sl_reason={shadow.sl_reason}",
        Level.INFO,
    )
    runtime.commit(trade, (note,), None)
    return shadow


def _adopt(runtime: "ExitBrainRuntime", trade: Any, state: PositionState) -> PositionState:
    # A row written before plans and booked orders were stored (it agrees with the
    # orders): fix the plan settings in force now and the orders it holds, once.
    if state.plan is not None and state.booked_orders is not None:
        return state
    adopted = replace(
        state,
        plan=state.plan or plan_of(runtime.settings),
        booked_orders=(
            booking.booked_ids(trade) if state.booked_orders is None else state.booked_orders
        ),
    )
    runtime.store.save(trade, adopted)
    return adopted


def rebuild(
    runtime: "ExitBrainRuntime", trade: Any, why: str | None, stored: PositionState | None = None
) -> PositionState | None:
    """Rebuild the trade's state from its filled orders, say why, and store it.

    :param why: what was wrong with the stored state; None when there was none
    :param stored: the stored state, whose plan the position keeps when it has one
    """
    orders = translate.filled_orders(trade)
    entries = [order for order in orders if translate.is_entry(order, trade)]
    if not entries:
        return None
    first = entries[0]
    opening = translate.opening_from_trade(
        trade,
        amount=translate.booked_amount(first),
        entry_price=float(first.safe_price),
        stop_price=trade.initial_stop_loss or trade.stop_loss,
        atr=None,
        order_id=str(first.order_id),
    )
    fills = [runtime.fill_of(order, trade, None) for order in orders if order is not first]
    if runtime.mode(trade) is Mode.OBSERVE:
        # The shadow starts from the position as it is: the brain's own orders (sent
        # while it acted) count, then observe mode's own virtual fills (its shadow
        # ledger); the host's exits do not reduce what it would hold.
        shadow = (FillKind.ENTRY, FillKind.TAKE_PROFIT, FillKind.LOSS_GUARD)
        fills = [fill for fill in fills if fill.kind in shadow]
        fills += ledger_fills(trade, translate.amount_step(trade))
    settings, levels = runtime.settings, None
    if stored is not None and stored.plan is not None:
        settings, levels = settings_for(stored, settings), stored.tp_levels
    verdict = rebuild_state(opening, fills, settings, levels)
    state = verdict.state
    events: list[BrainEvent] = []
    if why is None:
        # No stored state for a trade with fills: the brain was off or absent when it
        # opened, or the row was deleted. A repair, not a normal start: say so
        # (docs/behaviour.md §3).
        events = [event for event in verdict.events if event.key == "created"]
        reason = "missing"
    else:
        reason = "unreadable" if why.startswith("stored state rejected") else "amount_mismatch"
    events.append(
        state_repaired(
            trade.pair,
            translate.side_of(trade),
            f"state {'rebuilt' if why else 'created'} from {len(orders)} filled orders"
            + (f": {why}" if why else " (no stored state)")
            + f" - remaining_size={state.remaining_size}, tp_hits_count="
            f"{state.tp_hits_count}, sl_reason={state.sl_reason}",
            reason,
        )
    )
    runtime.commit(trade, events, state)
    return state
