"""Log events: the one module that owns the tags and line shapes of docs/behaviour.md §7.

The core never logs; it returns :class:`BrainEvent` values and the adapter writes them. Each
formatter below produces one docs/behaviour.md §7 line (without the ``[TAG]`` prefix, which
``render`` adds).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from exit_brain_plugin.core.enums import EventKind, Level, LogTag, Side


@dataclass(frozen=True, slots=True, kw_only=True)
class BrainEvent:
    """One thing worth a log line.

    :param key: identity of the event for de-duplication; a repeated decision (the same
        retry every few seconds live) carries the same key
    :param kind: what the event counts (§9.1 metrics), or None for a plain line; the
        adapter counts an event exactly when it writes its line
    :param pair: the position's pair, for a counted event
    :param side: ``long`` / ``short``, for a counted event
    :param labels: what the count is by: the levels filled (``"1"``, ``"2"``), the ratchet
        target (``breakeven``, ``tp1``), the stop kind, the repair reason, the callback
    """

    tag: LogTag
    level: Level
    message: str
    key: str
    kind: EventKind | None = None
    pair: str = ""
    side: str = ""
    labels: tuple[str, ...] = ()

    def render(self) -> str:
        """Return the full log line, ``[TAG] message``."""
        return f"[{self.tag}] {self.message}"


def fmt_price(price: float | None) -> str:
    """Format a price with a dollar sign: 4 decimals, more for small prices (4 significant)."""
    if price is None:
        return "$none"
    return "$" + _fmt_number(price)


def fmt_amount(amount: float) -> str:
    """Format a base amount: 4 decimals, more for small amounts (4 significant)."""
    return _fmt_number(amount)


def _fmt_number(value: float) -> str:
    magnitude = abs(value)
    if magnitude == 0 or magnitude >= 0.01 or not math.isfinite(magnitude):
        return f"{value:.4f}"
    decimals = -math.floor(math.log10(magnitude)) + 3
    return f"{value:.{decimals}f}"


def side_label(side: Side) -> str:
    """Return ``LONG`` or ``SHORT``."""
    return side.value.upper()


def order_verb(side: Side) -> str:
    """Return the market order that reduces a position: SELL for a long, BUY for a short."""
    return "SELL" if side is Side.LONG else "BUY"


def legs_label(legs: Sequence[int]) -> str:
    """Return ``TP1`` or ``TP1+TP2`` for the legs an exit covers."""
    return "+".join(f"TP{leg}" for leg in legs)


def _who(pair: str, side: Side) -> str:
    return f"{pair} {side_label(side)}"


def initialized(mode_label: str) -> BrainEvent:
    """``Initialized in LIVE MODE`` / ``SHADOW MODE (dry-run)`` / ``OBSERVE MODE``."""
    return BrainEvent(
        tag=LogTag.EXECUTOR,
        level=Level.INFO,
        key="initialized",
        message=f"Initialized in {mode_label}",
    )


def state_created(pair: str, side: Side, entry_price: float, amount: float) -> BrainEvent:
    """``Created new state for PAIR:SIDE - entry=$..., initial_size=...``."""
    return BrainEvent(
        tag=LogTag.EXECUTOR,
        level=Level.INFO,
        key="created",
        message=(
            f"Created new state for {pair}:{side_label(side)} - "
            f"entry={fmt_price(entry_price)}, initial_size={fmt_amount(amount)}"
        ),
    )


def tp_trigger(
    pair: str,
    side: Side,
    legs: Sequence[int],
    price: float,
    level_price: float,
    amount: float,
    percent: float,
    basis: str,
) -> BrainEvent:
    """``🎯 PAIR SIDE: TP1 HIT @ $price (TP=$tp) - Closing qty (25% of remaining) ...``."""
    return BrainEvent(
        tag=LogTag.TP_TRIGGER,
        level=Level.INFO,
        key=f"tp_trigger:{legs_label(legs)}",
        message=(
            f"🎯 {_who(pair, side)}: {legs_label(legs)} HIT @ {fmt_price(price)} "
            f"(TP={fmt_price(level_price)}) - Closing {fmt_amount(amount)} "
            f"({percent:g}% of {basis}) with MARKET {order_verb(side)}"
        ),
    )


def tp_executed(
    pair: str, side: Side, legs: Sequence[int], amount: float, order_id: str
) -> BrainEvent:
    """``✅ TP1 MARKET SELL PAIR qty executed - orderId=...``."""
    return BrainEvent(
        tag=LogTag.ORDER,
        level=Level.INFO,
        key=f"tp_executed:{order_id}",
        message=(
            f"✅ {legs_label(legs)} MARKET {order_verb(side)} {pair} {fmt_amount(amount)} "
            f"executed - orderId={order_id}"
        ),
    )


def tp_state_updated(
    pair: str, side: Side, legs: Sequence[int], remaining: float, hits: int
) -> BrainEvent:
    """``📊 PAIR SIDE: Updated state after TP1 - remaining_size=..., tp_hits_count=1``."""
    return BrainEvent(
        tag=LogTag.TP_TRIGGER,
        level=Level.INFO,
        key=f"tp_updated:{hits}",
        kind=EventKind.TP_FILLED,
        pair=pair,
        side=side.value,
        labels=tuple(str(leg) for leg in legs),
        message=(
            f"📊 {_who(pair, side)}: Updated state after {legs_label(legs)} - "
            f"remaining_size={fmt_amount(remaining)}, tp_hits_count={hits}"
        ),
    )


def tp_partial_fill(
    pair: str, side: Side, legs: Sequence[int], filled: float, missing: float, order_id: str
) -> BrainEvent:
    """A TP order filled only in part: the rest is retried while price stays beyond the level."""
    return BrainEvent(
        tag=LogTag.TP_TRIGGER,
        level=Level.WARNING,
        key=f"tp_partial:{order_id}",
        message=(
            f"⚠️ {_who(pair, side)}: {legs_label(legs)} order {order_id} filled "
            f"{fmt_amount(filled)}, {fmt_amount(missing)} still to close - retried while "
            f"price stays beyond the level"
        ),
    )


def tp_size_decision(
    pair: str, side: Side, legs: Sequence[int], detail: str, *, decision: str | None = None
) -> BrainEvent:
    """An explicit decision about an amount the exchange would refuse (docs/behaviour.md §4.3).

    :param decision: a stable name of the decision (``merged``, ``close_remainder``, ...); the
        line is written once per position and decision, not again each time the amounts in
        ``detail`` move with the price (live evaluates every few seconds)
    """
    return BrainEvent(
        tag=LogTag.TP_TRIGGER,
        level=Level.WARNING,
        key=f"tp_size:{legs_label(legs)}:{decision or detail}",
        message=f"⚠️ {_who(pair, side)}: {legs_label(legs)} {detail}",
    )


def ratcheted(
    pair: str,
    side: Side,
    old_price: float | None,
    new_price: float,
    reason: str,
    hits: int,
    to: str = "",
) -> BrainEvent:
    """``🎯 PAIR SIDE: SL ratcheted $old → $new - breakeven after TP1 (tp_hits=1)``.

    :param to: the new stop's ``sl_reason`` (``breakeven``, ``tp1``, ...)
    """
    return BrainEvent(
        tag=LogTag.RATCHET,
        level=Level.INFO,
        key=f"ratchet:{hits}:{new_price!r}",
        kind=EventKind.RATCHETED,
        pair=pair,
        side=side.value,
        labels=(to,),
        message=(
            f"🎯 {_who(pair, side)}: SL ratcheted {fmt_price(old_price)} → "
            f"{fmt_price(new_price)} - {reason} (tp_hits={hits})"
        ),
    )


def loss_guard_triggered(pair: str, side: Side, pnl_pct: float, threshold_pct: float) -> BrainEvent:
    """``🚨 PAIR SIDE: LOSS GUARD TRIGGERED - unrealized_pnl=-12.60% <= -12.50%``."""
    return BrainEvent(
        tag=LogTag.LOSS_GUARD,
        level=Level.WARNING,
        key="loss_guard_triggered",
        kind=EventKind.LOSS_GUARD_FIRED,
        pair=pair,
        side=side.value,
        message=(
            f"🚨 {_who(pair, side)}: LOSS GUARD TRIGGERED - "
            f"unrealized_pnl={pnl_pct:.2f}% <= {-threshold_pct:.2f}%"
        ),
    )


def loss_guard_closing(pair: str, side: Side, amount: float, pnl_pct: float) -> BrainEvent:
    """``🚨 PAIR SIDE: Closing FULL position qty with MARKET SELL (PnL=-12.60%)``."""
    return BrainEvent(
        tag=LogTag.LOSS_GUARD,
        level=Level.WARNING,
        key="loss_guard_closing",
        message=(
            f"🚨 {_who(pair, side)}: Closing FULL position {fmt_amount(amount)} with "
            f"MARKET {order_verb(side)} (PnL={pnl_pct:.2f}%)"
        ),
    )


def loss_guard_executed(pair: str, side: Side, amount: float, order_id: str) -> BrainEvent:
    """``✅ LOSS GUARD MARKET SELL PAIR qty executed - orderId=...``."""
    return BrainEvent(
        tag=LogTag.ORDER,
        level=Level.INFO,
        key=f"loss_guard_executed:{order_id}",
        message=(
            f"✅ LOSS GUARD MARKET {order_verb(side)} {pair} {fmt_amount(amount)} "
            f"executed - orderId={order_id}"
        ),
    )


def fractions_normalized(pair: str, side: Side, total: float) -> BrainEvent:
    """``PAIR SIDE: TP fractions sum=1.200 > 1.0, normalized to 1.0``."""
    return BrainEvent(
        tag=LogTag.STATE,
        level=Level.WARNING,
        key=f"normalized:{total:.3f}",
        message=f"{_who(pair, side)}: TP fractions sum={total:.3f} > 1.0, normalized to 1.0",
    )


def fractions_runner(pair: str, side: Side, total: float, runner_pct: float) -> BrainEvent:
    """``PAIR SIDE: TP fractions sum=0.750 < 1.0, remaining 25.0% will be runner``."""
    return BrainEvent(
        tag=LogTag.STATE,
        level=Level.INFO,
        key=f"runner:{total:.3f}",
        message=(
            f"{_who(pair, side)}: TP fractions sum={total:.3f} < 1.0, "
            f"remaining {runner_pct:.1f}% will be runner"
        ),
    )


def plan_warning(pair: str, side: Side, detail: str) -> BrainEvent:
    """A plan was cut or cleaned: levels dropped, capped or invalid."""
    return BrainEvent(
        tag=LogTag.STATE,
        level=Level.WARNING,
        key=f"plan:{detail}",
        message=f"{_who(pair, side)}: {detail}",
    )


def plan_updated(pair: str, side: Side, levels: str) -> BrainEvent:
    """The strategy supplied a new ladder (UPDATE_TP_LIMITS)."""
    return BrainEvent(
        tag=LogTag.STATE,
        level=Level.INFO,
        key=f"plan_updated:{levels}",
        message=f"{_who(pair, side)}: TP plan updated - {levels}",
    )


def state_note(pair: str, side: Side, detail: str, level: Level = Level.WARNING) -> BrainEvent:
    """A state repair or rebuild, or another note about stored state."""
    return BrainEvent(
        tag=LogTag.STATE,
        level=level,
        key=f"state:{detail}",
        message=f"{_who(pair, side)}: {detail}",
    )


def state_repaired(pair: str, side: Side, detail: str, reason: str) -> BrainEvent:
    """A state rebuilt from the trade's orders (docs/behaviour.md §3), counted by ``reason``.

    :param reason: ``missing`` (no stored state), ``unreadable`` (rejected), ``amount_mismatch``
    """
    return BrainEvent(
        tag=LogTag.STATE,
        level=Level.WARNING,
        key=f"state:{detail}",
        kind=EventKind.STATE_REPAIRED,
        pair=pair,
        side=side.value,
        labels=(reason,),
        message=f"{_who(pair, side)}: {detail}",
    )


def stop_exit(
    pair: str, side: Side, stop_kind: str, price: float, amount: float, order_id: str
) -> BrainEvent:
    """``🛑 PAIR SIDE: Stopped out at the tp1 stop @ $price - closed qty - orderId=...``.

    :param stop_kind: the stop that was active (``initial``, ``breakeven``, ``tp1``, ...,
        ``strategy``); freqtrade reports every one of them as ``stop_loss``
    """
    return BrainEvent(
        tag=LogTag.RATCHET,
        level=Level.INFO,
        key="stop_exit",
        kind=EventKind.STOP_EXIT,
        pair=pair,
        side=side.value,
        labels=(stop_kind,),
        message=(
            f"🛑 {_who(pair, side)}: Stopped out at the {stop_kind} stop @ {fmt_price(price)} - "
            f"closed {fmt_amount(amount)} - orderId={order_id}"
        ),
    )


def brain_error(callback: str, message: str) -> BrainEvent:
    """An internal error in a callback (docs/behaviour.md §7 ERROR line), counted by callback."""
    return BrainEvent(
        tag=LogTag.EXECUTOR,
        level=Level.ERROR,
        key=f"error:{callback}",
        kind=EventKind.ERROR,
        labels=(callback,),
        message=message,
    )


def stop_backstop(
    pair: str, side: Side, price: float, stop_price: float, reason: str
) -> BrainEvent:
    """The brain's stop is breached but freqtrade's stop is looser: the brain closes."""
    return BrainEvent(
        tag=LogTag.RATCHET,
        level=Level.WARNING,
        key=f"backstop:{stop_price!r}",
        message=(
            f"🚨 {_who(pair, side)}: price {fmt_price(price)} beyond the {reason} stop "
            f"{fmt_price(stop_price)} that freqtrade could not place - closing FULL "
            f"position with MARKET {order_verb(side)}"
        ),
    )
