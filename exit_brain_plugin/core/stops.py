"""The stop the brain wants freqtrade to hold, and whose stop a stop price is.

Rules (docs/behaviour.md §4.1, §4.4, §6):
S1. The brain's candidates are its ratcheted stop (not the strategy's initial stop) and,
    while the loss guard is enabled, has not fired and the position is open, the loss-guard
    price; the tightest candidate wins.
S2. The stop only tightens: the answer is never looser than the strategy's own answer nor
    than the stop freqtrade already holds; when one of them is at least as tight as the
    brain's, it is the strategy's stop (``strategy``).
S3. A stop price is the loss guard's when it is the guard price (within one price step) and
    the guard has not fired; else the ratchet's when it is the brain's stop; else the
    strategy's initial stop while the brain has not moved it; else the strategy's.
"""

from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.decisions import StopTarget
from exit_brain_plugin.core.enums import Side
from exit_brain_plugin.core.pricing import approx_eq
from exit_brain_plugin.core.state import PositionState


INITIAL_SL_REASON = "initial"
LOSS_GUARD_REASON = "loss_guard"
STRATEGY_SL_REASON = "strategy"


def is_closed(state: PositionState) -> bool:
    """Return True when a fill has closed the position (nothing left to manage)."""
    return state.exit_kind is not None or state.remaining_size <= 0


def evaluate_stop(
    state: PositionState,
    config: BrainConfig,
    *,
    held_stop_price: float | None,
    host_stop_price: float | None,
    loss_guard_price: float | None,
) -> StopTarget | None:
    """Return the stop freqtrade should hold, or None to leave the strategy's stop alone.

    The brain's candidates are its ratcheted stop and the loss-guard price; the tightest wins
    (S1). The result is never looser than ``host_stop_price`` (the strategy's answer) nor than
    ``held_stop_price`` (freqtrade's current stop), whatever the strategy answers: the stop
    only tightens (S2). Pass ``held_stop_price=None`` only where the held stop is the brain's
    own loss-guard price of a position that has since grown (an added entry reprices the guard).
    """
    long = state.side is Side.LONG
    best_price: float | None = None
    best_source = ""
    if state.active_sl is not None and state.sl_reason != INITIAL_SL_REASON:
        best_price, best_source = state.active_sl, state.sl_reason
    if (
        loss_guard_price is not None
        and config.loss_guard_enabled
        and not state.loss_guard_triggered
        and not is_closed(state)
        # the first candidate stays on a tie (S1)
        and (
            best_price is None
            or (loss_guard_price > best_price if long else loss_guard_price < best_price)
        )
    ):
        best_price, best_source = loss_guard_price, LOSS_GUARD_REASON
    if best_price is None:
        return None
    floor = host_stop_price
    if held_stop_price is not None:
        if floor is None:
            floor = held_stop_price
        else:
            floor = max(floor, held_stop_price) if long else min(floor, held_stop_price)
    if floor is not None and (
        approx_eq(floor, best_price) or (floor > best_price if long else floor < best_price)
    ):
        return StopTarget(price=floor, source=STRATEGY_SL_REASON)
    return StopTarget(price=best_price, source=best_source)


def classify_stop(
    state: PositionState, stop_price: float, loss_guard_price: float | None, tolerance: float
) -> str:
    """Return whose stop ``stop_price`` is (S3): ``loss_guard``, a ratchet reason or
    ``strategy``.

    :param tolerance: absolute price tolerance (one exchange price step)
    """
    if (
        loss_guard_price is not None
        and not state.loss_guard_triggered
        and approx_eq(stop_price, loss_guard_price, abs_tol=tolerance)
    ):
        return LOSS_GUARD_REASON
    if state.active_sl is not None and approx_eq(stop_price, state.active_sl, abs_tol=tolerance):
        return state.sl_reason
    if state.sl_reason == INITIAL_SL_REASON:
        return INITIAL_SL_REASON
    return STRATEGY_SL_REASON
