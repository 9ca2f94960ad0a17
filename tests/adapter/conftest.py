"""Adapter contract tests need freqtrade (but not a backtest): the shared freqtrade conftest
(skipped cleanly where freqtrade is not installed)."""

from tests import freqtrade_conftest  # noqa: F401 - skips the folder without freqtrade
