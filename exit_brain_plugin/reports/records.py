"""One trade as freqtrade recorded it: its filled orders, tags, dates and profit.

The input of every report: a backtest export's trade dicts (:func:`trades_of`) or the rows of a
trade database (adapter/tools/tradedb.py). Every partial exit is an order carrying its tag
(``exit_brain_tp1``, ``exit_brain_tp1+tp2``, ``exit_brain_loss_guard``), and the trade's
``exit_reason`` is its final exit.

Rules:
1. Orders are kept in fill-time order; an order cancelled after a partial fill is ``complete``
   False (trade databases).
2. The take-profit legs of a trade are read from its exit tags by the core's one reader
   (``legs_from_tag``); the loss guard fired when the final exit or any exit order carries its tag.
3. The market's price and amount steps come with the trade when known (core/markets.py).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exit_brain_plugin.core import LOSS_GUARD_TAG, PositionState, Side, legs_from_tag


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """One filled order of a trade.

    :param complete: False for an order cancelled after a partial fill (trade databases)
    """

    tag: str
    is_entry: bool
    amount: float
    price: float
    timestamp_ms: int
    complete: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeRecord:
    """One trade, as freqtrade recorded it.

    :param sl_reason: the stop kind the brain recorded at the close (trade databases)
    :param initial_stop_price: the trade's initial stop (absolute price), when known
    :param price_step: the market's price step (TP prices are rounded to it), when known
    :param amount_step: the market's amount step, when known
    :param stored_state: the brain's state stored with the trade (trade databases)
    """

    pair: str
    is_short: bool
    leverage: float
    open_rate: float
    open_date: str
    close_date: str | None
    profit_ratio: float
    profit_abs: float
    exit_reason: str
    orders: tuple[OrderRecord, ...]
    sl_reason: str | None = None
    initial_stop_price: float | None = None
    is_open: bool = False
    close_rate: float | None = None
    fee_open: float = 0.0
    fee_close: float = 0.0
    price_step: float | None = None
    amount_step: float | None = None
    stored_state: PositionState | None = None

    @property
    def side(self) -> Side:
        """Return the position's side."""
        return Side.SHORT if self.is_short else Side.LONG

    @property
    def tp_legs(self) -> tuple[int, ...]:
        """Return the take-profit legs filled, in order."""
        legs: list[int] = []
        for order in self.orders:
            found = legs_from_tag(order.tag) if not order.is_entry else None
            if found:
                legs.extend(leg for leg in found if leg not in legs)
        return tuple(legs)

    @property
    def loss_guard_fired(self) -> bool:
        """Return True when the loss guard closed the trade."""
        return self.exit_reason == LOSS_GUARD_TAG or any(
            order.tag == LOSS_GUARD_TAG and not order.is_entry for order in self.orders
        )

    @property
    def final_exit(self) -> OrderRecord | None:
        """Return the last exit order (the one that closed the trade, when closed)."""
        exits = [order for order in self.orders if not order.is_entry]
        return exits[-1] if exits else None


def trade_from_export(
    raw: Mapping[str, Any], steps: tuple[float | None, float | None] = (None, None)
) -> TradeRecord:
    """Return a :class:`TradeRecord` from one trade of a freqtrade backtest export.

    :param steps: the market's (price step, amount step), when known
    """
    orders = tuple(
        OrderRecord(
            tag=str(order.get("ft_order_tag") or ""),
            is_entry=bool(order.get("ft_is_entry")),
            amount=float(order.get("amount") or 0.0),
            price=float(order.get("safe_price") or 0.0),
            timestamp_ms=int(order.get("order_filled_timestamp") or 0),
        )
        for order in raw.get("orders", [])
    )
    initial_stop = raw.get("initial_stop_loss_abs")
    return TradeRecord(
        pair=str(raw["pair"]),
        is_short=bool(raw.get("is_short", False)),
        leverage=float(raw.get("leverage") or 1.0),
        open_rate=float(raw["open_rate"]),
        open_date=str(raw.get("open_date", "")),
        close_date=raw.get("close_date"),
        profit_ratio=float(raw.get("profit_ratio") or 0.0),
        profit_abs=float(raw.get("profit_abs") or 0.0),
        exit_reason=str(raw.get("exit_reason") or ""),
        orders=tuple(sorted(orders, key=lambda order: order.timestamp_ms)),
        initial_stop_price=float(initial_stop) if initial_stop else None,
        is_open=bool(raw.get("is_open", False)),
        close_rate=float(raw["close_rate"]) if raw.get("close_rate") else None,
        fee_open=float(raw.get("fee_open") or 0.0),
        fee_close=float(raw.get("fee_close") or 0.0),
        price_step=steps[0],
        amount_step=steps[1],
    )


def trades_of(
    records: Iterable[Mapping[str, Any]],
    steps: Mapping[str, tuple[float | None, float | None]] | None = None,
) -> list[TradeRecord]:
    """Return trade records from an iterable of export trade dicts.

    :param steps: (price step, amount step) per pair, e.g. from the markets snapshot
    """
    steps = steps or {}
    return [trade_from_export(raw, steps.get(str(raw["pair"]), (None, None))) for raw in records]
