"""freqtrade's own Backtesting on hand-built candles: fills, tags, ratchets, loss guard.

Each table row is one candle: ``C(open, high, low, close, signals)``; the comment says what
should happen on it. freqtrade enters at the open of the candle after the signal.
"""

import math

import pandas as pd
import pytest

from tests.integration.backtest_harness import (
    Candle as C,
)
from tests.integration.backtest_harness import (
    candles_frame,
    exit_orders,
    make_config,
    run_backtest,
)


def _date(run, index: int) -> pd.Timestamp:
    return run.frame["date"].iloc[index]


def _filled_at(trade, tag: str) -> pd.Timestamp:
    order = next(o for o in trade.orders if o.ft_order_tag == tag and (o.safe_filled or 0) > 0)
    return pd.Timestamp(order.order_filled_utc)


LONG_TP_INSIDE = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1015, 0.0999, 0.1010),  # 2 TP1 touched inside: fills at exactly 0.101
    C(0.1010, 0.1012, 0.1003, 0.1005),  # 3 nothing
    C(0.1005, 0.1006, 0.0998, 0.0999),  # 4 breakeven stop 0.1000 hit
    C(0.0999, 0.1000, 0.0998, 0.0999),  # 5
]


def test_tp_touched_inside_a_candle_fills_at_exactly_the_tp_price(caplog):
    run = run_backtest(LONG_TP_INSIDE, make_config())
    (trade,) = run.trades
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 0.125, 0.101),
        ("exit_brain_stop_breakeven", 0.375, 0.1),
    ]
    assert _filled_at(trade, "exit_brain_tp1") == _date(run, 2)
    state = run.states[trade.id]
    assert state["tp_hits_count"] == 1
    assert state["triggered_legs"] == [1]
    assert state["exit_kind"] == "stop:breakeven"
    assert (
        "[EXIT_RATCHET_SL] 🎯 ETH/BTC LONG: SL ratcheted $0.0500 → $0.1000 - "
        "breakeven after TP1 (tp_hits=1)" in caplog.text
    )


LONG_GAP = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000
    C(0.1025, 0.1030, 0.1022, 0.1028),  # 2 opens beyond TP1 0.101 and TP2 0.102: one exit at 0.1025
    C(0.1028, 0.1030, 0.1015, 0.1020),  # 3 stop now at TP1's price 0.101: not hit
    C(0.1020, 0.1021, 0.1005, 0.1006),  # 4 stop 0.101 hit
    C(0.1006, 0.1007, 0.1004, 0.1005),  # 5
]


def test_candle_opening_beyond_two_levels_fills_at_its_open_and_counts_two_hits(caplog):
    run = run_backtest(LONG_GAP, make_config())
    (trade,) = run.trades
    # 0.5 × (1 − 0.75 × 0.75) = 0.21875, truncated to the 0.001 step.
    assert exit_orders(trade) == [
        ("exit_brain_tp1+tp2", 0.218, 0.1025),
        ("exit_brain_stop_tp1", 0.282, 0.101),
    ]
    assert _filled_at(trade, "exit_brain_tp1+tp2") == _date(run, 2)
    state = run.states[trade.id]
    assert state["tp_hits_count"] == 2
    assert state["triggered_legs"] == [1, 2]
    assert state["active_sl"] == pytest.approx(0.101)
    assert state["exit_kind"] == "stop:tp1"
    assert "TP1 price after TP2 hit (tp_hits=2)" in caplog.text


LONG_LADDER = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000
    C(0.1000, 0.1012, 0.1001, 0.1010),  # 2 TP1 0.101 fills; stop -> 0.1000 (breakeven)
    C(0.1010, 0.1021, 0.1005, 0.1019),  # 3 TP2 0.102 fills; stop -> 0.101 (TP1's price)
    C(0.1019, 0.1019, 0.1012, 0.1013),  # 4 nothing (low above 0.101)
    C(0.1013, 0.1014, 0.1008, 0.1009),  # 5 stop 0.101 hit
    C(0.1009, 0.1010, 0.1008, 0.1009),  # 6
]


def test_long_ratchets_to_breakeven_after_tp1_and_to_tp1_after_tp2():
    run = run_backtest(LONG_LADDER, make_config())
    (trade,) = run.trades
    # 0.5 -> TP1 closes 0.125 -> 0.375 -> TP2 closes 25 % = 0.09375 -> 0.093 (step 0.001)
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 0.125, 0.101),
        ("exit_brain_tp2", 0.093, 0.102),
        ("exit_brain_stop_tp1", 0.282, 0.101),
    ]
    state = run.states[trade.id]
    assert [r[1:] for r in state["ratchets"]] == [[0.05, 0.1, "breakeven"], [0.1, 0.101, "tp1"]]
    assert state["exit_kind"] == "stop:tp1"
    assert _filled_at(trade, "exit_brain_tp2") == _date(run, 3)


SHORT_LADDER = [
    C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
    C(1.000, 1.002, 0.995, 1.000),  # 1 entry at 1.000 (3x)
    C(1.000, 1.001, 0.989, 0.990),  # 2 TP1 0.99 fills; stop -> 1.000 (breakeven)
    C(0.990, 0.995, 0.979, 0.981),  # 3 TP2 0.98 fills; stop -> 0.99 (TP1's price)
    C(0.981, 0.988, 0.978, 0.985),  # 4 nothing (high below 0.99)
    C(0.985, 0.992, 0.984, 0.991),  # 5 stop 0.99 hit
    C(0.991, 0.992, 0.990, 0.991),  # 6
]


def test_short_on_futures_with_leverage_3_ratchets_like_the_long(caplog):
    run = run_backtest(SHORT_LADDER, make_config(futures=True, extra={"test_leverage": 3.0}))
    (trade,) = run.trades
    assert trade.is_short
    assert trade.leverage == 3.0
    # 100 USDT × 3 / 1.0 = 300 XRP: TP1 closes 75; TP2 closes 25 % of 225 = 56.25 -> 56.2
    orders = exit_orders(trade)
    assert [tag for tag, _, _ in orders] == [
        "exit_brain_tp1",
        "exit_brain_tp2",
        "exit_brain_stop_tp1",
    ]
    assert [amount for _, amount, _ in orders] == [75.0, 56.2, pytest.approx(168.8)]
    assert [price for _, _, price in orders] == [0.99, 0.98, pytest.approx(0.99, abs=1e-4)]
    state = run.states[trade.id]
    assert [r[3] for r in state["ratchets"]] == ["breakeven", "tp1"]
    assert state["ratchets"][0][2] == pytest.approx(1.0)
    assert state["ratchets"][1][2] == pytest.approx(0.99)
    assert state["exit_kind"] == "stop:tp1"
    assert (
        "XRP/USDT:USDT SHORT: SL ratcheted $1.0000 → $0.9900 - TP1 price after TP2 hit"
        in caplog.text
    )


SHORT_LOSS_GUARD = [
    C(1.000, 1.000, 1.000, 1.000, enter_short=1),  # 0 signal
    C(1.000, 1.004, 0.997, 1.002),  # 1 entry at 1.000 (3x); guard price ~1.0417 (-12.5 % PnL)
    C(1.010, 1.030, 1.005, 1.020),  # 2 PnL at high -9 %: nothing
    C(1.020, 1.060, 1.015, 1.055),  # 3 high crosses the guard price: closes there, inside
    C(1.055, 1.070, 1.050, 1.060),  # 4
    C(1.060, 1.070, 1.050, 1.060),  # 5
]


def test_loss_guard_fires_once_at_the_threshold_price_inside_the_candle_on_a_leveraged_short(
    caplog,
):
    run = run_backtest(SHORT_LOSS_GUARD, make_config(futures=True, extra={"test_leverage": 3.0}))
    (trade,) = run.trades
    guard_price = 1.0 * (1 + 0.125 / 3)
    ((tag, amount, price),) = exit_orders(trade)
    assert tag == "exit_brain_loss_guard"
    assert trade.exit_reason == "exit_brain_loss_guard"
    assert amount == 300.0
    assert guard_price - 0.0001 <= price <= guard_price  # the exchange tick rounds it in
    assert trade.close_profit == pytest.approx(-0.125, abs=0.0005)
    assert pd.Timestamp(trade.close_date_utc) == _date(run, 3)
    state = run.states[trade.id]
    assert state["loss_guard_triggered"] is True
    assert state["exit_kind"] == "loss_guard"
    assert caplog.text.count("LOSS GUARD TRIGGERED") == 1
    assert "[EXIT_ORDER] ✅ LOSS GUARD MARKET BUY XRP/USDT:USDT 300.0000 executed" in caplog.text


def test_loss_guard_fills_at_the_open_when_the_candle_opens_beyond_it():
    rows = [*SHORT_LOSS_GUARD[:3], C(1.060, 1.070, 1.055, 1.065), *SHORT_LOSS_GUARD[4:]]
    run = run_backtest(rows, make_config(futures=True, extra={"test_leverage": 3.0}))
    (trade,) = run.trades
    assert exit_orders(trade) == [("exit_brain_loss_guard", 300.0, 1.06)]
    assert trade.close_profit == pytest.approx(-0.18, abs=0.0005)


def test_loss_guard_disabled_leaves_the_strategy_stop_alone():
    config = make_config(futures=True, extra={"test_leverage": 3.0})
    config["exit_brain"] = {**config["exit_brain"], "loss_guard_enabled": False}
    run = run_backtest(SHORT_LOSS_GUARD, config)
    (trade,) = run.trades
    assert all(tag != "exit_brain_loss_guard" for tag, _, _ in exit_orders(trade))


def _detail_rows(main_rows, detail_by_index, *, minutes=15):
    """Spread each main candle into four 15m candles (explicit ones where given)."""
    rows = []
    for index, candle in enumerate(main_rows):
        parts = (
            detail_by_index.get(index)
            or [(candle.open, candle.high, candle.low, candle.close)]
            + [(candle.close, candle.close, candle.close, candle.close)] * 3
        )
        rows.extend(parts)
    frame = candles_frame([C(*part) for part in rows], timeframe=f"{minutes}min")
    return frame[["date", "open", "high", "low", "close", "volume"]]


def test_timeframe_detail_fills_two_levels_touched_inside_one_main_candle():
    main = [
        C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
        C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry
        C(0.1000, 0.1025, 0.1000, 0.1020),  # 2 touches TP1 then TP2 inside the hour
        C(0.1020, 0.1022, 0.1015, 0.1018),  # 3
        C(0.1018, 0.1019, 0.1012, 0.1015),  # 4
    ]
    detail = {
        2: [
            (0.1000, 0.1005, 0.1000, 0.1004),  # 00:00
            (0.1004, 0.1012, 0.1004, 0.1011),  # 00:15 TP1 0.101
            (0.1011, 0.1025, 0.1011, 0.1022),  # 00:30 TP2 0.102
            (0.1022, 0.1023, 0.1019, 0.1020),
        ]
    }  # 00:45
    plain = run_backtest(main, make_config())
    config = make_config(extra={"timeframe_detail": "15m"})
    detailed = run_backtest(main, config, detail=_detail_rows(main, detail))
    detail_orders = exit_orders(detailed.trades[0])
    # Without detail one candle fills one level: TP2 waits for the next candle that touches it.
    assert _filled_at(plain.trades[0], "exit_brain_tp1") == _date(plain, 2)
    assert _filled_at(plain.trades[0], "exit_brain_tp2") == _date(plain, 3)
    assert detail_orders[:2] == [("exit_brain_tp1", 0.125, 0.101), ("exit_brain_tp2", 0.093, 0.102)]
    tp1_at = _filled_at(detailed.trades[0], "exit_brain_tp1")
    tp2_at = _filled_at(detailed.trades[0], "exit_brain_tp2")
    assert tp1_at == _date(detailed, 2) + pd.Timedelta(minutes=15)
    assert tp2_at == _date(detailed, 2) + pd.Timedelta(minutes=30)


def test_profit_of_a_ladder_trade_includes_the_partial_exits():
    run = run_backtest(LONG_LADDER, make_config())
    (trade,) = run.trades
    # 0.125 at +1 %, 0.093 at +2 %, 0.282 at +1 % of a 0.05 BTC stake: fee 0.
    expected = 0.125 * 0.001 + 0.093 * 0.002 + 0.282 * 0.001
    assert math.isclose(trade.close_profit_abs, expected, rel_tol=1e-6)
