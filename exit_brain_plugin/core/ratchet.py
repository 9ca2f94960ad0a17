"""Stop-loss ratchet (docs/behaviour.md §4.4).

Rules:
R1. After a take-profit fill with ``tp_hits_count >= 1`` the candidate stop is the entry price
    (breakeven); with ``tp_hits_count >= 2`` it is TP1's price (``seed``) or TP(n−1)'s price
    (``step``).
R2. ``ratchet_offset`` moves the candidate that price fraction further in the trade's favour.
R3. The stop only tightens: long ``new = max(active, candidate)``, short ``min``.
R4. The stop the ratchet sets is named by the price it sits on: ``breakeven`` (the entry),
    else ``tp<leg>``; this is its ``sl_reason`` and the stop kind the reports show.
Precedence: loss guard before plan before take-profit before ratchet (brain.py).
Invariant: the stop never loosens (test_stop_never_loosens).
"""

from dataclasses import replace

from exit_brain_plugin.core import events as ev
from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.enums import RatchetRule
from exit_brain_plugin.core.events import BrainEvent
from exit_brain_plugin.core.pricing import approx_eq, shift_favourable, tighter_stop
from exit_brain_plugin.core.state import PositionState, RatchetRecord


def ratchet_leg(tp_hits: int, config: BrainConfig) -> int | None:
    """Return the take-profit leg whose price the ratchet stop sits on after ``tp_hits`` (R1).

    :param tp_hits: take-profit fills so far
    :return: 0 for the entry price (breakeven after TP1), ``n`` for TPn's price, or None
        before the first take-profit
    """
    if tp_hits < 1:
        return None
    if tp_hits == 1:
        return 0
    return 1 if config.ratchet_rule is RatchetRule.SEED else tp_hits - 1


def ratchet_stop_name(tp_hits: int, config: BrainConfig) -> str | None:
    """Return the name of the stop the ratchet sets after ``tp_hits`` (R4), or None before TP1.

    :return: ``"breakeven"`` or ``"tp<leg>"``
    """
    leg = ratchet_leg(tp_hits, config)
    if leg is None:
        return None
    return "breakeven" if leg == 0 else f"tp{leg}"


def ratchet_stop_names(config: BrainConfig, max_tp_hits: int) -> tuple[str, ...]:
    """Return every stop name the ratchet can set within ``max_tp_hits`` fills, in order (R4).

    :return: ``()`` when the ratchet is off
    """
    if not config.ratchet_sl_enabled:
        return ()
    names = (ratchet_stop_name(hits, config) for hits in range(1, max_tp_hits + 1))
    return tuple(dict.fromkeys(name for name in names if name is not None))


def ratchet_candidate(state: PositionState, config: BrainConfig) -> tuple[float, str, str] | None:
    """Return ``(price, sl_reason, description)`` of the stop R1-R2 ask for, or None."""
    hits = state.tp_hits_count
    leg = ratchet_leg(hits, config)
    if leg is None:
        return None
    sl_reason = ratchet_stop_name(hits, config) or ""
    if leg == 0:
        price, text = state.entry_price, "breakeven after TP1"
    else:
        price, text = state.tp_levels[leg - 1].price, f"TP{leg} price after TP{hits} hit"
    return shift_favourable(state.side, price, config.ratchet_offset), sl_reason, text


def apply_ratchet(
    state: PositionState, config: BrainConfig
) -> tuple[PositionState, tuple[BrainEvent, ...]]:
    """Tighten the stop after a take-profit fill (R1-R3).

    :return: the state with the new stop (unchanged when the candidate is not tighter)
    """
    candidate = ratchet_candidate(state, config) if config.ratchet_sl_enabled else None
    if candidate is None:
        return state, ()
    price, sl_reason, text = candidate
    old = state.active_sl
    new = price if old is None else tighter_stop(state.side, old, price)
    if old is not None and approx_eq(new, old):
        return state, ()
    record = RatchetRecord(
        tp_hits=state.tp_hits_count, old_price=old, new_price=new, reason=sl_reason
    )
    new_state = replace(
        state, active_sl=new, sl_reason=sl_reason, ratchets=(*state.ratchets, record)
    )
    return new_state, (
        ev.ratcheted(state.pair, state.side, old, new, text, state.tp_hits_count, sl_reason),
    )
