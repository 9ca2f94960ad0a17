"""Side-aware price arithmetic and amount rounding: the only place that branches on side.

Rules:
1. A price is *favourable* for a long when higher, for a short when lower.
2. A take-profit level is *reached* when the price is at or beyond it in the favourable
   direction; a stop is *breached* when the price is at or beyond it in the adverse direction.
3. Amounts are truncated to the exchange step, as freqtrade does (never rounded up, so the
   brain never asks for more than the position holds).
"""

import math

from exit_brain_plugin.core.enums import Side


# Relative tolerance for float comparisons of prices and amounts.
REL_TOL = 1e-9


def approx_eq(a: float, b: float, abs_tol: float = 0.0) -> bool:
    """Return True when two prices or amounts are equal within float noise (or ``abs_tol``)."""
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=abs_tol)


def approx_ge(a: float, b: float, abs_tol: float = 0.0) -> bool:
    """Return True when ``a >= b`` allowing float noise (or ``abs_tol``)."""
    return a > b or approx_eq(a, b, abs_tol)


def approx_le(a: float, b: float, abs_tol: float = 0.0) -> bool:
    """Return True when ``a <= b`` allowing float noise (or ``abs_tol``)."""
    return a < b or approx_eq(a, b, abs_tol)


def is_favourable(side: Side, new_price: float, old_price: float) -> bool:
    """Return True when ``new_price`` is strictly better for the position than ``old_price``."""
    return new_price > old_price if side is Side.LONG else new_price < old_price


def tighter_stop(side: Side, a: float, b: float) -> float:
    """Return the tighter of two stop prices (higher for a long, lower for a short)."""
    return max(a, b) if side is Side.LONG else min(a, b)


def is_level_reached(side: Side, price: float, level_price: float) -> bool:
    """Return True when ``price`` is at or beyond a take-profit level (docs/behaviour.md §1)."""
    if side is Side.LONG:
        return approx_ge(price, level_price)
    return approx_le(price, level_price)


def is_stop_breached(side: Side, price: float, stop_price: float) -> bool:
    """Return True when ``price`` is at or beyond a stop in the adverse direction."""
    if side is Side.LONG:
        return approx_le(price, stop_price)
    return approx_ge(price, stop_price)


def price_from_distance(side: Side, entry_price: float, distance: float) -> float:
    """Return the take-profit price ``distance`` (a price fraction) in the trade's favour."""
    return entry_price * (1.0 + distance) if side is Side.LONG else entry_price * (1.0 - distance)


def shift_favourable(side: Side, price: float, offset: float) -> float:
    """Move ``price`` by the fraction ``offset`` in the trade's favour (ratchet offset)."""
    return price * (1.0 + offset) if side is Side.LONG else price * (1.0 - offset)


def is_on_profit_side(side: Side, entry_price: float, price: float) -> bool:
    """Return True when a level at ``price`` lies strictly on the profit side of the entry."""
    return is_favourable(side, price, entry_price) and not approx_eq(price, entry_price)


def _decimals(step: float) -> int:
    return max(0, -math.floor(math.log10(step))) + 2


def floor_to_step(amount: float, step: float | None) -> float:
    """Truncate ``amount`` to a multiple of ``step`` (``None``: no rounding).

    :param amount: base amount, >= 0
    :param step: exchange amount step in base units, or None
    :return: the largest multiple of ``step`` not above ``amount`` (float noise tolerated)
    """
    if step is None or step <= 0.0:
        return amount
    units = math.floor(amount / step + REL_TOL * 1e3)
    return round(units * step, _decimals(step))


def round_to_step(price: float, step: float | None) -> float:
    """Round ``price`` to the nearest multiple of the exchange price ``step`` (None: as is)."""
    if step is None or step <= 0.0:
        return price
    return round(round(price / step) * step, _decimals(step))


def round_favourable(side: Side, price: float, step: float | None) -> float:
    """Round ``price`` to the exchange ``step`` in the trade's favour: up for a long, down for a
    short. A price already on a step (within float noise) stays where it is.

    Take-profit levels are rounded so (away from the entry: a level never lands on it), and
    freqtrade rounds a stop so (``Trade.adjust_stop_loss``): this is the stop it will hold.
    """
    if step is None or step <= 0.0:
        return price
    units = price / step
    nearest = round(units)
    if math.isclose(units, nearest, rel_tol=REL_TOL * 1e3, abs_tol=1e-9):
        whole = nearest
    else:
        whole = math.ceil(units) if side is Side.LONG else math.floor(units)
    return round(whole * step, _decimals(step))
