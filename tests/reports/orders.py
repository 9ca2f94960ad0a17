"""Filled freqtrade orders for hand-built trade databases (report and shadow report tests)."""

from datetime import datetime
from typing import Any


def filled_order(
    trade: Any,
    *,
    side: str,
    tag: str,
    amount: float,
    price: float,
    at: datetime,
    order_id: str,
    **fields: Any,
) -> Any:
    """Return a closed market order of ``trade`` filled whole at ``price`` at ``at`` (UTC).

    :param fields: further ``Order`` columns (e.g. ``funding_fee``)
    """
    from freqtrade.persistence import Order

    naive = at.replace(tzinfo=None)  # freqtrade stores naive UTC
    return Order(
        ft_order_side=side,
        ft_pair=trade.pair,
        ft_is_open=False,
        ft_amount=amount,
        ft_price=price,
        order_id=order_id,
        status="closed",
        symbol=trade.pair,
        order_type="market",
        side=side,
        price=price,
        average=price,
        amount=amount,
        filled=amount,
        remaining=0.0,
        cost=amount * price,
        order_date=naive,
        order_filled_date=naive,
        ft_order_tag=tag,
        **fields,
    )
