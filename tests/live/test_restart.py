"""Restart mid-ladder: the bot object is discarded and a new one opens the same database.

Entry 0.1 with 0.05 BTC (0.5 ETH): TP1 0.101 (25 %), TP2 0.102 (25 % of the rest), TP3 0.104.
"""

import pytest

from tests.live.bot_harness import brain_lines, exit_orders


TP1_TICK = 0.1011  # beyond TP1 (0.101), below TP2 (0.102)


def _ladder_to_tp1(live):
    live.start_bot()
    live.open_trade()
    live.walk([0.1005, TP1_TICK])
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]
    assert trade.stop_loss == pytest.approx(0.1)  # breakeven
    return trade


def test_restart_after_tp1_recovers_the_state_keeps_breakeven_and_fires_tp2_at_its_price(
    live, caplog
):
    _ladder_to_tp1(live)
    before = live.state()

    live.stop_bot()  # the process ends; only the database remains
    caplog.clear()
    live.start_bot()
    assert live.strategy is not None
    trade = live.trade()
    assert trade.stop_loss == pytest.approx(0.1)  # freqtrade reloaded the stop from the DB

    # Price stays beyond TP1 for a while: TP1 is not repeated, nothing is rebuilt.
    live.walk([TP1_TICK, 0.1015, 0.1019])
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]
    assert trade.stop_loss == pytest.approx(0.1)
    assert live.state()["triggered_legs"] == before["triggered_legs"] == [1]
    assert not [line for line in brain_lines(caplog) if "rebuilt" in line or "TP1 HIT" in line]

    # TP2 fires on the tick that reaches its price, at that price.
    live.step(0.102)
    trade = live.trade()
    assert exit_orders(trade)[-1] == ("exit_brain_tp2", "closed", 0.093)
    tp2 = next(o for o in trade.orders if o.ft_order_tag == "exit_brain_tp2")
    assert tp2.safe_price == pytest.approx(0.102)
    state = live.state()
    assert state["tp_hits_count"] == 2
    assert state["triggered_legs"] == [1, 2]
    assert state["remaining_size"] == pytest.approx(trade.amount) == pytest.approx(0.282)
    assert trade.stop_loss == pytest.approx(0.101)  # TP1's price after TP2
    assert any("TP1 price after TP2 hit (tp_hits=2)" in line for line in brain_lines(caplog))


def test_restart_with_a_changed_stoploss_restores_the_ratchet_before_any_stop_check(live):
    # freqtrade's startup resets the stop of open trades when `stoploss` changed
    # (Trade.stoploss_reinitialization); the brain's stop must be back before it can matter.
    _ladder_to_tp1(live)
    live.stop_bot()
    live.start_bot(extra={"stoploss": -0.3})
    trade = live.trade()
    assert trade.stop_loss == pytest.approx(0.07)  # reset by freqtrade at startup

    live.step(0.1008)  # first loop: custom_stoploss runs before the stop is tested
    trade = live.trade()
    assert trade.stop_loss == pytest.approx(0.1)
    assert trade.is_open
    assert live.state()["sl_reason"] == "breakeven"

    live.step(0.0999)  # the breakeven stop protects the position
    trade = live.trade()
    assert not trade.is_open
    assert trade.exit_reason == "exit_brain_stop_breakeven"
    assert live.state()["exit_kind"] == "stop:breakeven"


def test_an_exit_filled_while_the_bot_was_down_is_booked_once_by_the_next_bot(live, caplog):
    live.start_bot()
    live.open_trade()
    live.exchange.script_exit("hold")
    live.step(TP1_TICK)  # TP1 order accepted, still open when the process stops
    held = live.exchange.last_held()
    assert live.state()["tp_hits_count"] == 0
    live.stop_bot()

    live.exchange.fill_held(held)  # the exchange fills it meanwhile
    live.start_bot()
    live.walk([TP1_TICK, TP1_TICK, 0.1015])
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]
    state = live.state()
    assert state["tp_hits_count"] == 1
    assert state["remaining_size"] == pytest.approx(trade.amount) == pytest.approx(0.375)
    assert trade.stop_loss == pytest.approx(0.1)
    executed = [line for line in brain_lines(caplog) if "TP1 MARKET SELL" in line]
    assert len(executed) == 1
