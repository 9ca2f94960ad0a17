"""Live / dry-run tests drive freqtrade's FreqtradeBot: skip cleanly where it is not installed."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest


pytest.importorskip("freqtrade")

from tests.live.bot_harness import LiveHarness


@pytest.fixture(autouse=True)
def _brain_logs_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="exit_brain")
    caplog.set_level(logging.INFO)


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveHarness]:
    """A simulated dry-run bot process on a fresh SQLite database and a scripted exchange."""
    harness = LiveHarness(tmp_path, monkeypatch)
    try:
        yield harness
    finally:
        harness.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/live/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
