"""Booking by order identity: is a fill booked, does a stored state agree with the orders?

The trade's filled orders are the ground truth (docs/behaviour.md §3). A state records the ids
of the orders it has booked (``booked_orders``), so whether an order is booked is a question of
identity, never of a size tolerance: a take-profit of exactly one amount step is as visible as
any other. A stored state is checked against the orders on every load (live): its remaining
size, the levels it claims (each must show as a filled ``exit_brain_tpN`` order), and the
orders it booked. Any disagreement is a reason to rebuild it from the orders.
"""

import math
from typing import Any

from exit_brain_plugin.adapter import translate
from exit_brain_plugin.core import FillKind, PositionState
from exit_brain_plugin.core.exit_reasons import classify_exit


def amounts_agree(state: PositionState, trade: Any) -> bool:
    """Return True when the state's remaining size is the trade's amount (float noise only).

    A closed position (or trade) always agrees: there is nothing left to repair.
    """
    if state.exit_kind is not None or not trade.is_open:
        return True
    step = translate.amount_step(trade) or 0.0
    return math.isclose(state.remaining_size, trade.amount, rel_tol=1e-9, abs_tol=step * 1e-6)


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
