"""Recorded ETH/BTC candles (13 Jan 2018, a 4 % rally) replayed tick by tick through the bot.

Each recorded 5m candle becomes four ticks (open, the nearer extreme, the other, close). After
every bot loop: the brain's remaining size equals freqtrade's trade amount, the stop never
loosens, and each level fills once, in order, at a price at or beyond it.
"""

import pytest

from tests.live.bot_harness import (
    RALLY_START,
    LiveHarness,
    exit_orders,
    iterate_ticks,
    recorded_candles,
)


def test_a_recorded_rally_walks_the_ladder_once_with_the_state_matching_every_loop(
    tmp_path, monkeypatch
):
    candles = recorded_candles()
    entry = float(candles["close"].iloc[RALLY_START])
    live = LiveHarness(tmp_path, monkeypatch, price=entry, recorded_end=RALLY_START)
    try:
        live.start_bot()
        trade = live.open_trade()
        assert trade.open_rate == pytest.approx(entry)
        levels = [level[0] for level in live.state()["tp_levels"]]
        stops = [trade.stop_loss]
        for price in iterate_ticks(candles.iloc[RALLY_START + 1 : RALLY_START + 61]):
            live.step(price, seconds=75)
            trade = live.trade()
            stops.append(trade.stop_loss)
            state = live.state()
            if trade.is_open:
                assert state["remaining_size"] == pytest.approx(trade.amount)
        assert stops == sorted(stops)  # the stop only tightened

        fills = [o for o in trade.orders if o.ft_order_side == "sell" and o.safe_filled]
        tp_fills = [o for o in fills if (o.ft_order_tag or "").startswith("exit_brain_tp")]
        assert [o.ft_order_tag for o in tp_fills] == [
            "exit_brain_tp1",
            "exit_brain_tp2",
            "exit_brain_tp3",
        ]
        for order, level in zip(tp_fills, levels, strict=True):
            assert order.safe_price >= level
        state = live.state()
        assert state["triggered_legs"] == [1, 2, 3]
        assert state["sl_reason"] == "tp1"
        assert trade.stop_loss == pytest.approx(levels[0])
        # 0.05 BTC / 0.0937: 0.533 ETH; 25 %, 25 % of the rest, then half of that.
        assert [amount for _, _, amount in exit_orders(trade)][:3] == [0.133, 0.1, 0.15]
    finally:
        live.close()
