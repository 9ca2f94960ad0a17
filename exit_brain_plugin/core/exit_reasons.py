"""One classifier of exit orders and exit reasons, for the adapter and the reports.

Rules (docs/behaviour.md §6):
X1. A take-profit tag (``exit_brain_tp1``, ``exit_brain_tp1+tp2``) is a take-profit of its legs.
X2. ``exit_brain_loss_guard`` is the loss guard.
X3. A stop is freqtrade's own stop reasons (``stop_loss``, ``trailing_stop_loss``,
    ``stoploss_on_exchange``, ``liquidation``), an order on freqtrade's ``stoploss`` side, the
    brain's stop names ``exit_brain_stop_<kind>`` and its backstop ``exit_brain_stop``.
X4. Anything else is another exit (the strategy's signal, ROI, force exit, ...).
"""

from exit_brain_plugin.core.decisions import FillKind
from exit_brain_plugin.core.tags import LOSS_GUARD_TAG, STOP_BACKSTOP_TAG, legs_from_tag


FREQTRADE_STOP_REASONS = frozenset(
    {"stop_loss", "trailing_stop_loss", "stoploss_on_exchange", "liquidation"}
)
STOP_TAG_PREFIX = STOP_BACKSTOP_TAG + "_"


def stop_tag(kind: str) -> str:
    """Return the exit reason of a stop exit by the stop that fired: ``exit_brain_stop_tp1``."""
    return STOP_TAG_PREFIX + kind


def stop_kind_from_tag(tag: str | None) -> str | None:
    """Return the stop kind named by an ``exit_brain_stop_<kind>`` reason, else None."""
    if tag and tag.startswith(STOP_TAG_PREFIX) and len(tag) > len(STOP_TAG_PREFIX):
        return tag[len(STOP_TAG_PREFIX) :]
    return None


def is_stop_reason(tag: str | None, side: str | None = None) -> bool:
    """Return True when an exit with this reason (or order side) is a stop exit (X3)."""
    if side == "stoploss":
        return True
    if not tag:
        return False
    return (
        tag in FREQTRADE_STOP_REASONS or tag == STOP_BACKSTOP_TAG or bool(stop_kind_from_tag(tag))
    )


def classify_exit(tag: str | None, side: str | None = None) -> tuple[FillKind, tuple[int, ...]]:
    """Classify an exit order by its tag (X1-X4); returns the kind and the legs of a take-profit.

    :param side: the order's ``ft_order_side``; a stoploss-on-exchange order (``stoploss``)
        carries no tag and is always a stop
    """
    if side == "stoploss":
        return FillKind.STOP, ()
    legs = legs_from_tag(tag)
    if legs is not None:
        return FillKind.TAKE_PROFIT, legs
    if tag == LOSS_GUARD_TAG:
        return FillKind.LOSS_GUARD, ()
    if is_stop_reason(tag):
        return FillKind.STOP, ()
    return FillKind.OTHER_EXIT, ()
