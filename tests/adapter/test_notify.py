"""Notifications (docs/monitoring.md): every loss-guard fire, the day's count crossing into
yellow (6th fire) and into red (11th), errors at most once per callback every 15 minutes."""

from datetime import date

import pytest

from exit_brain_plugin.adapter import notify
from exit_brain_plugin.adapter.notify import Notifier
from exit_brain_plugin.core import Side
from exit_brain_plugin.core.events import brain_error, loss_guard_triggered


DAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _fresh_counts():
    notify._fires_by_day.clear()
    notify._last_error_at.clear()
    yield
    notify._fires_by_day.clear()
    notify._last_error_at.clear()


def _fire(notifier, pair="ETH/BTC"):
    notifier.observe(loss_guard_triggered(pair, Side.LONG, -12.6, 12.5))


def test_the_day_crossing_into_yellow_and_into_red_is_told_once_each():
    sent = []
    notifier = Notifier(sent.append, executed=True, today=lambda: DAY)
    for _ in range(12):
        _fire(notifier)
    fires = [m for m in sent if "LOSS GUARD TRIGGERED" in m]
    bands = [m for m in sent if m not in fires]
    assert len(fires) == 12
    assert fires[5].endswith("(fire 6 today, UTC)")
    assert bands == [
        "🟡 Exit Brain: 6 loss-guard fires today (UTC), above the green band (0-5): review the "
        "threshold and the market (docs/monitoring.md)",
        "🔴 Exit Brain: 11 loss-guard fires today (UTC), above 10: consider pausing entries "
        "(docs/monitoring.md)",
    ]
    assert sent.index(bands[0]) == sent.index(fires[5]) + 1
    assert sent.index(bands[1]) == sent.index(fires[10]) + 1


def test_five_fires_stay_green_and_a_new_day_starts_at_zero():
    sent = []
    day = {"today": DAY}
    notifier = Notifier(sent.append, executed=True, today=lambda: day["today"])
    for _ in range(5):
        _fire(notifier)
    day["today"] = date(2026, 3, 3)
    _fire(notifier)
    assert len(sent) == 6
    assert sent[-1].endswith("(fire 1 today, UTC)")


def test_a_restart_seeded_with_the_days_fires_does_not_announce_yellow_again():
    sent = []
    notify.seed_fires(DAY, 6)
    notifier = Notifier(sent.append, executed=True, today=lambda: DAY)
    _fire(notifier)
    assert sent == [
        "Exit Brain [EXIT_LOSS_GUARD] 🚨 ETH/BTC LONG: LOSS GUARD TRIGGERED - "
        "unrealized_pnl=-12.60% <= -12.50% (fire 7 today, UTC)"
    ]


def test_observe_mode_fires_are_not_announced_but_errors_are_once_per_callback():
    sent = []
    notifier = Notifier(sent.append, executed=False, today=lambda: DAY)
    _fire(notifier)
    for _ in range(3):
        notifier.observe(brain_error("custom_exit", "custom_exit failed for ETH/BTC (trade 1)"))
    notifier.observe(brain_error("order_filled", "order_filled failed for ETH/BTC (trade 1)"))
    assert sent == [
        "⚠️ Exit Brain error in custom_exit: custom_exit failed for ETH/BTC (trade 1)",
        "⚠️ Exit Brain error in order_filled: order_filled failed for ETH/BTC (trade 1)",
    ]
