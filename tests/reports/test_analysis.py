"""The summary's rules on hand-made trade records (no freqtrade needed)."""

import pytest

from exit_brain_plugin.core import parse_config
from exit_brain_plugin.reports.analysis import day_colour, summarize
from exit_brain_plugin.reports.records import OrderRecord, TradeRecord
from exit_brain_plugin.reports.replay import replay_trade


def _trade(*exits, day="2024-01-01", entry=100.0, amount=10.0, short=False, stop=90.0, reason):
    orders = [OrderRecord(tag="", is_entry=True, amount=amount, price=entry, timestamp_ms=1)]
    orders += [
        OrderRecord(tag=tag, is_entry=False, amount=size, price=price, timestamp_ms=2 + index)
        for index, (tag, size, price) in enumerate(exits)
    ]
    return TradeRecord(
        pair="ETH/USDT",
        is_short=short,
        leverage=1.0,
        open_rate=entry,
        open_date=f"{day} 00:00:00+00:00",
        close_date=f"{day} 05:00:00+00:00",
        profit_ratio=0.0,
        profit_abs=0.0,
        exit_reason=reason,
        orders=tuple(orders),
        initial_stop_price=stop,
        price_step=0.01,
    )


@pytest.mark.parametrize(
    ("fires", "colour"),
    [(0, "green"), (5, "green"), (6, "yellow"), (10, "yellow"), (11, "red"), (40, "red")],
)
def test_day_colours(fires, colour):
    assert day_colour(fires) == colour


def test_loss_guard_fires_per_day_and_the_quiet_days_between():
    guard = ("exit_brain_loss_guard", 10.0, 87.5)
    trades = (
        [_trade(guard, day="2024-01-01", reason="exit_brain_loss_guard")] * 6
        + [_trade(guard, day="2024-01-03", reason="exit_brain_loss_guard")] * 11
        + [_trade(guard, day="2024-01-05", reason="exit_brain_loss_guard")] * 5
    )
    summary = summarize(trades, parse_config({})).to_json()
    assert summary["loss_guard_fires"] == 22
    assert summary["loss_guard_by_day"] == {
        "2024-01-01": {"fires": 6, "colour": "yellow"},
        "2024-01-03": {"fires": 11, "colour": "red"},
        "2024-01-05": {"fires": 5, "colour": "green"},
    }
    assert summary["loss_guard_quiet_days"] == 2  # 01-02 and 01-04
    assert summary["stop_exits"] == {"initial": 0, "breakeven": 0, "tp1": 0}  # not stops


def test_step_rule_ratchets_to_the_previous_level_and_names_the_stop_after_it():
    config = parse_config({"ratchet_rule": "step"})
    trade = _trade(
        ("exit_brain_tp1", 2.5, 101.0),
        ("exit_brain_tp2", 1.875, 102.0),
        ("exit_brain_tp3", 2.8125, 104.0),
        ("stop_loss", 2.8125, 102.0),
        reason="stop_loss",
    )
    replay = replay_trade(trade, config)
    assert [level.price for level in replay.levels] == [101.0, 102.0, 104.0]
    assert [(e.reason, e.new_price) for e in replay.ratchets] == [
        ("breakeven", 100.0),
        ("tp1", 101.0),
        ("tp2", 102.0),
    ]
    assert [price for _, price in replay.stops] == [90.0, 100.0, 101.0, 102.0]
    summary = summarize([trade], config).to_json()
    assert summary["stop_exits"] == {"initial": 0, "breakeven": 0, "tp1": 0, "tp2": 1}
    # The last move (to TP2's price 102) guarantees +2 on the 2.8125 still open then.
    assert summary["profit_locked"] == {"tp2": pytest.approx((102.0 - 100.0) * 2.8125)}


def test_ratchet_offset_and_a_short_lock_in_the_trades_favour():
    config = parse_config({"ratchet_offset": 0.002})
    trade = _trade(
        ("exit_brain_tp1", 2.5, 99.0),
        ("stop_loss", 7.5, 99.8),
        short=True,
        stop=110.0,
        reason="stop_loss",
    )
    (event,) = replay_trade(trade, config).ratchets
    assert (event.reason, event.new_price) == ("breakeven", pytest.approx(99.8))
    summary = summarize([trade], config).to_json()
    assert summary["stop_exits"]["breakeven"] == 1
    # Breakeven + 0.2 % for a short: 99.8 guarantees 0.2 on each of the 7.5 still open.
    assert summary["profit_locked"]["breakeven"] == pytest.approx((100.0 - 99.8) * 7.5)


def test_without_the_ratchet_every_stop_is_the_initial_one_and_locks_nothing():
    config = parse_config({"ratchet_sl_enabled": False})
    trade = _trade(("exit_brain_tp1", 2.5, 101.0), ("stop_loss", 7.5, 90.0), reason="stop_loss")
    summary = summarize([trade], config).to_json()
    assert summary["ratchets"] == {}
    assert summary["stop_exits"] == {"initial": 1}
    assert summary["profit_locked"] == {}
    assert summary["tp_hits"]["tp1"] == 1


def test_open_positions_are_counted_apart():
    closed = _trade(("exit_signal", 10.0, 101.0), reason="exit_signal")
    still_open = TradeRecord(**{**_fields(closed), "is_open": True, "close_date": None})
    summary = summarize([closed, still_open], parse_config({}))
    assert (summary.trades, summary.open_positions) == (1, 1)


def _fields(trade):
    return {name: getattr(trade, name) for name in TradeRecord.__dataclass_fields__}
