"""Decisions, fills and verdicts: the values the core returns and takes back."""

from dataclasses import dataclass
from enum import StrEnum

from exit_brain_plugin.core.enums import ExitKind
from exit_brain_plugin.core.events import BrainEvent
from exit_brain_plugin.core.snapshot import check_finite
from exit_brain_plugin.core.state import PositionState


@dataclass(frozen=True, slots=True, kw_only=True)
class Hold:
    """Do nothing now."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitOrder:
    """Close part or all of the position now, at market (docs/behaviour.md §6).

    :param amount: base amount to close, already truncated to the exchange step; the whole
        remaining amount when ``close_all``
    :param price: the price the decision was taken at
    :param level_price: the (highest) take-profit level covered, for TP exits
    :param tag: order tag / exit reason (``exit_brain_tp1``, ``exit_brain_loss_guard``, ...)
    """

    kind: ExitKind
    tag: str
    amount: float
    close_all: bool
    price: float
    legs: tuple[int, ...] = ()
    level_price: float | None = None


Decision = Hold | ExitOrder


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The result of one core call: what to do, the new state, what to log."""

    decision: Decision
    state: PositionState
    events: tuple[BrainEvent, ...] = ()


class FillKind(StrEnum):
    """What a filled order did to the position."""

    ENTRY = "entry"
    TAKE_PROFIT = "take_profit"
    LOSS_GUARD = "loss_guard"
    STOP = "stop"
    OTHER_EXIT = "other_exit"


_FILL_KIND_OF_EXIT = {
    ExitKind.TAKE_PROFIT: FillKind.TAKE_PROFIT,
    ExitKind.LOSS_GUARD: FillKind.LOSS_GUARD,
    ExitKind.STOP_BACKSTOP: FillKind.STOP,
}


def fill_kind_of(kind: ExitKind) -> FillKind:
    """Return what a filled exit decision of this kind did: the one map from decision to fill."""
    return _FILL_KIND_OF_EXIT[kind]


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """An order of the position that (partly) filled.

    :param filled_amount: base amount that filled (>= 0)
    :param complete: True when the order filled everything it asked for
    :param legs: take-profit legs the order was placed for (from its tag)
    :param reason: exit reason, or the stop kind (``breakeven``, ``tp1``, ``loss_guard``, ...)
    :param entry_price_after: average entry price after an entry fill (``trade.open_rate``)
    :param amount_step: exchange amount step, the tolerance for a leg to count as complete
    :param profit_ratio: freqtrade's profit ratio at the fill price (loss-guard fills)
    """

    kind: FillKind
    filled_amount: float
    price: float
    order_id: str
    complete: bool = True
    legs: tuple[int, ...] = ()
    reason: str = ""
    entry_price_after: float | None = None
    amount_step: float | None = None
    profit_ratio: float | None = None

    def __post_init__(self) -> None:
        check_finite("filled_amount", self.filled_amount)
        check_finite("price", self.price, positive=True)
        check_finite("entry_price_after", self.entry_price_after, positive=True)
        check_finite("amount_step", self.amount_step, positive=True)
        check_finite("profit_ratio", self.profit_ratio)
        if self.filled_amount < 0:
            raise ValueError(f"filled_amount must be >= 0, was {self.filled_amount!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StopTarget:
    """The stop price the brain wants freqtrade to hold, and whose stop it is."""

    price: float
    source: str
