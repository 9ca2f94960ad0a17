"""The stop the brain answers ``custom_stoploss`` with: to the tick, and never looser.

Rules:

1. freqtrade holds one stop per trade and moves it with the ratio ``custom_stoploss`` returns
   (``Trade.adjust_stop_loss``): on normal calls only tighter, on fill-time calls
   (``after_fill``) either way. The brain's answer is the tightest of its candidates (ratchet,
   loss guard), the strategy's own answer and the stop freqtrade already holds, so no answer of
   the strategy's and no call can loosen it.
2. The one move that can loosen it is the brain's own loss-guard stop after an added entry
   (the guard is PnL % of the whole position, docs/decisions.md "Additional entries").
3. The loss-guard price the stop uses is kept in the position's state (``loss_guard_price``)
   for its readers, written when it changes.
4. A stop exit is named by the stop that fired: ``exit_brain_loss_guard`` at the guard price,
   else ``exit_brain_stop_<kind>`` (:func:`exit_name`).
5. In backtests the stop price behind a fill-time answer is kept (``runtime.fill_stops``) for
   the backtest fill rules, which hold it after freqtrade re-applies the stop to the new
   average entry (adapter/backtest.py rule 3).
"""

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from exit_brain_plugin.adapter import translate
from exit_brain_plugin.adapter.store import position_key
from exit_brain_plugin.core import LOSS_GUARD_TAG, BrainConfig, PositionState, evaluate_stop
from exit_brain_plugin.core.exit_reasons import stop_tag
from exit_brain_plugin.core.pricing import tighter_stop


if TYPE_CHECKING:
    from exit_brain_plugin.adapter.runtime import ExitBrainRuntime


def answer(
    runtime: "ExitBrainRuntime",
    trade: Any,
    current_rate: float,
    host: float | None,
    after_fill: bool,
) -> float | None:
    """Return the ``custom_stoploss`` answer: the tighter of the host's and the brain's.

    :param host: the strategy's own answer (a ratio), or None
    :param after_fill: a fill-time call (freqtrade may move the stop either way)
    """
    key = position_key(trade)
    before_add = runtime.guard_before_add.pop(key, None) if after_fill else None
    state = runtime.state(trade, check=not after_fill)
    guard = None if state is None else runtime.guard_price(trade)
    if state is not None and state.loss_guard_price != guard:
        # Kept in the state for its readers (the plot); written when it changes (an added
        # entry, funding), not on every call.
        state = replace(state, loss_guard_price=guard)
        runtime.store.save(trade, state, persist=False)
    ratio, target = stop_answer(
        trade,
        state,
        runtime.settings,
        current_rate=current_rate,
        host=host,
        loss_guard_price=guard,
        guard_before_add=before_add,
    )
    if after_fill and runtime.backtest and target is not None:
        runtime.fill_stops[key] = translate.held_stop_price(target, trade)  # rule 5
    return ratio


def exit_name(runtime: "ExitBrainRuntime", trade: Any) -> str | None:
    """Return the exit reason of a stop exit, named by the stop that fired (§6), or None."""
    state = runtime.store.peek(trade) or runtime.state(trade, check=False)
    if state is None:
        return None
    kind = runtime.stop_reason(state, trade, float(trade.stop_loss))
    return LOSS_GUARD_TAG if kind == "loss_guard" else stop_tag(kind)


def stop_answer(
    trade: Any,
    state: PositionState | None,
    config: BrainConfig,
    *,
    current_rate: float,
    host: float | None,
    loss_guard_price: float | None,
    guard_before_add: float | None = None,
) -> tuple[float | None, float | None]:
    """Return the ``custom_stoploss`` answer and the brain's stop price behind it.

    :param host: the strategy's own answer (a ratio), or None
    :param loss_guard_price: the guard price on the trade as it is now
    :param guard_before_add: on the fill-time call after an added entry, the guard price in
        force before it; the held stop at that price is the brain's own and may move
    :return: the ratio to answer (None: leave freqtrade's stop) and the brain's target price
        (None: the brain has no stop opinion)
    """
    held = float(trade.stop_loss) if trade.stop_loss else None
    host_price = translate.stop_price_from_ratio(host, current_rate, trade)
    side = translate.side_of(trade)
    # With no state yet, or no stop of the brain's: the strategy's, never looser.
    loosens = (
        held is not None and host_price is not None and tighter_stop(side, held, host_price) == held
    )
    host_only = None if loosens else host
    if state is None:
        return host_only, None
    floor = held
    if (
        guard_before_add is not None
        and held is not None
        and math.isclose(held, translate.held_stop_price(guard_before_add, trade), rel_tol=1e-9)
    ):
        floor = None  # the brain's guard before the added entry: repriced below
    target = evaluate_stop(
        state,
        config,
        held_stop_price=floor,
        host_stop_price=host_price,
        loss_guard_price=loss_guard_price,
    )
    if target is None:
        return host_only, None
    if held is not None and math.isclose(
        translate.held_stop_price(target.price, trade), held, rel_tol=1e-9
    ):
        return None, target.price  # freqtrade already holds it to the tick: nothing to move
    return translate.stop_ratio_from_price(target.price, current_rate, trade), target.price
