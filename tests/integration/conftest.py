"""Integration tests drive freqtrade's Backtesting: the shared freqtrade conftest, marked
``integration`` (skipped cleanly where freqtrade is not installed)."""

from tests.freqtrade_conftest import brain_logs_at_debug, mark_folder_integration


__all__ = ["brain_logs_at_debug", "pytest_collection_modifyitems"]

pytest_collection_modifyitems = mark_folder_integration("integration")
