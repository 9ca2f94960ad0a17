"""Live / dry-run tests drive freqtrade's FreqtradeBot: the shared freqtrade conftest, marked
``integration`` (skipped cleanly where freqtrade is not installed), plus the bot harness."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.freqtrade_conftest import brain_logs_at_debug, mark_folder_integration
from tests.live.bot_harness import LiveHarness


__all__ = ["brain_logs_at_debug", "freqtrade_logs_at_info", "live", "pytest_collection_modifyitems"]

pytest_collection_modifyitems = mark_folder_integration("live")


@pytest.fixture(autouse=True)
def freqtrade_logs_at_info(brain_logs_at_debug: None, caplog: pytest.LogCaptureFixture) -> None:
    # Tests read freqtrade's own lines too (cancels, timeouts, refused orders).
    caplog.set_level(logging.INFO)


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveHarness]:
    """A simulated dry-run bot process on a fresh SQLite database and a scripted exchange."""
    harness = LiveHarness(tmp_path, monkeypatch)
    try:
        yield harness
    finally:
        harness.close()
