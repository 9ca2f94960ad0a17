"""Integration tests drive freqtrade itself: skip cleanly where it is not installed."""

import logging

import pytest


pytest.importorskip("freqtrade")


@pytest.fixture(autouse=True)
def _brain_logs_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    # Backtests write routine brain lines at DEBUG; tests read them.
    caplog.set_level(logging.DEBUG, logger="exit_brain")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
