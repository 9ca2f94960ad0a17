"""The held stop is the intended price to the tick in backtests, candle after candle (issue 9).

freqtrade turns the brain's stop ratio back into a price on every call (at the candle's high
for a long, its low for a short) and rounds it to the tick in the trade's favour. A ratio aimed
at the price itself can round one tick tighter on some calls, and the next call starts from
there: the stop creeps and the exit comes early. Here the ratcheted stop must stay exactly at
TP1's price over candles of varied extremes, and the exit must be at that price.
"""

import pytest

from tests.integration.backtest_harness import Candle as C
from tests.integration.backtest_harness import exit_orders, make_config, run_backtest


def _drift(base, sign, count=24):
    # Candles that stay beyond TP1 with a different extreme each time (never the stop).
    rows = []
    for index in range(count):
        extreme = base + sign * (0.0007 + 0.000037 * (index % 9))
        far = max(base, extreme) if sign > 0 else min(base, extreme)
        near = base + sign * 0.0003
        rows.append(C(near, far if sign > 0 else near, near if sign > 0 else far, near))
    return rows


LONG = [
    C(0.1, 0.1, 0.1, 0.1, enter_long=1),  # 0 signal
    C(0.1, 0.1002, 0.0998, 0.1),  # 1 entry at 0.1
    C(0.1, 0.1012, 0.0999, 0.1011),  # 2 TP1 0.101 fills; stop -> 0.1
    C(0.1011, 0.1023, 0.1010, 0.1021),  # 3 TP2 0.102 fills; stop -> 0.101
    *_drift(0.1015, +1),  # highs 0.1022 .. 0.10248: the stop stays 0.101
    C(0.1015, 0.1016, 0.1009, 0.1010),  # stop 0.101 hit
    C(0.1010, 0.1011, 0.1009, 0.1010),
]

SHORT = [
    C(0.1, 0.1, 0.1, 0.1, enter_short=1),  # 0 signal
    C(0.1, 0.1002, 0.0998, 0.1),  # 1 entry at 0.1 (10x)
    C(0.1, 0.1001, 0.0988, 0.0989),  # 2 TP1 0.099 fills; stop -> 0.1
    C(0.0989, 0.0990, 0.0978, 0.0979),  # 3 TP2 0.098 fills; stop -> 0.099
    *_drift(0.0985, -1),  # lows 0.0978 .. 0.09752: the stop stays 0.099
    C(0.0985, 0.0991, 0.0984, 0.0990),  # stop 0.099 hit
    C(0.0990, 0.0991, 0.0989, 0.0990),
]


@pytest.mark.parametrize(
    ("rows", "futures", "stop"),
    [(LONG, False, 0.101), (SHORT, True, 0.099)],
    ids=["spot-long", "futures-short-10x"],
)
def test_the_ratcheted_stop_stays_on_tp1_to_the_tick_and_the_exit_is_there(rows, futures, stop):
    config = make_config(futures=futures, extra={"test_leverage": 10.0} if futures else None)
    run = run_backtest(rows, config)
    (trade,) = run.trades
    orders = exit_orders(trade)
    assert [tag for tag, _, _ in orders] == [
        "exit_brain_tp1",
        "exit_brain_tp2",
        "exit_brain_stop_tp1",
    ]
    assert trade.stop_loss == stop  # exactly the level, not a tick off
    assert orders[-1][2] == stop
    assert trade.exit_reason == "exit_brain_stop_tp1"  # the stop that fired: TP1's price
    assert run.states[trade.id]["exit_kind"] == "stop:tp1"
