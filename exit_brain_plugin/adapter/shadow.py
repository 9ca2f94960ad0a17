"""Observe mode's shadow ledger in the trade's custom data (live and dry-run).

Each decision observe mode books as filled is appended to the position's ledger (custom-data key
``exit_brain_shadow``, a JSON object; see core/ledger.py), so ``exit-brain shadow`` can price what
the brain would have done. Backtests keep no ledger: their custom data is discarded with the run.
"""

from datetime import UTC, datetime
from typing import Any

from exit_brain_plugin.core import ExitOrder, Fill, FillKind, StateError, fill_kind_of
from exit_brain_plugin.core.ledger import (
    VirtualFill,
    ledger_from_json,
    ledger_to_json,
)


SHADOW_KEY = "exit_brain_shadow"


def virtual_fill(order: ExitOrder, stop_kind: str, now: datetime) -> VirtualFill:
    """Return the ledger entry of one booked decision.

    :param stop_kind: the state's ``sl_reason`` before the fill (the stop a stop exit hit)
    """
    kind = str(fill_kind_of(order.kind))  # take_profit, loss_guard or stop
    return VirtualFill(
        at=now.astimezone(UTC).isoformat(),
        kind=kind,
        tag=order.tag,
        legs=tuple(order.legs),
        amount=float(order.amount),
        price=float(order.price),
        reason=stop_kind if kind == "stop" else "",
    )


def read_ledger(trade: Any) -> tuple[VirtualFill, ...]:
    """Return the position's ledger (empty when it has none).

    :raises StateError: when what is stored is not a ledger
    """
    try:
        raw = trade.get_custom_data(SHADOW_KEY)
    except (ValueError, TypeError) as error:
        raise StateError(f"shadow ledger of {trade.pair} is unreadable: {error}") from error
    return () if raw is None else ledger_from_json(raw)


def append_fill(trade: Any, fill: VirtualFill) -> None:
    """Append ``fill`` to the position's ledger; an unreadable ledger is started afresh."""
    try:
        fills = read_ledger(trade)
    except StateError:
        trade.delete_custom_data(SHADOW_KEY)  # a new row of type dict (custom_data.py)
        fills = ()
    trade.set_custom_data(SHADOW_KEY, ledger_to_json((*fills, fill)))


def ledger_fills(trade: Any, amount_step: float | None) -> list[Fill]:
    """Return the ledger's virtual fills as core fills, to rebuild an observe state from them.

    An unreadable ledger gives no fills (the state is then rebuilt from the entries alone).
    """
    try:
        fills = read_ledger(trade)
    except StateError:
        return []
    return [
        Fill(
            kind=FillKind(fill.kind),
            filled_amount=fill.amount,
            price=fill.price,
            order_id="observe",
            legs=fill.legs,
            reason=fill.reason if fill.kind == "stop" else fill.tag,
            amount_step=amount_step,
        )
        for fill in fills
    ]
