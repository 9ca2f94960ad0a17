"""The one reader of a freqtrade trade's exit orders for every test (backtest, dry-run, reports).

Rules:

1. Exit (entry) orders are the trade's orders on its exit (entry) side, oldest first
   (freqtrade appends them in order; a stable sort by order date keeps same-candle backtest
   orders as appended).
2. A *view* names what each row holds: ``FILLS`` (tag, filled amount, fill price) for what
   filled, the backtest view; ``OUTCOMES`` (tag, status, filled amount) for every order and
   how it ended, the dry-run view.
3. ``filled_only`` keeps the orders that filled something (the backtest harness's default).

Duck-typed: works on ``LocalTrade`` and ``Trade`` alike and never imports freqtrade.
"""

from collections.abc import Callable
from typing import Any


_FIELDS: dict[str, Callable[[Any], Any]] = {
    "tag": lambda order: order.ft_order_tag,
    "filled": lambda order: float(order.safe_filled or 0.0),
    "price": lambda order: float(order.safe_price),
    "status": lambda order: order.status,
}
FILLS = ("tag", "filled", "price")
OUTCOMES = ("tag", "status", "filled")


def exit_orders(
    trade: Any, *, view: tuple[str, ...] = FILLS, filled_only: bool = True
) -> list[tuple[Any, ...]]:
    """Return the trade's exit orders, oldest first, each as a tuple of ``view``'s fields."""
    return _orders(trade, trade.exit_side, view, filled_only)


def entry_orders(
    trade: Any, *, view: tuple[str, ...] = FILLS, filled_only: bool = True
) -> list[tuple[Any, ...]]:
    """Return the trade's entry orders (the first and any added), as :func:`exit_orders`."""
    return _orders(trade, trade.entry_side, view, filled_only)


def _orders(
    trade: Any, side: str, view: tuple[str, ...], filled_only: bool
) -> list[tuple[Any, ...]]:
    orders = sorted(
        (order for order in trade.orders if order.ft_order_side == side),
        key=lambda order: order.order_date_utc,
    )
    if filled_only:
        orders = [order for order in orders if (order.safe_filled or 0) > 0]
    return [tuple(_FIELDS[name](order) for name in view) for order in orders]
