"""Shared test setup: Hypothesis profiles and small builders for the pure core.

Stdlib, pytest and Hypothesis only: this file must never import freqtrade (the integration
tests add their own fixtures in ``tests/integration/conftest.py``).

Builders are plain functions with keyword defaults (STYLE §5.10), imported by the tests as
``from tests.conftest import make_state``. Their defaults are the docs/behaviour.md §8 worked
example.
"""

import os
from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import settings

from exit_brain_plugin.core import (
    BrainConfig,
    BrainEvent,
    ExitOrder,
    Fill,
    MarketSnapshot,
    PositionState,
    Side,
    TpLevel,
    fill_kind_of,
    parse_config,
)


settings.register_profile("dev")
settings.register_profile("ci", derandomize=True, max_examples=300, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


# docs/behaviour.md §8: ETH LONG entry 3000, TPs 3150 / 3300 / 3600, stop 2940; the SHORT mirror at
# 50000.
LONG_LEVELS = ((3150.0, 0.25), (3300.0, 0.25), (3600.0, 0.50))
SHORT_LEVELS = ((49000.0, 0.25), (48000.0, 0.25), (47000.0, 0.50))
_DEFAULTS = {
    Side.LONG: {"pair": "ETH/USDT", "entry": 3000.0, "levels": LONG_LEVELS, "stop": 2940.0},
    Side.SHORT: {"pair": "BTC/USDT", "entry": 50000.0, "levels": SHORT_LEVELS, "stop": 51000.0},
}
_UNSET: Any = object()


def make_config(**overrides: Any) -> BrainConfig:
    """Return validated settings: the docs/behaviour.md §2 defaults with ``overrides`` applied."""
    return parse_config(overrides)


def levels(pairs: Iterable[tuple[float, float]]) -> tuple[TpLevel, ...]:
    """Return absolute take-profit levels from ``(price, fraction)`` pairs."""
    return tuple(TpLevel(price=price, fraction=fraction) for price, fraction in pairs)


def make_state(
    *,
    side: Side = Side.LONG,
    pair: str = _UNSET,
    entry: float = _UNSET,
    size: float = 10.0,
    tp: Sequence[tuple[float, float]] = _UNSET,
    stop: float | None = _UNSET,
    hits: int = 0,
    **fields: Any,
) -> PositionState:
    """Return a fresh position state with absolute TP levels (docs/behaviour.md §8 defaults per
    side).

    :param tp: ``(price, fraction)`` pairs; the worked example's levels by default
    :param hits: number of leading levels already hit (``triggered_legs`` 1..hits)
    :param fields: any other ``PositionState`` field (``remaining_size``, ``sl_reason``, ...)
    """
    defaults = _DEFAULTS[side]
    values: dict[str, Any] = {
        "pair": defaults["pair"] if pair is _UNSET else pair,
        "side": side,
        "entry_price": defaults["entry"] if entry is _UNSET else entry,
        "initial_size": size,
        "remaining_size": size,
        "leg_base_size": size,
        "tp_levels": levels(defaults["levels"] if tp is _UNSET else tp),
        "triggered_legs": tuple(range(1, hits + 1)),
        "tp_hits_count": hits,
        "active_sl": defaults["stop"] if stop is _UNSET else stop,
    }
    values.update(fields)
    return PositionState(**values)


def profit_at(side: Side, entry: float, price: float, leverage: float = 1.0) -> float:
    """Return the profit ratio of the tests' model: leveraged price move from the entry."""
    move = price / entry - 1.0 if side is Side.LONG else 1.0 - price / entry
    return move * leverage


def make_snapshot(
    price: float,
    *,
    side: Side = Side.LONG,
    entry: float = _UNSET,
    leverage: float = 1.0,
    profit: float | None = None,
    **fields: Any,
) -> MarketSnapshot:
    """Return one tick at ``price``; the profit ratio follows the model unless given.

    :param profit: freqtrade's profit ratio (``-0.126`` is −12.6 %), computed when None
    :param fields: ``amount_step``, ``min_order_amount``, ``exchange_stop_price``, ...
    """
    entry_price = _DEFAULTS[side]["entry"] if entry is _UNSET else entry
    ratio = profit_at(side, entry_price, price, leverage) if profit is None else profit
    return MarketSnapshot(price=price, current_profit=ratio, **fields)


def fill_for(
    order: ExitOrder,
    *,
    filled: float | None = None,
    complete: bool | None = None,
    order_id: str = "o1",
    amount_step: float | None = None,
) -> Fill:
    """Return the fill of ``order``: all of it by default, or ``filled`` (then partial)."""
    amount = order.amount if filled is None else filled
    return Fill(
        kind=fill_kind_of(order.kind),
        filled_amount=amount,
        price=order.price,
        order_id=order_id,
        complete=(filled is None) if complete is None else complete,
        legs=order.legs,
        amount_step=amount_step,
    )


def rendered(events: Iterable[BrainEvent]) -> list[str]:
    """Return the full log lines of ``events``, as the adapter writes them."""
    return [event.render() for event in events]
