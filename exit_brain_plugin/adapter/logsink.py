"""Write the core's events to the ``exit_brain`` logger, once per state change.

Callbacks run every few seconds live; a decision that is retried (an order not yet filled)
produces the same event key again, and is written once per position. Backtests write the
routine lines at DEBUG so that a run over thousands of trades does not flood the console; the
summary at the end says what happened.

Observers (the metrics recorder, the notifier) see each event the moment its line is written,
and only then: a counter and its log line cannot disagree.

The adapter's own lines (``[EXIT_BRAIN_EXECUTOR]``: settings, a failed count, a fill reported
again) are built in ``core/events.py`` like every other line and written here by :func:`write`;
no module of the adapter writes a line by hand.
"""

import logging
from collections.abc import Callable, Iterable

from exit_brain_plugin.core import BrainEvent, Level
from exit_brain_plugin.core.adapter_lines import adapter_fault
from exit_brain_plugin.core.events import brain_error


logger = logging.getLogger("exit_brain")

_LEVELS = {
    Level.DEBUG: logging.DEBUG,
    Level.INFO: logging.INFO,
    Level.WARNING: logging.WARNING,
    Level.ERROR: logging.ERROR,
}


def write(event: BrainEvent, *, exc_info: bool = False) -> None:
    """Write one adapter line (``[EXIT_BRAIN_EXECUTOR]``) now, at its level.

    For lines about the run or one call (settings, a failed count or gauge): no
    de-duplication and no observers. Pass ``exc_info`` from an except block for the traceback.
    """
    level = _LEVELS[event.level]
    if logger.isEnabledFor(level):
        logger.log(level, event.render(), exc_info=exc_info)


# Positions whose seen-keys are kept; older ones are forgotten (their lines may repeat once).
_MAX_POSITIONS = 2048


class EventSink:
    """Writes events, skipping the ones already written for the same position."""

    def __init__(self, *, quiet: bool = False, suffix: str = "") -> None:
        """:param quiet: write INFO lines at DEBUG (backtests)
        :param suffix: appended to every line (observe mode says nothing was executed)
        """
        self.quiet = quiet
        self.suffix = suffix
        self._seen: dict[str, set[str]] = {}
        self.observers: list[Callable[..., None]] = []
        #: whether the position being written is executed (act) or only observed; None when
        #: the sink does not know (observers then use their own default)
        self.executed: bool | None = None

    def emit(self, position_key: str, events: Iterable[BrainEvent]) -> None:
        """Write each event not yet written for ``position_key``."""
        for event in events:
            seen = self._seen.setdefault(position_key, set())
            if event.key in seen:
                continue
            seen.add(event.key)
            level = _LEVELS[event.level]
            if self.quiet and level == logging.INFO:
                level = logging.DEBUG
            if logger.isEnabledFor(level):
                logger.log(level, event.render() + self.suffix)
            if event.kind is not None:
                self._tell(event)
        if len(self._seen) > _MAX_POSITIONS:
            self._seen.pop(next(iter(self._seen)))

    def error(self, callback: str, message: str) -> None:
        """Write an internal error at ERROR with its traceback (call from an except block).

        Every error is written (no de-duplication): a callback that fails on every loop says so.
        """
        event = brain_error(callback, message)
        logger.error(event.render(), exc_info=True)  # noqa: LOG014 - called in except blocks
        self._tell(event)

    def _tell(self, event: BrainEvent) -> None:
        for observer in self.observers:
            try:
                observer(event, executed=self.executed)
            except Exception:  # a metric or a message must never stop trading
                write(adapter_fault(f"could not record {event.kind}"), exc_info=True)

    def clear(self) -> None:
        """Forget every position."""
        self._seen.clear()
