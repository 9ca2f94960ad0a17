"""The state carries the loss-guard price the brain holds, for readers such as the plot."""

import pytest


def test_the_stored_state_holds_the_loss_guard_price_of_the_trade(live):
    live.start_bot()
    live.open_trade()
    live.step(0.1)
    trade = live.trade()
    expected = float(trade.calc_close_rate_for_roi(-0.125))
    assert live.state()["loss_guard_price"] == pytest.approx(expected, rel=1e-12)
