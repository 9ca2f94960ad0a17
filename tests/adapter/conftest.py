"""Adapter contract tests need freqtrade (but not a backtest)."""

import pytest


pytest.importorskip("freqtrade")
