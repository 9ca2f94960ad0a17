"""Scenario table: backtest fills that never flatter (docs/behaviour.md §6).

- A stop the candle opens beyond (initial, ratcheted, loss guard) fills at that open, not at
  the stop price the candle's extreme comes back to.
- A candle whose open is also its high or low, stored one float step off the exchange's tick
  (``numpy.nextafter``), fills an exit priced at that open on that candle.

Rows of :class:`~tests.integration.scenarios.Scenario` (rules in ``scenarios.py``), run by
``test_backtest_scenarios.py``; the fill tests that need a second run or a patched rule are in
``test_truthful_fills.py``.
"""

from unittest.mock import ANY

from tests.integration.backtest_harness import Candle as C
from tests.integration.scenarios import (
    LONG_ENTRY,
    SHORT_ENTRY,
    ExpectedTrade,
    Scenario,
    above,
    below,
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
