"""Exit orders that fail: rejected, cancelled, part-filled then cancelled, timed out.

docs/behaviour.md §4.3: the state changes only by what filled; the unfilled part is retried while
price
stays beyond the level; nothing is counted twice. Entry 0.1 with 0.5 ETH: TP1 0.101 closes
0.125, TP2 0.102 closes 25 % of the rest. The stop after entry is the loss-guard price
(0.087676); breakeven (0.1) only after TP1 has completely filled.
"""

import logging

import pytest

from tests.live.bot_harness import brain_lines, exit_orders, freqtrade_lines


GUARD_STOP = 0.087676
TP1_TICK = 0.1011
BELOW_TP1 = 0.1005
TIMEOUT = {"entry": 10, "exit": 10, "unit": "minutes"}


def _open(live, **kwargs):
    live.start_bot(**kwargs)
    live.open_trade()
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP)


def _assert_tp1_done_once(live):
    trade = live.trade()
    filled = sum(amount for tag, _, amount in exit_orders(trade) if tag == "exit_brain_tp1")
    assert filled == pytest.approx(0.125)
    state = live.state()
    assert state["tp_hits_count"] == 1
    assert state["triggered_legs"] == [1]
    assert state["remaining_size"] == pytest.approx(trade.amount) == pytest.approx(0.375)
    assert trade.stop_loss == pytest.approx(0.1)
    assert state["sl_reason"] == "breakeven"
    assert len(state["ratchets"]) == 1


def _assert_untouched(live, amount=0.5):
    trade = live.trade()
    state = live.state()
    assert state["tp_hits_count"] == 0
    assert state["remaining_size"] == pytest.approx(trade.amount) == pytest.approx(amount)
    assert trade.stop_loss == pytest.approx(GUARD_STOP)


def test_rejected_tp_order_changes_nothing_and_is_retried_next_loop(live, caplog):
    _open(live)
    live.exchange.script_exit("reject")
    live.step(TP1_TICK)
    assert len(live.exchange.rejected) == 1
    assert exit_orders(live.trade()) == []
    _assert_untouched(live)
    assert any("Unable to adjust position" in line for line in freqtrade_lines(caplog))

    live.step(TP1_TICK)  # price still beyond TP1: retried
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]
    _assert_tp1_done_once(live)


def test_rejected_tp_order_is_not_retried_once_price_is_back_below_the_level(live):
    _open(live)
    live.exchange.script_exit("reject")
    live.step(TP1_TICK)
    live.walk([BELOW_TP1, BELOW_TP1])
    assert exit_orders(live.trade()) == []
    _assert_untouched(live)
    live.step(0.1012)
    _assert_tp1_done_once(live)


def test_rejected_loss_guard_close_keeps_the_stop_and_closes_on_the_retry(live, caplog):
    _open(live)
    live.exchange.script_exit("reject")
    live.step(0.0870)  # PnL about -13.2 %
    trade = live.trade()
    assert trade.is_open
    assert trade.stop_loss == pytest.approx(GUARD_STOP)  # protection kept
    assert live.state()["loss_guard_triggered"] is True

    live.step(0.0869)
    trade = live.trade()
    assert not trade.is_open
    assert trade.exit_reason == "exit_brain_loss_guard"
    assert [tag for tag, _, _ in exit_orders(trade)] == ["exit_brain_loss_guard"]
    assert live.state()["exit_kind"] == "loss_guard"
    triggered = [line for line in brain_lines(caplog) if "LOSS GUARD TRIGGERED" in line]
    assert len(triggered) == 1


def test_tp_order_cancelled_by_the_exchange_unfilled_is_retried(live, caplog):
    _open(live)
    live.exchange.script_exit("hold")
    live.step(TP1_TICK)
    held = live.exchange.last_held()
    live.step(TP1_TICK)  # still open: the brain sends nothing new
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "open", 0.0)]
    _assert_untouched(live)

    live.exchange.cancel_held(held)
    live.step(TP1_TICK)  # freqtrade sees the cancel, then the brain retries in the same loop
    assert exit_orders(live.trade()) == [
        ("exit_brain_tp1", "canceled", 0.0),
        ("exit_brain_tp1", "closed", 0.125),
    ]
    _assert_tp1_done_once(live)
    assert any("cancelled on exchange" in line for line in freqtrade_lines(caplog))


def test_tp_order_part_filled_then_cancelled_counts_only_what_filled(live, caplog):
    _open(live)
    live.exchange.script_exit("hold", filled_fraction=0.4)  # 0.05 of 0.125 fills
    live.step(TP1_TICK)
    held = live.exchange.last_held()
    _assert_untouched(live)  # freqtrade books a fill only when the order is done

    live.exchange.cancel_held(held)
    live.step(BELOW_TP1)  # price fell back: the part that filled is booked, nothing retried
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "canceled", 0.05)]
    state = live.state()
    assert state["remaining_size"] == pytest.approx(trade.amount) == pytest.approx(0.45)
    assert state["tp_hits_count"] == 0  # the level is not hit until its amount has filled
    assert trade.stop_loss == pytest.approx(GUARD_STOP)  # no ratchet on a partial fill
    assert any(
        "TP1 order" in line and "filled 0.0500, 0.0750 still to close" in line
        for line in brain_lines(caplog, logging.WARNING)
    )

    live.step(BELOW_TP1)
    assert len(exit_orders(live.trade())) == 1
    live.step(TP1_TICK)  # back beyond TP1: only the missing 0.075 is sent
    assert exit_orders(live.trade()) == [
        ("exit_brain_tp1", "canceled", 0.05),
        ("exit_brain_tp1", "closed", 0.075),
    ]
    _assert_tp1_done_once(live)


def test_tp_order_part_filled_then_filled_completes_the_level_once(live):
    _open(live)
    live.exchange.script_exit("hold", filled_fraction=0.4)
    live.step(TP1_TICK)
    held = live.exchange.last_held()
    live.step(TP1_TICK)
    live.exchange.fill_held(held)
    live.walk([TP1_TICK, TP1_TICK])
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]
    _assert_tp1_done_once(live)


def test_part_filled_level_then_a_gap_over_tp2_sends_one_exit_for_the_rest(live):
    _open(live)
    live.exchange.script_exit("hold", filled_fraction=0.4)
    live.step(TP1_TICK)
    live.exchange.cancel_held(live.exchange.last_held())
    live.step(BELOW_TP1)
    live.step(0.1021)  # beyond TP1 and TP2: what TP1 still needs + TP2, as one exit
    trade = live.trade()
    assert exit_orders(trade) == [
        ("exit_brain_tp1", "canceled", 0.05),
        ("exit_brain_tp1+tp2", "closed", 0.168),
    ]
    state = live.state()
    assert state["triggered_legs"] == [1, 2]
    assert state["remaining_size"] == pytest.approx(trade.amount) == pytest.approx(0.282)
    assert trade.stop_loss == pytest.approx(0.101)


@pytest.mark.parametrize(("fraction", "filled"), [(0.0, 0.0), (0.4, 0.05)])
def test_tp_order_timed_out_by_unfilledtimeout_books_what_filled_and_retries(
    live, caplog, fraction, filled
):
    _open(live, extra={"unfilledtimeout": TIMEOUT})
    live.exchange.script_exit("hold", filled_fraction=fraction)
    live.step(TP1_TICK)
    live.step(TP1_TICK, seconds=5 * 60)
    assert exit_orders(live.trade())[0][1] == "open"  # 6 minutes: not yet timed out
    _assert_untouched(live)

    live.step(TP1_TICK, seconds=5 * 60)  # 11 minutes: freqtrade cancels it, the brain retries
    assert exit_orders(live.trade()) == [
        ("exit_brain_tp1", "canceled", filled),
        ("exit_brain_tp1", "closed", pytest.approx(0.125 - filled)),
    ]
    _assert_tp1_done_once(live)
    assert any("cancelled due to timeout" in line for line in freqtrade_lines(caplog)) == (
        filled == 0.0
    )


def test_an_order_processed_twice_by_freqtrade_is_booked_once(live, caplog):
    _open(live)
    live.step(TP1_TICK)
    _assert_tp1_done_once(live)
    trade = live.trade()
    order = next(o for o in trade.orders if o.ft_order_tag == "exit_brain_tp1")
    # freqtrade's recovery paths (handle_onexchange_order, refind_lost_order) run an order
    # through update_trade_state again, which calls order_filled again for the same fill.
    live.bot.update_trade_state(trade, order.order_id)
    _assert_tp1_done_once(live)
    live.walk([TP1_TICK, 0.1015])
    _assert_tp1_done_once(live)
    assert not [line for line in brain_lines(caplog, logging.WARNING) if "rebuilt" in line]


def test_part_filled_order_open_across_a_restart_without_state_is_counted_once(live, caplog):
    _open(live)
    live.exchange.script_exit("hold", filled_fraction=0.4)
    live.step(TP1_TICK)
    held = live.exchange.last_held()
    live.stop_bot()
    live.delete_custom_data()  # and the state row is lost
    live.start_bot()
    live.step(TP1_TICK)  # rebuilt from the orders that are done: the entry only
    state = live.state()
    assert state["remaining_size"] == pytest.approx(0.5) == pytest.approx(live.trade().amount)

    live.exchange.cancel_held(held)
    live.walk([TP1_TICK, TP1_TICK])
    assert exit_orders(live.trade()) == [
        ("exit_brain_tp1", "canceled", 0.05),
        ("exit_brain_tp1", "closed", 0.075),
    ]
    _assert_tp1_done_once(live)
    disagreements = [line for line in brain_lines(caplog) if "disagrees" in line]
    assert disagreements == []
