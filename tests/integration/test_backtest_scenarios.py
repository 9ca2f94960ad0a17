"""freqtrade's own Backtesting on hand-built candles: fills, tags, ratchets, loss guard.

One parametrized runner plays every row of the scenario tables (``scenarios_ladder.py``,
``scenarios_fills.py``: candles, settings, expected trades; types in ``scenarios.py``), as
freqtrade's own
``tests/optimize/test_backtest_detail.py`` does. Scenarios that need more than candles and
settings (here: a ``--timeframe-detail`` replay compared with the plain run) are plain tests
below the runner.
"""

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
from tests.integration.scenarios import ExpectedTrade, Scenario
from tests.integration.scenarios_fills import TRUTHFUL_FILL_SCENARIOS
from tests.integration.scenarios_ladder import LADDER_SCENARIOS, STOP_TICK_SCENARIOS


SCENARIOS = (*LADDER_SCENARIOS, *STOP_TICK_SCENARIOS, *TRUTHFUL_FILL_SCENARIOS)


def _date(run, index: int) -> pd.Timestamp:
    return run.frame["date"].iloc[index]


def _filled_at(trade, tag: str) -> pd.Timestamp:
    order = next(o for o in trade.orders if o.ft_order_tag == tag and (o.safe_filled or 0) > 0)
    return pd.Timestamp(order.order_filled_utc)


def _config(scenario: Scenario):
    leverage = {"test_leverage": scenario.leverage} if scenario.leverage is not None else None
    config = make_config(futures=scenario.futures, extra=leverage)
    config["exit_brain"] = {**config["exit_brain"], **scenario.brain}
    return config


def _check_trade(run, trade, expected: ExpectedTrade) -> None:
    orders = exit_orders(trade)
    if expected.exits is not None:
        assert orders == list(expected.exits)
    assert orders[: len(expected.exits_start)] == list(expected.exits_start)
    assert [tag for tag, _, _ in orders if tag in expected.absent_tags] == []
    for tag, index in expected.filled_at.items():
        assert _filled_at(trade, tag) == _date(run, index), tag
    if expected.closed_at is not None:
        assert pd.Timestamp(trade.close_date_utc) == _date(run, expected.closed_at)
    for name, value in expected.attrs.items():
        assert getattr(trade, name) == value, name
    state = run.states[trade.id]
    for name, value in expected.state.items():
        assert state[name] == value, name
    if expected.ratchets is not None:
        assert [tuple(r[1:]) for r in state["ratchets"]] == list(expected.ratchets)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
def test_scenario(scenario: Scenario, caplog):
    run = run_backtest(list(scenario.rows), _config(scenario))
    assert len(run.trades) == len(scenario.trades)
    for trade, expected in zip(run.trades, scenario.trades, strict=True):
        _check_trade(run, trade, expected)
    for line in scenario.lines:
        assert line in caplog.text
    for line, count in scenario.line_counts.items():
        assert caplog.text.count(line) == count, line


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
