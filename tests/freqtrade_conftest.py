"""The one freqtrade conftest: what every folder of tests that drives freqtrade shares.

Rules:

1. A folder whose tests need freqtrade (``adapter``, ``integration``, ``live``) imports this
   module from its ``conftest.py``; without freqtrade the import skips the whole folder
   (``importorskip``, here, once). ``tests/conftest.py`` never imports it: the core's tests run
   without freqtrade.
2. :func:`brain_logs_at_debug` (autouse where a conftest imports it): the ``exit_brain`` logger
   at DEBUG, since backtests write the routine brain lines at DEBUG and tests read them.
3. :func:`mark_folder_integration` returns the collection hook that marks a folder's tests
   ``integration`` (they run freqtrade's Backtesting or its bot loop).
"""

import logging
from collections.abc import Callable

import pytest


pytest.importorskip("freqtrade")


@pytest.fixture(autouse=True)
def brain_logs_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """Capture the brain's DEBUG lines."""
    caplog.set_level(logging.DEBUG, logger="exit_brain")


def mark_folder_integration(folder: str) -> Callable[[list[pytest.Item]], None]:
    """Return a ``pytest_collection_modifyitems`` hook marking the tests under ``folder``."""
    part = f"/{folder}/"

    def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
        for item in items:
            if part in str(item.fspath):
                item.add_marker(pytest.mark.integration)

    return pytest_collection_modifyitems
