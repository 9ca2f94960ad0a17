"""``stoploss_on_exchange: true``: the stop the brain ratchets is the stop order on the exchange.

Binance spot: a stop order blocks the assets, so freqtrade cancels it before every exit and
places a new one, for the new amount at the current stop, on the next loop.
"""

import pytest

from tests.live.bot_harness import exit_orders, stoploss_orders


ON_EXCHANGE = {
    "order_types": {
        "entry": "limit",
        "exit": "market",
        "stoploss": "limit",
        "stoploss_on_exchange": True,
        "stoploss_on_exchange_interval": 60,
    }
}
GUARD_STOP = 0.087676


def _open_stops(live):
    return [
        (price, amount)
        for status, price, amount in stoploss_orders(live.trade())
        if status == "open"
    ]


def test_the_ratcheted_stop_reaches_the_exchange_stop_order(live):
    live.start_bot(extra=ON_EXCHANGE)
    live.open_trade()
    live.step(0.1005)
    assert _open_stops(live) == [(pytest.approx(GUARD_STOP), 0.5)]  # the loss guard, on exchange

    live.step(0.1011)  # TP1 fills; the exchange stop was cancelled for the exit
    live.step(0.1012)
    assert _open_stops(live) == [(pytest.approx(0.1), 0.375)]  # breakeven, for what is left

    live.step(0.1021)  # TP2
    live.step(0.1022)
    assert _open_stops(live) == [(pytest.approx(0.101), 0.282)]  # TP1's price

    live.step(0.1009)  # the exchange stop fills
    trade = live.trade()
    assert not trade.is_open
    assert trade.exit_reason == "stoploss_on_exchange"
    assert [status for status, _, _ in stoploss_orders(trade)][-1] == "closed"
    state = live.state()
    assert state["exit_kind"] == "stop:tp1"
    assert state["remaining_size"] == 0.0


def test_a_rejected_exit_does_not_leave_the_position_without_its_exchange_stop(live):
    live.start_bot(extra=ON_EXCHANGE)
    live.open_trade()
    live.step(0.1005)
    live.exchange.script_exit("reject")
    live.step(0.1011)  # freqtrade cancels the exchange stop, then the TP order is rejected
    # freqtrade cancels the exchange stop before any exit: until the next loop re-places it,
    # only the stop freqtrade holds (unchanged) remains.
    assert _open_stops(live) == []
    assert exit_orders(live.trade()) == []
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP)
    assert live.state()["tp_hits_count"] == 0

    live.step(0.1011)  # next loop: stop re-placed first, then TP1 retried (and the stop
    live.step(0.1012)  # cancelled and re-placed at breakeven around it)
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]
    assert _open_stops(live) == [(pytest.approx(0.1), 0.375)]
    assert live.state()["tp_hits_count"] == 1
