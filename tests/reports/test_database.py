"""``exit-brain report`` on a real freqtrade trade database (SQLite written by freqtrade).

The database is made with freqtrade's own persistence (``init_db``, ``Trade``/``Order``
committed, ``set_custom_data``); the brain's stored states come from the core.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from exit_brain_plugin.adapter.tools.cli import main
from exit_brain_plugin.core import (
    Fill,
    FillKind,
    PositionOpen,
    Side,
    apply_fill,
    create_state,
    parse_config,
    to_json_dict,
)
from tests.reports.orders import filled_order


START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CONFIG = parse_config({})


def _state(pair, side, entry, amount, stop, step, fills):
    """Return the brain's state after ``fills`` ((kind, legs, amount, price, reason))."""
    opening = PositionOpen(
        pair=pair,
        side=side,
        entry_price=entry,
        amount=amount,
        initial_stop_price=stop,
        price_step=step,
    )
    state = create_state(opening, CONFIG).state
    for number, (kind, legs, filled, price, reason) in enumerate(fills):
        fill = Fill(
            kind=kind,
            filled_amount=filled,
            price=price,
            order_id=str(number),
            legs=legs,
            reason=reason,
        )
        state = apply_fill(state, fill, CONFIG).state
    return state


def _order(trade, side, tag, amount, price, minutes):
    return filled_order(
        trade,
        side=side,
        tag=tag,
        amount=amount,
        price=price,
        at=START + timedelta(minutes=minutes),
        order_id=f"{trade.pair}-{minutes}",
    )


def _trade(
    pair,
    *,
    short=False,
    leverage=1.0,
    open_rate,
    amount,
    stop,
    day=0,
    closed=True,
    profit=0.0,
    exit_reason=None,
    futures=False,
    step,
):
    from freqtrade.enums import TradingMode
    from freqtrade.persistence import Trade

    opened = (START + timedelta(days=day)).replace(tzinfo=None)
    return Trade(
        pair=pair,
        exchange="binance",
        stake_amount=amount * open_rate / leverage,
        amount=amount,
        open_rate=open_rate,
        open_date=opened,
        fee_open=0.0,
        fee_close=0.0,
        is_open=not closed,
        close_date=opened + timedelta(hours=5) if closed else None,
        close_profit=profit / (amount * open_rate / leverage) if closed else None,
        close_profit_abs=profit if closed else None,
        exit_reason=exit_reason,
        initial_stop_loss=stop,
        stop_loss=stop,
        is_short=short,
        leverage=leverage,
        amount_precision=step[1],
        price_precision=step[0],
        precision_mode=4,
        precision_mode_price=4,
        strategy="ExitBrainSampleStrategy",
        timeframe=5,
        trading_mode=TradingMode.FUTURES if futures else TradingMode.SPOT,
    )


@pytest.fixture
def trade_db(tmp_path):
    """A dry-run database: a breakeven stop, a loss-guard close, a short stopped at TP1, and
    an open trade. The first and third carry the brain's state."""
    pytest.importorskip("freqtrade")
    from freqtrade.persistence import Trade, init_db
    from freqtrade.persistence.usedb_context import enable_database_use

    enable_database_use()  # a backtest earlier in this process may have turned it off
    path = tmp_path / "tradesv3.dryrun.sqlite"
    init_db(f"sqlite:///{path}")
    spot = (1e-6, 0.001)
    # 1: long ETH/BTC, TP1 0.125 @ 0.101, stopped at breakeven 0.1 (0.375).
    one = _trade(
        "ETH/BTC",
        open_rate=0.1,
        amount=0.5,
        stop=0.08,
        step=spot,
        profit=0.125 * 0.001,
        exit_reason="stop_loss",
    )
    one.orders = [
        _order(one, "buy", "ema_cross_up", 0.5, 0.1, 0),
        _order(one, "sell", "exit_brain_tp1", 0.125, 0.101, 60),
        _order(one, "sell", "stop_loss", 0.375, 0.1, 120),
    ]
    # 2: long LTC/BTC closed whole by the loss guard on day 1 (no stored state).
    two = _trade(
        "LTC/BTC",
        open_rate=0.02,
        amount=2.5,
        stop=0.016,
        day=1,
        step=spot,
        profit=2.5 * (0.0175 - 0.02),
        exit_reason="exit_brain_loss_guard",
    )
    two.orders = [
        _order(two, "buy", "ema_cross_up", 2.5, 0.02, 1440),
        _order(two, "sell", "exit_brain_loss_guard", 2.5, 0.0175, 1500),
    ]
    # 3: short XRP futures at 3x: TP1 75 @ 0.99, TP2 56.2 @ 0.98, stopped at TP1's price.
    three = _trade(
        "XRP/USDT:USDT",
        short=True,
        leverage=3.0,
        open_rate=1.0,
        amount=300.0,
        stop=1.0667,
        futures=True,
        step=(1e-4, 0.1),
        exit_reason="stop_loss",
        profit=75 * 0.01 + 56.2 * 0.02 + 168.8 * 0.01,
    )
    three.orders = [
        _order(three, "sell", "ema_cross_down", 300.0, 1.0, 10),
        _order(three, "buy", "exit_brain_tp1", 75.0, 0.99, 70),
        _order(three, "buy", "exit_brain_tp2", 56.2, 0.98, 130),
        _order(three, "buy", "stop_loss", 168.8, 0.99, 190),
    ]
    # 4: still open.
    four = _trade("ETH/BTC", open_rate=0.1, amount=0.5, stop=0.08, closed=False, day=2, step=spot)
    four.orders = [_order(four, "buy", "ema_cross_up", 0.5, 0.1, 2880)]
    for trade in (one, two, three, four):
        Trade.session.add(trade)
    Trade.commit()
    tp, stop = FillKind.TAKE_PROFIT, FillKind.STOP
    one.set_custom_data(
        "exit_brain",
        to_json_dict(
            _state(
                "ETH/BTC",
                Side.LONG,
                0.1,
                0.5,
                0.08,
                1e-6,
                [(tp, (1,), 0.125, 0.101, "exit_brain_tp1"), (stop, (), 0.375, 0.1, "breakeven")],
            )
        ),
    )
    three.set_custom_data(
        "exit_brain",
        to_json_dict(
            _state(
                "XRP/USDT:USDT",
                Side.SHORT,
                1.0,
                300.0,
                1.0667,
                1e-4,
                [
                    (tp, (1,), 75.0, 0.99, "exit_brain_tp1"),
                    (tp, (2,), 56.2, 0.98, "exit_brain_tp2"),
                    (stop, (), 168.8, 0.99, "tp1"),
                ],
            )
        ),
    )
    yield path
    Trade.session.remove()


def test_report_reads_trades_orders_and_the_stored_states(trade_db, capsys):
    assert main(["report", str(trade_db), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out).values()
    assert summary["trades"] == 3
    assert summary["open_positions"] == 1
    assert summary["tp_hits"] == {"tp1": 2, "tp2": 1, "tp3": 0}
    assert summary["tp_conditional_rates"] == {"tp1": 0.6667, "tp2|tp1": 0.5, "tp3|tp2": 0.0}
    assert summary["ratchets"] == {"breakeven": 2, "tp1": 1}
    moves = [
        (e["pair"], e["old_price"], e["new_price"], e["reason"]) for e in summary["ratchet_events"]
    ]
    assert moves == [
        ("ETH/BTC", 0.08, 0.1, "breakeven"),
        ("XRP/USDT:USDT", 1.0667, 1.0, "breakeven"),
        ("XRP/USDT:USDT", 1.0, 0.99, "tp1"),
    ]
    # Times of the moves: the fills that caused them (order_filled_date).
    first = datetime.fromtimestamp(summary["ratchet_events"][0]["timestamp_ms"] / 1000, UTC)
    assert first == START + timedelta(minutes=60)
    assert summary["stop_exits"] == {"initial": 0, "breakeven": 1, "tp1": 1}
    assert summary["loss_guard_by_day"] == {"2026-03-03": {"fires": 1, "colour": "green"}}
    assert summary["profit_locked"]["breakeven"] == pytest.approx(0.0)
    # A short stopped at TP1 (0.99) keeps 0.01 on each of the 168.8 still open.
    assert summary["profit_locked"]["tp1"] == pytest.approx((1.0 - 0.99) * 168.8)
    assert summary["win_rate"] == pytest.approx(2 / 3, abs=1e-4)


def test_an_empty_database_and_a_foreign_sqlite_file_are_one_line_errors(tmp_path, capsys):
    pytest.importorskip("freqtrade")
    import sqlite3

    from freqtrade.persistence import Trade, init_db

    empty = tmp_path / "empty.sqlite"
    init_db(f"sqlite:///{empty}")
    Trade.session.remove()
    foreign = tmp_path / "notes.db"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE notes (text TEXT)")
    assert main(["report", str(empty)]) == 2
    assert main(["report", str(foreign)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        f"exit-brain: {empty}: the database holds no trades",
        f"exit-brain: {foreign}: not a freqtrade trade database (no such table: trades)",
    ]


def test_report_takes_the_database_as_a_sqlite_url_too(trade_db, capsys):
    assert main(["report", str(trade_db), "--json"]) == 0
    by_path = json.loads(capsys.readouterr().out)
    assert main(["report", f"sqlite:///{trade_db}", "--json"]) == 0
    (by_url,) = json.loads(capsys.readouterr().out).values()
    assert by_url == next(iter(by_path.values()))
    assert by_url["trades"] == 3
