"""Reports and the adapter classify exits with one classifier (core/exit_reasons.py)."""

from types import SimpleNamespace

import pytest

from exit_brain_plugin.core import FillKind, parse_config
from exit_brain_plugin.core.exit_reasons import classify_exit
from exit_brain_plugin.reports.analysis import summarize
from tests.reports.test_analysis import _trade


@pytest.mark.parametrize(
    ("tag", "side", "kind", "legs"),
    [
        ("exit_brain_tp1", "sell", FillKind.TAKE_PROFIT, (1,)),
        ("exit_brain_tp2+tp3", "sell", FillKind.TAKE_PROFIT, (2, 3)),
        ("exit_brain_loss_guard", "sell", FillKind.LOSS_GUARD, ()),
        ("exit_brain_stop_breakeven", "sell", FillKind.STOP, ()),
        ("exit_brain_stop", "sell", FillKind.STOP, ()),
        ("stop_loss", "sell", FillKind.STOP, ()),
        ("trailing_stop_loss", "buy", FillKind.STOP, ()),
        ("liquidation", "buy", FillKind.STOP, ()),
        (None, "stoploss", FillKind.STOP, ()),
        ("roi", "sell", FillKind.OTHER_EXIT, ()),
        ("exit_signal", "sell", FillKind.OTHER_EXIT, ()),
    ],
)
def test_adapter_and_reports_share_the_classifier(tag, side, kind, legs):
    pytest.importorskip("freqtrade")
    from exit_brain_plugin.adapter import translate

    assert classify_exit(tag, side) == (kind, legs)
    # the adapter books a filled exit order of that tag and side as the same kind and legs
    trade = SimpleNamespace(
        entry_side="sell" if side == "buy" else "buy",
        open_rate=100.0,
        amount_precision=None,
        precision_mode=None,
        contract_size=1.0,
        calc_profit_ratio=lambda price: price / 100.0 - 1,
    )
    order = SimpleNamespace(
        ft_order_side=side,
        ft_order_tag=tag,
        order_id="o1",
        safe_price=95.0,
        ft_price=95.0,
        safe_amount_after_fee=1.0,
        safe_remaining=0.0,
        status="closed",
    )
    fill = translate.fill_from_order(order, trade)
    assert (fill.kind, fill.legs) == (kind, legs)


def test_a_liquidation_is_a_stop_exit_in_the_report():
    trade = _trade(("exit_brain_tp1", 2.5, 101.0), ("liquidation", 7.5, 95.0), reason="liquidation")
    summary = summarize([trade], parse_config({})).to_json()
    assert summary["stop_exits"]["breakeven"] == 1


def test_a_named_stop_exit_is_counted_under_its_name():
    trade = _trade(
        ("exit_brain_tp1", 2.5, 101.0),
        ("exit_brain_stop_strategy", 7.5, 100.5),
        reason="exit_brain_stop_strategy",
    )
    summary = summarize([trade], parse_config({})).to_json()
    assert summary["stop_exits"]["strategy"] == 1
