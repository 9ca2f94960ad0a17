"""Live: the brain never replaces an exit order resting open on the exchange
(docs/decisions.md "Live and dry-run": a new exit would make freqtrade cancel the open one,
``freqtradebot.py`` ``handle_similar_open_order``).

Rules this module proves through ``FreqtradeBot.process()`` in dry-run:

1. While the brain's TP1 order rests open (held by the scripted exchange), later loops at
   other prices beyond TP1, beyond TP2 (a ``tp1+tp2`` exit) and beyond TP3 (a
   ``tp1+tp2+tp3`` exit) send no exit order: the exchange sees one exit order, the same
   id, never cancelled, and the trade keeps exactly that one exit order.
2. Once the exchange fills it, the ladder goes on: the next level is sent as a new order.

Entry 0.1 with 0.5 ETH: TP1 0.101 closes 0.125, TP2 0.102 closes 25 % of the rest; the last
level TP3 (0.104) closes half of what remains.
"""

import pytest

from tests.live.bot_harness import exit_orders, freqtrade_lines


TP1_TICK = 0.1011
BEYOND_TP1 = (0.1013, 0.1017, 0.1019)
BEYOND_TP2 = (0.1025, 0.1031)
BEYOND_TP3 = (0.1045, 0.1050)
WALKS = {
    "beyond-tp1": BEYOND_TP1,
    "beyond-tp2": (*BEYOND_TP1, *BEYOND_TP2),
    "beyond-tp3": (BEYOND_TP1[0], *BEYOND_TP3),
}


def _exit_orders_sent(live):
    """The exit orders the exchange received, as (id, amount), in order."""
    return [(o["id"], o["amount"]) for o in live.exchange.created if o["side"] == "sell"]


def _rest_tp1(live):
    live.start_bot()
    live.open_trade()
    live.exchange.script_exit("hold")
    live.step(TP1_TICK)
    held = live.exchange.last_held()
    assert _exit_orders_sent(live) == [(held, 0.125)]
    return held


@pytest.mark.parametrize("walk", WALKS.values(), ids=WALKS.keys())
def test_a_resting_tp_order_is_never_replaced_by_the_next_loops(live, caplog, walk):
    held = _rest_tp1(live)

    live.walk(list(walk))

    assert _exit_orders_sent(live) == [(held, 0.125)]
    assert live.exchange.held == {held}  # still open on the exchange: nobody cancelled it
    trade = live.trade()
    assert [
        (o.order_id, o.ft_order_tag, o.status)
        for o in trade.orders
        if o.ft_order_side == trade.exit_side
    ] == [(held, "exit_brain_tp1", "open")]
    assert live.state()["tp_hits_count"] == 0
    freqtrade = freqtrade_lines(caplog)
    assert not [line for line in freqtrade if "similar open order" in line]
    assert not [line for line in freqtrade if "Cancel" in line or "cancel" in line]


def test_after_the_resting_order_fills_the_next_level_is_a_new_order(live):
    held = _rest_tp1(live)
    live.step(BEYOND_TP1[0])
    live.exchange.fill_held(held)
    live.step(BEYOND_TP1[0])  # freqtrade sees the fill: TP1 booked, stop to breakeven
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]

    live.step(BEYOND_TP2[0])
    sent = _exit_orders_sent(live)
    assert len(sent) == 2
    assert sent[0] == (held, 0.125)
    assert sent[1][1] == pytest.approx(0.093)
    assert exit_orders(live.trade()) == [
        ("exit_brain_tp1", "closed", 0.125),
        ("exit_brain_tp2", "closed", 0.093),
    ]
    assert live.state()["tp_hits_count"] == 2
