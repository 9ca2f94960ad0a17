"""Write the core's events to the ``exit_brain`` logger, once per state change.

Callbacks run every few seconds live; a decision that is retried (an order not yet filled)
produces the same event key again, and is written once per position. Backtests write the
routine lines at DEBUG so that a run over thousands of trades does not flood the console; the
summary at the end says what happened.
"""

import logging
from collections.abc import Iterable

from exit_brain_plugin.core import BrainEvent, Level


logger = logging.getLogger("exit_brain")

_LEVELS = {
    Level.DEBUG: logging.DEBUG,
    Level.INFO: logging.INFO,
    Level.WARNING: logging.WARNING,
    Level.ERROR: logging.ERROR,
}
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
        if len(self._seen) > _MAX_POSITIONS:
            self._seen.pop(next(iter(self._seen)))

    def forget(self, position_key: str) -> None:
        """Drop what was written for a position (it closed, or a new backtest started)."""
        self._seen.pop(position_key, None)

    def clear(self) -> None:
        """Forget every position."""
        self._seen.clear()
