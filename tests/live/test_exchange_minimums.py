"""Amounts the exchange would refuse: decided and logged by the brain, never silently skipped.

ETH/BTC on Binance: amount step 0.001 ETH, minimum order 0.001 BTC; freqtrade refuses a partial
exit that leaves less than its minimum stake (about 0.0013 BTC here) and says so only at INFO.
"""

import logging

import pytest

from tests.live.bot_harness import brain_lines, exit_orders, freqtrade_lines


SILENT_SKIPS = ("not exiting", "would be smaller than the minimum")


def _no_silent_skip(caplog):
    skipped = [line for line in freqtrade_lines(caplog) if any(s in line for s in SILENT_SKIPS)]
    assert skipped == []


def test_a_level_below_the_minimum_order_merges_into_the_next_and_the_last_closes_all(live, caplog):
    live.start_bot(extra={"stake_amount": 0.003})  # 0.03 ETH: TP1's 25 % is below the minimum
    live.open_trade()
    live.walk([0.1011, 0.1012])
    trade = live.trade()
    assert exit_orders(trade) == []
    assert live.state()["tp_hits_count"] == 0
    warnings = brain_lines(caplog, logging.WARNING)
    merged = [w for w in warnings if "TP1 size 0.007000 below the exchange minimum" in w]
    assert len(merged) == 1, warnings  # once per position, not once per loop
    assert merged[0].endswith(": merged into TP2")

    live.step(0.1021)  # TP1 and TP2 close together, each counted
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1+tp2", "closed", 0.013)]
    state = live.state()
    assert state["triggered_legs"] == [1, 2]
    assert state["remaining_size"] == pytest.approx(trade.amount) == pytest.approx(0.017)
    assert trade.stop_loss == pytest.approx(0.101)

    live.step(0.1041)  # TP3's half would leave dust: the whole rest closes
    trade = live.trade()
    assert exit_orders(trade)[-1] == ("exit_brain_tp3", "closed", 0.017)
    assert not trade.is_open
    assert live.state()["exit_kind"] == "take_profit"
    assert any(
        "TP3 would leave 0.009000 below the minimum remainder" in w
        and w.endswith("closing the whole remainder")
        for w in brain_lines(caplog, logging.WARNING)
    )
    _no_silent_skip(caplog)


def test_an_exit_leaving_dust_closes_the_whole_remainder(live, caplog):
    # 0.099 ETH; TP1 closes 90 % and would leave 0.0099 ETH, below freqtrade's minimum stake.
    live.start_bot(
        brain={"tp_profile": [0.9, 0.1], "tp_distances": [0.01, 0.02]},
        extra={"stake_amount": 0.01},
    )
    live.open_trade()
    live.walk([0.1011, 0.1012])
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.099)]
    assert not trade.is_open
    state = live.state()
    assert state["remaining_size"] == 0.0
    assert state["exit_kind"] == "take_profit"
    decisions = [
        w for w in brain_lines(caplog, logging.WARNING) if "below the minimum remainder" in w
    ]
    assert decisions == [
        "[EXIT_TP_TRIGGER] ⚠️ ETH/BTC LONG: TP1 would leave 0.0100 below the minimum "
        "remainder 0.0130: closing the whole remainder"
    ]
    _no_silent_skip(caplog)
