"""The way of a fill: ``order_filled`` → a core fill → ``apply_fill`` → store, log and metrics.

Rules:

1. The trade's filled orders are the ground truth (docs/behaviour.md §3). A state records the
   ids of the orders it has booked (``booked_orders``), so whether an order is booked is a
   question of identity, never of a size tolerance: a take-profit of exactly one amount step is
   as visible as any other. freqtrade's recovery paths report a fill again: it is booked once.
2. A stored state is checked against the orders on every load (live): its remaining size, the
   levels it claims (each must show as a filled ``exit_brain_tpN`` order), and the orders it
   booked. Any disagreement is a reason to rebuild it from the orders.
3. The first entry fill creates the state (with its plan and mode); every later fill goes
   through ``core.apply_fill`` and nowhere else. Live, a booked state that disagrees with the
   trade's amount is rebuilt from the orders instead of stored.
4. Observe mode sends nothing: its decision is booked as if it had filled at the decision
   price (a virtual fill, also written to the shadow ledger live), so the shadow goes on.
5. ``off`` positions are never booked.
"""

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from exit_brain_plugin.adapter import logsink, translate
from exit_brain_plugin.adapter.shadow import append_fill, virtual_fill
from exit_brain_plugin.adapter.store import position_key
from exit_brain_plugin.core import (
    ExitOrder,
    Fill,
    FillKind,
    Mode,
    PositionState,
    StateError,
    apply_fill,
    create_state,
    fill_kind_of,
)
from exit_brain_plugin.core.adapter_lines import already_booked
from exit_brain_plugin.core.exit_reasons import classify_exit


if TYPE_CHECKING:
    from exit_brain_plugin.adapter.runtime import ExitBrainRuntime


def amounts_agree(state: PositionState, trade: Any, *, within_step: bool = False) -> bool:
    """Return True when the state's remaining size is the trade's amount (float noise only).

    A closed position (or trade) always agrees: there is nothing left to repair.

    :param within_step: allow a difference of up to one amount step (backtests, and a row
        written before booked orders were stored)
    """
    if state.exit_kind is not None or not trade.is_open:
        return True
    step = translate.amount_step(trade) or 0.0
    tolerance = step if within_step else step * 1e-6
    return math.isclose(state.remaining_size, trade.amount, rel_tol=1e-9, abs_tol=tolerance)


def filled_tp_legs(trade: Any) -> set[int]:
    """Return the take-profit legs the trade's filled exit orders carry in their tags."""
    legs: set[int] = set()
    for order in translate.filled_orders(trade):
        if translate.is_entry(order, trade):
            continue
        kind, order_legs = classify_exit(order.ft_order_tag, order.ft_order_side)
        if kind is FillKind.TAKE_PROFIT:
            legs.update(order_legs)
    return legs


def is_booked(state: PositionState, order: Any) -> bool:
    """Return True when the state has booked ``order`` (its id is in ``booked_orders``)."""
    return state.booked_orders is not None and str(order.order_id) in state.booked_orders


def disagreement(state: PositionState, trade: Any) -> str | None:
    """Return why a stored state disagrees with the trade's filled orders, or None.

    :param state: the stored state of an open position
    :param trade: the freqtrade trade (its orders are the ground truth)
    """
    if state.exit_kind is not None or not trade.is_open:
        return None
    claimed = set(state.triggered_legs) - filled_tp_legs(trade)
    if claimed:
        shown = sorted(filled_tp_legs(trade))
        return (
            f"stored hits TP{', TP'.join(map(str, sorted(claimed)))} are not in the filled "
            f"orders (they show {', '.join(f'TP{leg}' for leg in shown) or 'none'})"
        )
    if not amounts_agree(state, trade):
        return (
            f"stored remaining_size={state.remaining_size} disagrees with the trade's "
            f"amount {trade.amount}"
        )
    if state.booked_orders is not None:
        unbooked = [
            str(order.order_id)
            for order in translate.filled_orders(trade)
            if str(order.order_id) not in state.booked_orders
        ]
        if unbooked:
            return f"filled orders {', '.join(unbooked)} are not booked"
    return None


def booked_ids(trade: Any) -> tuple[str, ...]:
    """Return the ids of the trade's filled orders, oldest first (what a rebuild books)."""
    return tuple(str(order.order_id) for order in translate.filled_orders(trade))


def book_order(runtime: "ExitBrainRuntime", trade: Any, order: Any) -> None:
    """Book one filled order (``order_filled``): create the state, or apply the fill to it."""
    mode = runtime.mode(trade)
    if mode is Mode.OFF:
        return  # pair_modes: the brain leaves this position alone
    state = runtime.store.peek(trade)
    if state is None:
        try:
            state = runtime.store.load(trade)
        except StateError as error:
            runtime.rebuild(trade, f"stored state rejected ({error})")
            return  # the rebuild replayed this fill too
    _book(runtime, trade, order, state, mode)


def _book(
    runtime: "ExitBrainRuntime", trade: Any, order: Any, state: PositionState | None, mode: Mode
) -> None:
    if state is None:
        if translate.is_entry(order, trade):
            _open_position(runtime, trade, order)
        return
    if mode is Mode.OBSERVE and not translate.is_entry(order, trade):
        return  # observe mode books its own virtual fills
    live_check = not runtime.backtest and mode is Mode.ACT and trade.is_open
    if _already_booked(trade, order, state, live_check=live_check):
        return
    if translate.is_entry(order, trade):
        _note_added_entry(runtime, trade, state)
    verdict = apply_fill(state, runtime.fill_of(order, trade, state), runtime.settings)
    if live_check and not amounts_agree(verdict.state, trade):
        runtime.commit(trade, verdict.events, None)
        runtime.rebuild(
            trade,
            f"after order {order.order_id} remaining_size={verdict.state.remaining_size} "
            f"disagrees with the trade's amount {trade.amount}",
            stored=state,
        )
        return
    runtime.commit(trade, verdict.events, verdict.state)
    if runtime.metrics is not None and verdict.state.exit_kind is not None:
        runtime.metrics.close(position_key(trade))


def book_observed(
    runtime: "ExitBrainRuntime", trade: Any, order: ExitOrder, state: PositionState
) -> PositionState:
    """Book observe mode's decision as if it had filled at the decision price; return the state."""
    kind = fill_kind_of(order.kind)
    fill = Fill(
        kind=kind,
        filled_amount=order.amount,
        price=order.price,
        order_id="observe",
        legs=order.legs,
        # a stop exit records the stop it hit (stop:breakeven), as in act mode
        reason=state.sl_reason if kind is FillKind.STOP else order.tag,
        amount_step=translate.amount_step(trade),
    )
    verdict = apply_fill(state, fill, runtime.settings)
    runtime.commit(trade, verdict.events, verdict.state)
    if not runtime.backtest:  # the shadow report's ledger (adapter/shadow.py)
        append_fill(trade, virtual_fill(order, state.sl_reason, datetime.now(UTC)))
    return verdict.state


def _already_booked(trade: Any, order: Any, state: PositionState, *, live_check: bool) -> bool:
    # Booking is by order identity; a row written before booked orders were stored falls back
    # to the amount check once.
    booked = (
        is_booked(state, order)
        if state.booked_orders is not None
        else live_check and amounts_agree(state, trade, within_step=True)
    )
    if booked:
        logsink.write(already_booked(trade.pair, str(order.order_id)))
    return booked


def _open_position(runtime: "ExitBrainRuntime", trade: Any, order: Any) -> None:
    # The first entry fill: the position's state is created with its plan (and mode).
    strategy = runtime.strategy
    atr = None
    if runtime.settings.tp_atr_multipliers is not None:
        atr = translate.atr_at_entry(strategy.dp, trade.pair, strategy.timeframe)
    opening = translate.opening_from_trade(
        trade,
        amount=float(trade.amount),
        entry_price=float(trade.open_rate),
        stop_price=trade.stop_loss,
        atr=atr,
        order_id=str(order.order_id),
    )
    verdict = create_state(opening, runtime.settings)
    runtime.commit(trade, verdict.events, verdict.state)


def _note_added_entry(runtime: "ExitBrainRuntime", trade: Any, state: PositionState) -> None:
    # An added entry (DCA) reprices the loss guard on the new average entry (PnL % of the whole
    # position, docs/behaviour.md §1). Remember the guard price in force before it, so that the
    # fill-time stop call can tell the brain's own guard stop (repriced) from a stop it must
    # never loosen (a ratchet, the strategy's).
    if state.loss_guard_triggered or state.sl_reason != "initial":
        return
    key = position_key(trade)
    before = runtime.guards.last(key)
    if before is not None:
        runtime.guard_before_add[key] = before
