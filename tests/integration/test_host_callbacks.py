"""A host strategy's own callbacks keep working under the mixin (README step 2,
docs/behaviour.md §5, docs/decisions.md).

Rules this module proves in freqtrade backtests of ``ExitBrainHostCallbacksStrategy``:

1. The host's ``custom_exit`` closes the position with its own exit reason, at the price of the
   host's ``custom_exit_price`` (a host configured with limit exits).
2. The host's ``custom_stoploss`` is honoured where the brain has no tighter stop: the position
   stops out at the host's price — named ``exit_brain_stop_initial`` when it is the position's
   first stop (docs/behaviour.md §5: the initial stop is the strategy's own), with the loss
   guard off (no stop opinion of the brain's at all) and on (the guard's stop is looser); and
   ``exit_brain_stop_strategy`` when the host tightened it past the brain's ratchet (§6).
3. The host's ``adjust_trade_position`` adds to the position (its DCA entry fills, with its
   tag) and the brain's state follows the new average entry; the loss-guard stop then sits on
   the new average entry (docs/operations.md §3) in backtests as live (adapter/backtest.py
   rule 3: freqtrade's recalculation after the fill-time stop call no longer tightens it).
4. Each host callback keeps freqtrade's copy of the trade: the uncopied trade is only for the
   brain's own callbacks.

The brain's ladder starts 20 % away, so it never takes part unless a rule says so.
"""

import pandas as pd
import pytest

from tests.integration.backtest_harness import Candle as C
from tests.integration.backtest_harness import exit_orders, make_config, run_backtest
from tests.trade_orders import entry_orders


STRATEGY = "ExitBrainHostCallbacksStrategy"
FAR_LADDER = {"tp_profile": [0.25, 0.25, 0.5], "tp_distances": [0.2, 0.3, 0.4]}
LIMIT_EXITS = {
    "entry": "limit",
    "exit": "limit",
    "stoploss": "market",
    "stoploss_on_exchange": False,
}
HOST_CALLBACKS = {"custom_stoploss", "custom_exit", "custom_exit_price", "adjust_trade_position"}


def _candle(index: int) -> str:
    return str(pd.Timestamp("2022-01-03 00:00:00", tz="UTC") + pd.Timedelta(hours=index))


def _config(brain=None, **host):
    return make_config(
        strategy=STRATEGY,
        brain={**FAR_LADDER, **(brain or {})},
        extra={"order_types": LIMIT_EXITS, **host},
    )


def _assert_host_kept_its_copies(run, *names):
    calls = run.strategy.host_calls
    assert {name for name, _ in calls} >= set(names)
    assert [name for name, held in calls if held] == []


HOST_EXIT = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000
    C(0.1000, 0.1010, 0.0998, 0.1005),  # 2 nothing
    C(0.1005, 0.1015, 0.1003, 0.1010),  # 3 host custom_exit at the open; its price 0.1012 fills
    C(0.1010, 0.1012, 0.1008, 0.1010),  # 4
]


def test_host_custom_exit_closes_with_its_tag_at_its_custom_exit_price():
    run = run_backtest(HOST_EXIT, _config(host_exit_at=_candle(3), host_exit_price=0.1012))
    (trade,) = run.trades
    assert exit_orders(trade) == [("host_exit", 0.5, 0.1012)]
    assert trade.exit_reason == "host_exit"
    assert trade.close_rate == pytest.approx(0.1012)
    assert pd.Timestamp(trade.close_date_utc) == pd.Timestamp(_candle(3))
    assert run.states[trade.id]["tp_hits_count"] == 0
    _assert_host_kept_its_copies(run, *HOST_CALLBACKS)


HOST_STOP = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; host stop 0.097
    C(0.1000, 0.1004, 0.0990, 0.0995),  # 2 nothing
    C(0.0995, 0.0998, 0.0960, 0.0970),  # 3 low crosses 0.097: stops out there
    C(0.0970, 0.0975, 0.0965, 0.0970),  # 4
]


@pytest.mark.parametrize("guard", [False, True], ids=["guard-off", "guard-looser"])
def test_host_custom_stoploss_is_honoured_where_the_brain_has_no_tighter_stop(guard):
    run = run_backtest(HOST_STOP, _config({"loss_guard_enabled": guard}, host_stop_price=0.097))
    (trade,) = run.trades
    assert exit_orders(trade) == [("exit_brain_stop_initial", 0.5, pytest.approx(0.097))]
    assert trade.exit_reason == "exit_brain_stop_initial"
    assert pd.Timestamp(trade.close_date_utc) == pd.Timestamp(_candle(3))
    _assert_host_kept_its_copies(run, "custom_stoploss")


HOST_STOP_PAST_RATCHET = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000; TP1 0.101 rests
    C(0.1000, 0.1012, 0.1001, 0.1010),  # 2 TP1 fills; the brain's stop -> 0.1000 (breakeven)
    C(0.1010, 0.1015, 0.1006, 0.1010),  # 3 the host tightens to 0.1005; low above it
    C(0.1008, 0.1009, 0.1000, 0.1002),  # 4 low crosses 0.1005: the host's stop fires
    C(0.1002, 0.1004, 0.1000, 0.1002),  # 5
]


def test_host_custom_stoploss_tighter_than_the_ratchet_is_honoured_and_named_strategy():
    config = _config(
        {"tp_distances": [0.01, 0.02, 0.04]}, host_stop_price=0.1005, host_stop_at=_candle(3)
    )
    run = run_backtest(HOST_STOP_PAST_RATCHET, config)
    (trade,) = run.trades
    assert exit_orders(trade) == [
        ("exit_brain_tp1", 0.125, 0.101),
        ("exit_brain_stop_strategy", 0.375, pytest.approx(0.1005)),
    ]
    assert trade.exit_reason == "exit_brain_stop_strategy"
    assert pd.Timestamp(trade.close_date_utc) == pd.Timestamp(_candle(4))
    assert run.states[trade.id]["sl_reason"] == "breakeven"
    _assert_host_kept_its_copies(run, "custom_stoploss")


HOST_DCA = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 entry at 0.1000: 0.5 ETH
    C(0.1000, 0.1002, 0.0985, 0.0990),  # 2 nothing
    C(0.0980, 0.0990, 0.0975, 0.0985),  # 3 host adds 0.05 BTC at the open 0.098: 0.510 ETH
    C(0.0985, 0.0995, 0.0980, 0.0990, exit_long=1),  # 4 exit signal
    C(0.0992, 0.0995, 0.0985, 0.0990),  # 5 exit at the open 0.0992
]


def test_host_adjust_trade_position_adds_to_the_position():
    run = run_backtest(HOST_DCA, _config(host_dca_at=_candle(3), host_dca_stake=0.05))
    (trade,) = run.trades
    assert entry_orders(trade) == [(None, 0.5, 0.1), ("host_dca", 0.51, 0.098)]
    assert trade.amount == pytest.approx(1.01)
    assert trade.open_rate == pytest.approx((0.05 + 0.51 * 0.098) / 1.01, abs=1e-5)
    assert exit_orders(trade) == [("exit_signal", 1.01, 0.0992)]
    state = run.states[trade.id]
    assert state["tp_hits_count"] == 0
    assert state["entry_price"] == pytest.approx(trade.open_rate)
    _assert_host_kept_its_copies(run, "adjust_trade_position")


HOST_DCA_THEN_DROP = [
    *HOST_DCA[:4],  # entry 0.1, host DCA at 0.098: average entry 0.09899, guard price 0.086616
    C(0.0985, 0.0990, 0.0860, 0.0870),  # 4 low crosses the guard price: closes there, -12.5 %
    C(0.0870, 0.0875, 0.0865, 0.0870),  # 5
]


def test_after_a_host_dca_the_loss_guard_stop_sits_on_the_new_average_entry():
    run = run_backtest(HOST_DCA_THEN_DROP, _config(host_dca_at=_candle(3), host_dca_stake=0.05))
    (trade,) = run.trades
    guard_price = trade.open_rate * 0.875  # -12.5 % of the whole position, fee 0
    ((tag, amount, price),) = exit_orders(trade)
    assert (tag, amount) == ("exit_brain_loss_guard", 1.01)
    assert price == pytest.approx(guard_price, abs=1e-5)
    assert trade.close_profit == pytest.approx(-0.125, abs=0.0005)
