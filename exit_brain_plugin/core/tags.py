"""Order tags and exit reasons (docs/behaviour.md §6): the names the brain gives its exits.

Rules:

1. Every tag is lower_snake, starts with ``exit_brain_`` and stays well under freqtrade's 64
   characters.
2. A take-profit tag names its legs in order: ``exit_brain_tp1``, ``exit_brain_tp1+tp2`` for
   a gap over several levels; :func:`legs_from_tag` reads back exactly what :func:`tp_tag`
   writes, and nothing else.
3. ``exit_brain_loss_guard`` is the loss guard's full close; ``exit_brain_stop`` the backstop
   (a stop freqtrade could not place), and the prefix of the named stop exits
   (core/exit_reasons.py).
"""

from collections.abc import Sequence


TAG_PREFIX = "exit_brain_"
LOSS_GUARD_TAG = "exit_brain_loss_guard"
STOP_BACKSTOP_TAG = "exit_brain_stop"


def tp_tag(legs: Sequence[int]) -> str:
    """Return ``exit_brain_tp1``, or ``exit_brain_tp1+tp2`` for a gap over several levels."""
    return TAG_PREFIX + "+".join(f"tp{leg}" for leg in legs)


def legs_from_tag(tag: str | None) -> tuple[int, ...] | None:
    """Return the legs of a take-profit tag, or None when ``tag`` is not one."""
    if not tag or not tag.startswith(TAG_PREFIX + "tp"):
        return None
    parts = tag[len(TAG_PREFIX) :].split("+")
    legs: list[int] = []
    for part in parts:
        digits = part[2:]
        if not part.startswith("tp") or not digits.isdigit() or int(digits) < 1:
            return None
        legs.append(int(digits))
    if legs != sorted(set(legs)):
        return None
    return tuple(legs)
