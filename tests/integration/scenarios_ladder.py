"""Scenario table: take-profit ladders, ratchets, the loss guard and the held stop.

Rows of :class:`~tests.integration.scenarios.Scenario` (rules in ``scenarios.py``), run by
``test_backtest_scenarios.py``.
"""

from unittest.mock import ANY

import pytest

from tests.integration.backtest_harness import Candle as C
from tests.integration.scenarios import (
    LONG_GAP,
    LONG_LADDER,
    LONG_TP_INSIDE,
    SHORT_GUARD_PRICE,
    SHORT_LADDER,
    SHORT_LOSS_GUARD,
    Between,
    ExpectedTrade,
    Scenario,
)


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

# ---------------------------------------------------------------- the held stop, to the tick
# freqtrade turns the brain's stop ratio back into a price on every call (at the candle's high
# for a long, its low for a short) and rounds it to the tick in the trade's favour. A ratio
# aimed at the price itself can round one tick tighter on some calls, and the next call starts
# from there: the stop creeps and the exit comes early. The ratcheted stop must stay exactly at
# TP1's price over candles of varied extremes, and the exit must be at that price (issue 9).


def _drift(base: float, sign: int, count: int = 24) -> tuple[C, ...]:
    # Candles that stay beyond TP1 with a different extreme each time (never the stop).
    rows = []
    for index in range(count):
        extreme = base + sign * (0.0007 + 0.000037 * (index % 9))
        far = max(base, extreme) if sign > 0 else min(base, extreme)
        near = base + sign * 0.0003
        rows.append(C(near, far if sign > 0 else near, near if sign > 0 else far, near))
    return tuple(rows)


def _stays_on_tp1(stop: float) -> ExpectedTrade:
    return ExpectedTrade(
        exits=(
            ("exit_brain_tp1", ANY, ANY),
            ("exit_brain_tp2", ANY, ANY),
            ("exit_brain_stop_tp1", ANY, stop),  # exactly the level, not a tick off
        ),
        attrs={"stop_loss": stop, "exit_reason": "exit_brain_stop_tp1"},
        state={"exit_kind": "stop:tp1"},
    )


STOP_TICK_SCENARIOS = (
    Scenario(
        id="the_ratcheted_stop_stays_on_tp1_to_the_tick_and_the_exit_is_there-spot-long",
        rows=(
            C(0.1, 0.1, 0.1, 0.1, enter_long=1),  # 0 signal
            C(0.1, 0.1002, 0.0998, 0.1),  # 1 entry at 0.1
            C(0.1, 0.1012, 0.0999, 0.1011),  # 2 TP1 0.101 fills; stop -> 0.1
            C(0.1011, 0.1023, 0.1010, 0.1021),  # 3 TP2 0.102 fills; stop -> 0.101
            *_drift(0.1015, +1),  # highs 0.1022 .. 0.10248: the stop stays 0.101
            C(0.1015, 0.1016, 0.1009, 0.1010),  # stop 0.101 hit
            C(0.1010, 0.1011, 0.1009, 0.1010),
        ),
        trades=(_stays_on_tp1(0.101),),
    ),
    Scenario(
        id="the_ratcheted_stop_stays_on_tp1_to_the_tick_and_the_exit_is_there-futures-short-10x",
        futures=True,
        leverage=10.0,
        rows=(
            C(0.1, 0.1, 0.1, 0.1, enter_short=1),  # 0 signal
            C(0.1, 0.1002, 0.0998, 0.1),  # 1 entry at 0.1 (10x)
            C(0.1, 0.1001, 0.0988, 0.0989),  # 2 TP1 0.099 fills; stop -> 0.1
            C(0.0989, 0.0990, 0.0978, 0.0979),  # 3 TP2 0.098 fills; stop -> 0.099
            *_drift(0.0985, -1),  # lows 0.0978 .. 0.09752: the stop stays 0.099
            C(0.0985, 0.0991, 0.0984, 0.0990),  # stop 0.099 hit
            C(0.0990, 0.0991, 0.0989, 0.0990),
        ),
        trades=(_stays_on_tp1(0.099),),
    ),
)
