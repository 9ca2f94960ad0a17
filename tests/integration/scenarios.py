"""Scenario backtests as data: hand-built candles, settings and the trades they must produce.

The analogue of freqtrade's ``BTContainer`` / ``BTrade`` (tests/optimize/test_backtest_detail.py):
the types of the scenario tables and the candles they share. The tables are
``scenarios_ladder.py`` (ladders, ratchets, loss guard, the held stop) and
``scenarios_fills.py`` (fills that never flatter); the one parametrized runner in
``test_backtest_scenarios.py`` plays every row of both.

Rules:

1. Each candle row is ``C(open, high, low, close, signals)`` with a comment saying what should
   happen on it; freqtrade enters at the open of the candle after the signal.
2. A scenario lists one :class:`ExpectedTrade` per trade, in order. Every field left at its
   default is not checked; every field set is checked exactly (values may be ``pytest.approx``,
   :class:`Between` or ``ANY`` where the scenario means a tolerance or "any value").
3. Candle times are given as row indices (``filled_at``, ``closed_at``).
4. A scenario that needs more than candles and settings (a second run, a detail timeframe, a
   patched rule) is a plain test next to the runner, not a row here.

ETH/BTC's tick is 0.000001, amount step 0.001; XRP/USDT:USDT's tick 0.0001, amount step 0.1.
Spot: 0.05 BTC at 0.1 = 0.5 ETH. Futures: 100 USDT at 1.0 and 3x = 300 XRP.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tests.integration.backtest_harness import Candle as C


def above(price: float) -> float:
    """``price`` as stored one float step above the tick."""
    return float(np.nextafter(price, np.inf))


def below(price: float) -> float:
    """``price`` as stored one float step below the tick."""
    return float(np.nextafter(price, -np.inf))


@dataclass(frozen=True)
class Between:
    """A value in ``[low, high]`` (inclusive), for comparisons inside expected tuples."""

    low: float
    high: float

    def __eq__(self, other: object) -> bool:
        return isinstance(other, int | float) and self.low <= other <= self.high

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class ExpectedTrade:
    """What one trade must show; None / empty fields are not checked.

    :param exits: every filled exit order as (tag, amount, price), in order
    :param exits_start: the first filled exit orders, when only those matter
    :param absent_tags: exit tags that must not appear
    :param filled_at: exit tag -> row index of the candle its order filled on
    :param closed_at: row index of the candle the trade closed on
    :param state: stored state fields (the brain's custom data) -> value
    :param ratchets: the state's ratchets without their time: (from, to, reason)
    :param attrs: trade attributes (``exit_reason``, ``close_profit``, ``is_short``…) -> value
    """

    exits: tuple[tuple[Any, Any, Any], ...] | None = None
    exits_start: tuple[tuple[Any, Any, Any], ...] = ()
    absent_tags: tuple[str, ...] = ()
    filled_at: dict[str, int] = field(default_factory=dict)
    closed_at: int | None = None
    state: dict[str, Any] = field(default_factory=dict)
    ratchets: tuple[tuple[Any, Any, Any], ...] | None = None
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """One backtest: candles, settings, the trades it must produce and the lines it must log.

    :param brain: ``exit_brain`` settings over config.json's
    :param leverage: the test host's leverage (futures)
    :param lines: log substrings that must appear
    :param line_counts: log substring -> number of times it must appear
    """

    id: str
    rows: tuple[C, ...]
    trades: tuple[ExpectedTrade, ...]
    futures: bool = False
    leverage: float | None = None
    brain: dict[str, Any] = field(default_factory=dict)
    lines: tuple[str, ...] = ()
    line_counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- candles shared by scenarios

LONG_TP_INSIDE = (
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1015, 0.0999, 0.1010),  # 2 TP1 touched inside: fills at exactly 0.101
    C(0.1010, 0.1012, 0.1003, 0.1005),  # 3 nothing
    C(0.1005, 0.1006, 0.0998, 0.0999),  # 4 breakeven stop 0.1000 hit
    C(0.0999, 0.1000, 0.0998, 0.0999),  # 5
)
LONG_GAP = (
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000
    C(0.1025, 0.1030, 0.1022, 0.1028),  # 2 opens beyond TP1 0.101 and TP2 0.102: one exit at 0.1025
    C(0.1028, 0.1030, 0.1015, 0.1020),  # 3 stop now at TP1's price 0.101: not hit
    C(0.1020, 0.1021, 0.1005, 0.1006),  # 4 stop 0.101 hit
    C(0.1006, 0.1007, 0.1004, 0.1005),  # 5
)
LONG_LADDER = (
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000
    C(0.1000, 0.1012, 0.1001, 0.1010),  # 2 TP1 0.101 fills; stop -> 0.1000 (breakeven)
    C(0.1010, 0.1021, 0.1005, 0.1019),  # 3 TP2 0.102 fills; stop -> 0.101 (TP1's price)
    C(0.1019, 0.1019, 0.1012, 0.1013),  # 4 nothing (low above 0.101)
    C(0.1013, 0.1014, 0.1008, 0.1009),  # 5 stop 0.101 hit
    C(0.1009, 0.1010, 0.1008, 0.1009),  # 6
)
SHORT_LADDER = (
    C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
    C(1.000, 1.002, 0.995, 1.000),  # 1 entry at 1.000 (3x)
    C(1.000, 1.001, 0.989, 0.990),  # 2 TP1 0.99 fills; stop -> 1.000 (breakeven)
    C(0.990, 0.995, 0.979, 0.981),  # 3 TP2 0.98 fills; stop -> 0.99 (TP1's price)
    C(0.981, 0.988, 0.978, 0.985),  # 4 nothing (high below 0.99)
    C(0.985, 0.992, 0.984, 0.991),  # 5 stop 0.99 hit
    C(0.991, 0.992, 0.990, 0.991),  # 6
)
SHORT_LOSS_GUARD = (
    C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
    C(1.000, 1.004, 0.997, 1.002),  # 1 entry at 1.000 (3x); guard price ~1.0417 (-12.5 % PnL)
    C(1.010, 1.030, 1.005, 1.020),  # 2 PnL at high -9 %: nothing
    C(1.020, 1.060, 1.015, 1.055),  # 3 high crosses the guard price: closes there, inside
    C(1.055, 1.070, 1.050, 1.060),  # 4
    C(1.060, 1.070, 1.050, 1.060),  # 5
)
LONG_ENTRY = (
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1015, 0.0999, 0.1010),  # 2 TP1 fills at 0.101; stop -> 0.1000 (breakeven)
)
SHORT_ENTRY = (
    C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
    C(1.000, 1.002, 0.995, 1.000),  # 1 entry at 1.000 (3x); TP1 0.99 rests
    C(1.000, 1.001, 0.989, 0.990),  # 2 TP1 fills at 0.99; stop -> 1.000 (breakeven)
)
SHORT_GUARD_PRICE = 1.0 * (1 + 0.125 / 3)
