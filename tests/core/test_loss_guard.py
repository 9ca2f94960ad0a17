"""Loss guard (loss_guard.py G1-G2): threshold, once only, full remaining, switch."""

import pytest

from exit_brain_plugin.core import (
    ExitKind,
    Fill,
    FillKind,
    Hold,
    Side,
    apply_fill,
    evaluate_position,
    loss_guard,
)
from tests.conftest import fill_for, make_config, make_snapshot, make_state, rendered


CONFIG = make_config()


@pytest.mark.parametrize(
    ("profit", "fires"),
    [(-0.125, True), (-0.12499, False), (-0.9, True), (-0.05, False), (0.02, False)],
    ids=["at-threshold", "just-above", "deep-loss", "small-loss", "profit"],
)
def test_loss_guard_fires_at_or_below_the_threshold(profit, fires):
    verdict = evaluate_position(make_snapshot(2990.0, profit=profit), make_state(), CONFIG)
    assert (verdict.decision != Hold()) is fires
    assert verdict.state.loss_guard_triggered is fires


def test_custom_threshold_is_respected():
    config = make_config(max_unrealized_loss_pct=5)
    verdict = evaluate_position(make_snapshot(2990.0, profit=-0.05), make_state(), config)
    assert verdict.decision.kind is ExitKind.LOSS_GUARD
    assert "unrealized_pnl=-5.00% <= -5.00%" in rendered(verdict.events)[0]


def test_loss_guard_disabled_never_fires():
    config = make_config(loss_guard_enabled=False)
    verdict = evaluate_position(make_snapshot(2500.0, profit=-0.9), make_state(), config)
    assert (verdict.decision, verdict.events) == (Hold(), ())
    assert not verdict.state.loss_guard_triggered


def test_loss_guard_disabled_leaves_take_profits_working():
    config = make_config(loss_guard_enabled=False)
    verdict = evaluate_position(make_snapshot(3150.0), make_state(), config)
    assert verdict.decision.tag == "exit_brain_tp1"


def test_loss_guard_closes_what_remains_after_take_profits():
    state = make_state(hits=1, remaining_size=7.5, leg_base_size=7.5, active_sl=3000.0)
    verdict = evaluate_position(make_snapshot(2990.0, profit=-0.2), state, CONFIG)
    assert (verdict.decision.amount, verdict.decision.close_all) == (7.5, True)
    assert (
        "Closing FULL position 7.5000 with MARKET SELL (PnL=-20.00%)" in rendered(verdict.events)[1]
    )


def test_loss_guard_on_a_short_buys_back():
    state = make_state(side=Side.SHORT)
    snapshot = make_snapshot(50400.0, side=Side.SHORT, profit=-0.13)
    verdict = evaluate_position(snapshot, state, CONFIG)
    assert rendered(verdict.events)[1] == (
        "[EXIT_LOSS_GUARD] 🚨 BTC/USDT SHORT: Closing FULL position 10.0000 with MARKET BUY "
        "(PnL=-13.00%)"
    )


def test_loss_guard_fires_once_then_only_retries_the_same_close():
    fired = evaluate_position(make_snapshot(2990.0, profit=-0.13), make_state(), CONFIG)
    again = evaluate_position(make_snapshot(2980.0, profit=-0.2), fired.state, CONFIG)
    assert again.decision.kind is ExitKind.LOSS_GUARD
    assert again.decision.amount == 10.0
    assert again.events == ()


def test_loss_guard_retry_after_a_partial_fill_asks_for_the_rest():
    fired = evaluate_position(make_snapshot(2990.0, profit=-0.13), make_state(), CONFIG)
    partial = apply_fill(fired.state, fill_for(fired.decision, filled=4.0), CONFIG).state
    retry = evaluate_position(make_snapshot(2990.0, profit=-0.13), partial, CONFIG)
    assert (retry.decision.amount, retry.decision.close_all, retry.events) == (6.0, True, ())


def test_loss_guard_fired_position_back_in_profit_still_only_closes():
    fired = evaluate_position(make_snapshot(2990.0, profit=-0.13), make_state(), CONFIG).state
    verdict = evaluate_position(make_snapshot(3700.0), fired, CONFIG)
    assert verdict.decision.kind is ExitKind.LOSS_GUARD
    assert (verdict.state.tp_hits_count, verdict.state.active_sl) == (0, None)


def test_loss_guard_fill_from_the_exchange_stop_marks_the_guard_fired():
    fill = Fill(
        kind=FillKind.LOSS_GUARD,
        filled_amount=10.0,
        price=2981.25,
        order_id="s1",
        reason="loss_guard",
    )
    state = apply_fill(make_state(), fill, CONFIG).state
    assert state.loss_guard_triggered
    assert (state.tp_levels, state.active_sl, state.remaining_size) == ((), None, 0.0)
    assert evaluate_position(make_snapshot(3700.0), state, CONFIG).decision == Hold()


def test_loss_guard_firing_as_a_stop_fill_writes_the_spec_lines_once():
    fill = Fill(
        kind=FillKind.LOSS_GUARD,
        filled_amount=10.0,
        price=2981.1,
        order_id="s1",
        reason="loss_guard",
        profit_ratio=-0.126,
    )
    assert rendered(apply_fill(make_state(), fill, CONFIG).events) == [
        "[EXIT_LOSS_GUARD] 🚨 ETH/USDT LONG: LOSS GUARD TRIGGERED - "
        "unrealized_pnl=-12.60% <= -12.50%",
        "[EXIT_LOSS_GUARD] 🚨 ETH/USDT LONG: Closing FULL position 10.0000 with MARKET SELL "
        "(PnL=-12.60%)",
        "[EXIT_ORDER] ✅ LOSS GUARD MARKET SELL ETH/USDT 10.0000 executed - orderId=s1",
    ]


def test_loss_guard_tracks_the_high_water_mark_before_firing():
    state = evaluate_position(make_snapshot(3100.0, profit=0.04), make_state(), CONFIG).state
    fired = evaluate_position(make_snapshot(2990.0, profit=-0.13), state, CONFIG).state
    assert fired.max_unrealized_profit_pct == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("side", "leverage", "fees", "expected"),
    [
        (Side.LONG, 1.0, (0.0, 0.0), 0.0875),  # 0.1 × (1 − 0.125)
        (Side.SHORT, 3.0, (0.0, 0.0), 0.1 * (1 + 0.125 / 3)),  # 3x short: 4.1667 % above
        # fees in: a long's guard sits higher, a short's lower (the round trip costs both)
        (Side.LONG, 1.0, (0.001, 0.001), 0.1 * 1.001 * 0.875 / 0.999),
        (Side.SHORT, 1.0, (0.001, 0.001), 0.1 * 0.999 * 1.125 / 1.001),
    ],
)
def test_guard_price_is_where_pnl_reaches_the_threshold(side, leverage, fees, expected):
    price = loss_guard.guard_price(
        side, 0.1, CONFIG, leverage=leverage, fee_open=fees[0], fee_close=fees[1]
    )
    assert price == pytest.approx(expected, rel=1e-12)
    # freqtrade's profit ratio at that price (fees in) is the threshold
    opened = 0.1 * (1 + fees[0]) if side is Side.LONG else 0.1 * (1 - fees[0])
    closed = price * (1 - fees[1]) if side is Side.LONG else price * (1 + fees[1])
    ratio = (closed / opened - 1) if side is Side.LONG else (1 - closed / opened)
    assert ratio * leverage == pytest.approx(-0.125, abs=1e-12)
