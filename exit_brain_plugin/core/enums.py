"""Enumerations shared by the core and the adapter (values are safe to persist)."""

from enum import StrEnum


class Side(StrEnum):
    """Direction of a position."""

    LONG = "long"
    SHORT = "short"


class Mode(StrEnum):
    """What the brain does with its decisions."""

    ACT = "act"
    OBSERVE = "observe"


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
    STOP = "stop"
    OTHER = "other"


class LogTag(StrEnum):
    """The grep-able tags of SPEC §7."""

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
    """What an event counts (the adapter's metrics read it; SPEC §9.1)."""

    TP_FILLED = "tp_filled"
    RATCHETED = "ratcheted"
    LOSS_GUARD_FIRED = "loss_guard_fired"
    STOP_EXIT = "stop_exit"
    STATE_REPAIRED = "state_repaired"
    ERROR = "error"
