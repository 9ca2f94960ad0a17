"""Messages to the trader through freqtrade's own channel (``dp.send_msg``: Telegram, webhooks).

Sent (live and dry-run only; ``exit_brain.notifications: false`` turns them off):

- every loss-guard fire;
- the day's fire count (UTC) crossing into yellow (above 5) and into red (above 10): the
  bands of docs/behaviour.md §9.2 and of the report;
- a brain error, at most once per callback every 15 minutes (a failing callback fails on
  every loop).

The day's count is kept per process, so it survives ``/reload_config``; at startup it is
seeded from the trade database (positions closed by the guard today), so a restart does not
announce a band a second time.
"""

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from exit_brain_plugin.core import BrainEvent, EventKind


# docs/behaviour.md §9.2: green 0-5 fires a day, yellow above 5, red above 10.
YELLOW_ABOVE = 5
RED_ABOVE = 10
ERROR_QUIET_SECONDS = 900.0

_fires_by_day: dict[date, int] = {}
_last_error_at: dict[str, float] = {}


def seed_fires(day: date, count: int) -> None:
    """Start the day's count at ``count`` unless this process has counted more already."""
    _fires_by_day[day] = max(_fires_by_day.get(day, 0), count)


class Notifier:
    """An EventSink observer that sends the messages above through ``send``."""

    def __init__(
        self,
        send: Callable[[str], None],
        *,
        executed: bool,
        today: Callable[[], date] | None = None,
    ) -> None:
        """:param send: freqtrade's ``dp.send_msg`` (with ``always_send``)
        :param executed: act mode; observe mode's virtual guard fires are not announced
        """
        self.send = send
        self.executed = executed
        self.today = today or (lambda: datetime.now(UTC).date())

    def observe(self, event: BrainEvent, *, executed: bool | None = None) -> None:
        """Send a message for an event worth one.

        :param executed: the position's decisions are executed (act); None: the default
        """
        acted = self.executed if executed is None else executed
        if event.kind is EventKind.LOSS_GUARD_FIRED and acted:
            self._loss_guard(event)
        elif event.kind is EventKind.ERROR:
            callback = event.labels[0] if event.labels else "?"
            now = time.monotonic()
            last = _last_error_at.get(callback)
            if last is not None and now - last < ERROR_QUIET_SECONDS:
                return
            _last_error_at[callback] = now
            self.send(f"⚠️ Exit Brain error in {callback}: {event.message}")

    def _loss_guard(self, event: BrainEvent) -> None:
        day = self.today()
        count = _fires_by_day.get(day, 0) + 1
        _fires_by_day[day] = count
        for old in [other for other in _fires_by_day if other < day]:
            del _fires_by_day[old]
        self.send(f"Exit Brain {event.render()} (fire {count} today, UTC)")
        if count == YELLOW_ABOVE + 1:
            self.send(
                f"🟡 Exit Brain: {count} loss-guard fires today (UTC), above the green band "
                f"(0-{YELLOW_ABOVE}): review the threshold and the market (docs/monitoring.md)"
            )
        elif count == RED_ABOVE + 1:
            self.send(
                f"🔴 Exit Brain: {count} loss-guard fires today (UTC), above {RED_ABOVE}: "
                "consider pausing entries (docs/monitoring.md)"
            )
