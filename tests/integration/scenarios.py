"""Scenario backtests as data: hand-built candles, settings and the trades they must produce.

The analogue of freqtrade's ``BTContainer`` / ``BTrade`` (tests/optimize/test_backtest_detail.py):
one :class:`Scenario` per row of :data:`SCENARIOS`, run by the one parametrized runner in
``test_backtest_scenarios.py``.

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
from unittest.mock import ANY

import numpy as np
import pytest

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

# ---------------------------------------------------------------- ladders, ratchets, loss guard

LADDER_SCENARIOS = (
    Scenario(
        id="tp_touched_inside_a_candle_fills_at_exactly_the_tp_price",
        rows=LONG_TP_INSIDE,
        trades=(
            ExpectedTrade(
                exits=(
                    ("exit_brain_tp1", 0.125, 0.101),
                    ("exit_brain_stop_breakeven", 0.375, 0.1),
                ),
                filled_at={"exit_brain_tp1": 2},
                state={"tp_hits_count": 1, "triggered_legs": [1], "exit_kind": "stop:breakeven"},
            ),
        ),
        lines=(
            "[EXIT_RATCHET_SL] 🎯 ETH/BTC LONG: SL ratcheted $0.0500 → $0.1000 - "
            "breakeven after TP1 (tp_hits=1)",
        ),
    ),
    Scenario(
        id="candle_opening_beyond_two_levels_fills_at_its_open_and_counts_two_hits",
        rows=LONG_GAP,
        trades=(
            ExpectedTrade(
                # 0.5 × (1 − 0.75 × 0.75) = 0.21875, truncated to the 0.001 step.
                exits=(
                    ("exit_brain_tp1+tp2", 0.218, 0.1025),
                    ("exit_brain_stop_tp1", 0.282, 0.101),
                ),
                filled_at={"exit_brain_tp1+tp2": 2},
                state={
                    "tp_hits_count": 2,
                    "triggered_legs": [1, 2],
                    "active_sl": pytest.approx(0.101),
                    "exit_kind": "stop:tp1",
                },
            ),
        ),
        lines=("TP1 price after TP2 hit (tp_hits=2)",),
    ),
    Scenario(
        id="long_ratchets_to_breakeven_after_tp1_and_to_tp1_after_tp2",
        rows=LONG_LADDER,
        trades=(
            ExpectedTrade(
                # 0.5 -> TP1 closes 0.125 -> 0.375 -> TP2 closes 25 % = 0.09375 -> 0.093
                exits=(
                    ("exit_brain_tp1", 0.125, 0.101),
                    ("exit_brain_tp2", 0.093, 0.102),
                    ("exit_brain_stop_tp1", 0.282, 0.101),
                ),
                ratchets=((0.05, 0.1, "breakeven"), (0.1, 0.101, "tp1")),
                state={"exit_kind": "stop:tp1"},
                filled_at={"exit_brain_tp2": 3},
            ),
        ),
    ),
    Scenario(
        id="short_on_futures_with_leverage_3_ratchets_like_the_long",
        rows=SHORT_LADDER,
        futures=True,
        leverage=3.0,
        trades=(
            ExpectedTrade(
                # 300 XRP: TP1 closes 75; TP2 closes 25 % of 225 = 56.25 -> 56.2
                exits=(
                    ("exit_brain_tp1", 75.0, 0.99),
                    ("exit_brain_tp2", 56.2, 0.98),
                    ("exit_brain_stop_tp1", pytest.approx(168.8), pytest.approx(0.99, abs=1e-4)),
                ),
                attrs={"is_short": True, "leverage": 3.0},
                ratchets=(
                    (ANY, pytest.approx(1.0), "breakeven"),
                    (ANY, pytest.approx(0.99), "tp1"),
                ),
                state={"exit_kind": "stop:tp1"},
            ),
        ),
        lines=("XRP/USDT:USDT SHORT: SL ratcheted $1.0000 → $0.9900 - TP1 price after TP2 hit",),
    ),
    Scenario(
        id="loss_guard_fires_once_at_the_threshold_price_inside_the_candle_on_a_leveraged_short",
        rows=SHORT_LOSS_GUARD,
        futures=True,
        leverage=3.0,
        trades=(
            ExpectedTrade(
                # the exchange tick rounds the guard price in
                exits=(
                    (
                        "exit_brain_loss_guard",
                        300.0,
                        Between(SHORT_GUARD_PRICE - 0.0001, SHORT_GUARD_PRICE),
                    ),
                ),
                attrs={
                    "exit_reason": "exit_brain_loss_guard",
                    "close_profit": pytest.approx(-0.125, abs=0.0005),
                },
                closed_at=3,
                state={"loss_guard_triggered": True, "exit_kind": "loss_guard"},
            ),
        ),
        lines=("[EXIT_ORDER] ✅ LOSS GUARD MARKET BUY XRP/USDT:USDT 300.0000 executed",),
        line_counts={"LOSS GUARD TRIGGERED": 1},
    ),
    Scenario(
        id="loss_guard_fills_at_the_open_when_the_candle_opens_beyond_it",
        rows=(*SHORT_LOSS_GUARD[:3], C(1.060, 1.070, 1.055, 1.065), *SHORT_LOSS_GUARD[4:]),
        futures=True,
        leverage=3.0,
        trades=(
            ExpectedTrade(
                exits=(("exit_brain_loss_guard", 300.0, 1.06),),
                attrs={"close_profit": pytest.approx(-0.18, abs=0.0005)},
            ),
        ),
    ),
    Scenario(
        id="loss_guard_disabled_leaves_the_strategy_stop_alone",
        rows=SHORT_LOSS_GUARD,
        futures=True,
        leverage=3.0,
        brain={"loss_guard_enabled": False},
        trades=(ExpectedTrade(absent_tags=("exit_brain_loss_guard",)),),
    ),
    Scenario(
        id="profit_of_a_ladder_trade_includes_the_partial_exits",
        rows=LONG_LADDER,
        trades=(
            ExpectedTrade(
                # 0.125 at +1 %, 0.093 at +2 %, 0.282 at +1 % of a 0.05 BTC stake: fee 0.
                attrs={
                    "close_profit_abs": pytest.approx(
                        0.125 * 0.001 + 0.093 * 0.002 + 0.282 * 0.001, rel=1e-6, abs=0
                    )
                },
            ),
        ),
    ),
)

# ---------------------------------------------------------------- fills that never flatter

TRUTHFUL_FILL_SCENARIOS = (
    Scenario(
        id="long_ratcheted_stop_the_candle_opens_below_fills_at_the_open",
        rows=(
            *LONG_ENTRY,
            C(0.0993, 0.1003, 0.0990, 0.0995),  # 3 opens 0.7 % below breakeven, high back above
            C(0.0995, 0.0996, 0.0994, 0.0995),  # 4
        ),
        trades=(
            ExpectedTrade(
                exits=(
                    ("exit_brain_tp1", 0.125, 0.101),
                    ("exit_brain_stop_breakeven", 0.375, 0.0993),
                ),
                closed_at=3,
                state={"exit_kind": "stop:breakeven"},
            ),
        ),
    ),
    Scenario(
        id="long_stop_gap_at_an_open_stored_one_float_step_below_the_tick_fills_on_that_candle",
        rows=(
            *LONG_ENTRY,
            C(below(0.0993), below(0.0993), 0.0990, 0.0991),  # 3 opens at its high below stop
            C(0.0991, 0.0999, 0.0985, 0.0998),  # 4 a later candle must not get the exit
            C(0.0998, 0.0999, 0.0997, 0.0998),  # 5
        ),
        trades=(
            ExpectedTrade(
                exits=(
                    ("exit_brain_tp1", 0.125, 0.101),
                    ("exit_brain_stop_breakeven", 0.375, 0.0993),
                ),
                closed_at=3,
            ),
        ),
    ),
    Scenario(
        id="long_initial_stop_the_candle_opens_below_fills_at_the_open",
        # stoploss -0.5 in the test host: initial stop 0.05; the loss guard is off here.
        brain={"loss_guard_enabled": False},
        rows=(
            C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
            C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; stop 0.05
            C(0.0400, 0.0520, 0.0390, 0.0450),  # 2 opens below 0.05, high back above: open 0.04
            C(0.0450, 0.0460, 0.0440, 0.0450),  # 3
        ),
        trades=(ExpectedTrade(exits=(("exit_brain_stop_initial", 0.5, 0.04),), closed_at=2),),
    ),
    Scenario(
        id="long_loss_guard_gap_at_an_open_stored_one_float_step_below_the_tick_fills_there",
        rows=(
            C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
            C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry; guard price 0.0875 (-12.5 %)
            C(below(0.0870), below(0.0870), 0.0860, 0.0865),  # 2 opens at its high beyond guard
            C(0.0865, 0.0880, 0.0860, 0.0870),  # 3
            C(0.0870, 0.0871, 0.0869, 0.0870),  # 4
        ),
        trades=(ExpectedTrade(exits=(("exit_brain_loss_guard", 0.5, 0.087),), closed_at=2),),
    ),
    Scenario(
        id="long_take_profit_gap_at_an_open_stored_one_float_step_above_the_tick_fills_there",
        rows=(
            C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
            C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry; TP1 0.101 rests
            C(above(0.1015), 0.1018, above(0.1015), 0.1017),  # 2 opens at its low beyond TP1
            C(0.1017, 0.1019, 0.1012, 0.1018),  # 3 TP1 must not wait for this candle
            C(0.1018, 0.1019, 0.1017, 0.1018),  # 4
        ),
        trades=(
            ExpectedTrade(
                exits_start=(("exit_brain_tp1", 0.125, 0.1015),),
                filled_at={"exit_brain_tp1": 2},
            ),
        ),
    ),
    Scenario(
        id="short_ratcheted_stop_the_candle_opens_above_fills_at_the_open",
        futures=True,
        leverage=3.0,
        rows=(
            *SHORT_ENTRY,
            C(1.007, 1.008, 0.998, 1.004),  # 3 opens 0.7 % above breakeven, low back below it
            C(1.004, 1.005, 1.003, 1.004),  # 4
        ),
        trades=(
            ExpectedTrade(
                exits=(
                    ("exit_brain_tp1", 75.0, 0.99),
                    ("exit_brain_stop_breakeven", 225.0, 1.007),
                ),
                closed_at=3,
            ),
        ),
    ),
    Scenario(
        id="short_stop_gap_at_an_open_stored_one_float_step_above_the_tick_fills_on_that_candle",
        futures=True,
        leverage=3.0,
        rows=(
            *SHORT_ENTRY,
            C(above(1.007), 1.009, above(1.007), 1.008),  # 3 opens at its low above breakeven
            C(1.008, 1.009, 1.001, 1.002),  # 4 a later candle must not get the exit
            C(1.002, 1.003, 1.001, 1.002),  # 5
        ),
        trades=(
            ExpectedTrade(
                exits=(
                    ("exit_brain_tp1", 75.0, 0.99),
                    ("exit_brain_stop_breakeven", 225.0, 1.007),
                ),
                closed_at=3,
            ),
        ),
    ),
    Scenario(
        id="short_take_profit_gap_at_an_open_stored_one_float_step_below_the_tick_fills_there",
        futures=True,
        leverage=3.0,
        rows=(
            C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
            C(1.000, 1.002, 0.995, 1.000),  # 1 entry at 1.000 (3x); TP1 0.99 rests
            C(below(0.985), below(0.985), 0.983, 0.984),  # 2 opens at its high beyond TP1
            C(0.984, 0.988, 0.982, 0.983),  # 3 TP1 must not wait for this candle
            C(0.983, 0.984, 0.982, 0.983),  # 4
        ),
        trades=(
            ExpectedTrade(
                exits_start=(("exit_brain_tp1", 75.0, 0.985),),
                filled_at={"exit_brain_tp1": 2},
            ),
        ),
    ),
    # The resting level is exactly the candle's extreme, stored one float step short of it.
    Scenario(
        id="take_profit_touched_at_a_high_stored_one_float_step_off_the_tick_fills_there-long",
        rows=(
            C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),
            C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry; TP1 0.101 rests
            C(0.1005, below(0.101), 0.1004, 0.1008),  # 2 high is TP1, stored one step below
            C(0.1008, 0.1009, 0.1006, 0.1008),  # 3
        ),
        trades=(
            ExpectedTrade(
                exits_start=(("exit_brain_tp1", ANY, 0.101),),
                filled_at={"exit_brain_tp1": 2},
            ),
        ),
    ),
    Scenario(
        id="take_profit_touched_at_a_high_stored_one_float_step_off_the_tick_fills_there-short",
        futures=True,
        leverage=3.0,
        rows=(
            C(1.000, 1.000, 1.000, 1.000, enter_short=1),
            C(1.000, 1.002, 0.995, 1.000),  # 1 entry; TP1 0.99 rests
            C(0.995, 0.996, above(0.99), 0.992),  # 2 low is TP1, stored one step above it
            C(0.992, 0.994, 0.991, 0.993),  # 3
        ),
        trades=(
            ExpectedTrade(
                exits_start=(("exit_brain_tp1", ANY, 0.99),),
                filled_at={"exit_brain_tp1": 2},
            ),
        ),
    ),
)

SCENARIOS = (*LADDER_SCENARIOS, *TRUTHFUL_FILL_SCENARIOS)
