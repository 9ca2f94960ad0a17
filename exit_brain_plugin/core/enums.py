"""Enumerations shared by the core and the adapter (values are safe to persist)."""

from enum import StrEnum


class Side(StrEnum):
    """Direction of a position."""

    LONG = "long"
    SHORT = "short"


class Mode(StrEnum):
    """What the brain does with a position's decisions.

    ``off`` exists only per pair (``pair_modes``): the brain leaves such a position alone.
    """

    ACT = "act"
    OBSERVE = "observe"
    OFF = "off"


class SizeBasis(StrEnum):
    """What a take-profit fraction is a fraction of."""

    REMAINING = "remaining"
    INITIAL = "initial"


class RatchetRule(StrEnum):
    """Where the stop goes after each take-profit fill."""

    SEED = "seed"
    STEP = "step"


class ExitKind(StrEnum):
    """What an exit decision or a fill is."""

    TAKE_PROFIT = "take_profit"
    LOSS_GUARD = "loss_guard"
    STOP_BACKSTOP = "stop_backstop"


class LogTag(StrEnum):
    """The grep-able tags of docs/behaviour.md §7."""

    EXECUTOR = "EXIT_BRAIN_EXECUTOR"
    TP_TRIGGER = "EXIT_TP_TRIGGER"
    ORDER = "EXIT_ORDER"
    RATCHET = "EXIT_RATCHET_SL"
    LOSS_GUARD = "EXIT_LOSS_GUARD"
    STATE = "EXIT_BRAIN_STATE"


class Level(StrEnum):
    """Severity of an event, mapped to a logging level by the adapter."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class EventKind(StrEnum):
    """What an event counts (the adapter's metrics read it; docs/behaviour.md §9.1)."""

    TP_FILLED = "tp_filled"
    RATCHETED = "ratcheted"
    LOSS_GUARD_FIRED = "loss_guard_fired"
    STOP_EXIT = "stop_exit"
    STATE_REPAIRED = "state_repaired"
    ERROR = "error"
