"""``exit-brain shadow`` on a hand-built dry-run database, figures computed by hand.

The database is written with freqtrade's own persistence: ``Trade``/``Order`` rows whose profit
freqtrade computes itself (``recalc_trade_from_orders`` and ``close``), the brain's observe state
(core ``apply_fill``) and its shadow ledger in the trades' custom data.

Three observe positions, fees included (spot 0.1 % each side, futures 0.05 %):
- A, long ETH/BTC 0.5 @ 0.1: the brain would have sold TP1 0.125 @ 0.1011 and TP2 0.093 @ 0.1021;
  the host sold all at 0.099 (its exit signal). The ladder would have helped.
- B, long ETH/BTC 0.5 @ 0.1: TP1 0.125 @ 0.1011, then the breakeven stop 0.375 @ 0.0999; the host
  sold all at 0.1026. The ladder would have cost.
- C, short XRP/USDT:USDT 300 @ 1.0 at 10x: the loss guard would have bought back 300 @ 1.012;
  the host was stopped at 1.05. A loss-guard save.
Plus an act position (D) and one without the brain (E): a mixed database, reported per mode.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest

from exit_brain_plugin.adapter.tools.cli import main
from exit_brain_plugin.core import (
    Fill,
    FillKind,
    PositionOpen,
    Side,
    apply_fill,
    create_state,
    parse_config,
    to_json_dict,
)
from exit_brain_plugin.core.ledger import VirtualFill, ledger_to_json
from tests.reports.orders import filled_order


START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CONFIG = parse_config({})
SPOT_FEE, FUTURES_FEE = 0.001, 0.0005


def _at(minutes):
    return START + timedelta(minutes=minutes)


def _order(trade, side, tag, amount, price, minutes, number):
    return filled_order(
        trade,
        side=side,
        tag=tag,
        amount=amount,
        price=price,
        at=_at(minutes),
        order_id=f"dry-{trade.pair}-{minutes}-{number}",
        funding_fee=0.0,
    )


def _closed_trade(pair, *, short=False, leverage=1.0, amount, entry, exits, fee, reason, start):
    """A trade freqtrade closes itself: exits are (tag, amount, price, minutes)."""
    from freqtrade.enums import TradingMode
    from freqtrade.persistence import Trade

    futures = ":" in pair
    trade = Trade(
        pair=pair,
        exchange="binance",
        stake_amount=amount * entry / leverage,
        amount=amount,
        open_rate=entry,
        open_date=_at(start).replace(tzinfo=None),
        fee_open=fee,
        fee_close=fee,
        is_open=True,
        is_short=short,
        leverage=leverage,
        initial_stop_loss=entry * (1.2 if short else 0.8),
        stop_loss=entry * (1.2 if short else 0.8),
        amount_precision=0.1 if futures else 0.001,
        price_precision=0.0001 if futures else 1e-6,
        precision_mode=4,
        precision_mode_price=4,
        strategy="ExitBrainLiveStrategy",
        timeframe=5,
        trading_mode=TradingMode.FUTURES if futures else TradingMode.SPOT,
        funding_fees=0.0,
    )
    entry_side, exit_side = ("sell", "buy") if short else ("buy", "sell")
    trade.orders = [_order(trade, entry_side, "entry", amount, entry, start, 0)] + [
        _order(trade, exit_side, tag, size, price, minutes, number)
        for number, (tag, size, price, minutes) in enumerate(exits, start=1)
    ]
    Trade.session.add(trade)
    trade.recalc_trade_from_orders()
    if exits:
        trade.close(exits[-1][2], show_msg=False)
        trade.exit_reason = reason
    Trade.commit()
    return trade


def _observe(trade, side, fills, key="exit_brain_observe", mode=None):
    """Store the observe state after ``fills`` and the ledger of them (kind, legs, amount, price,
    minutes); ``mode``: the creation mode recorded in the state (per-pair modes)."""
    opening = PositionOpen(
        pair=trade.pair,
        side=side,
        entry_price=trade.open_rate,
        amount=trade.amount if trade.is_open else sum(o.filled for o in trade.orders[:1]),
        initial_stop_price=trade.initial_stop_loss,
        price_step=trade.price_precision,
    )
    state = create_state(opening, CONFIG).state
    ledger = []
    for number, (kind, legs, amount, price, minutes) in enumerate(fills):
        stop_kind = state.sl_reason
        fill = Fill(
            kind=FillKind(kind),
            filled_amount=amount,
            price=price,
            order_id="observe",
            legs=legs,
            reason=stop_kind if kind == "stop" else f"exit_brain_{number}",
        )
        state = apply_fill(state, fill, CONFIG).state
        ledger.append(
            VirtualFill(
                at=_at(minutes).isoformat(),
                kind=kind,
                tag="exit_brain_tp" + "+tp".join(map(str, legs)) if legs else "exit_brain_x",
                legs=legs,
                amount=amount,
                price=price,
                reason=stop_kind if kind == "stop" else "",
            )
        )
    stored = to_json_dict(state)
    trade.set_custom_data(key, stored if mode is None else {**stored, "mode": mode})
    trade.set_custom_data("exit_brain_shadow", ledger_to_json(ledger))
    return state


@pytest.fixture
def shadow_db(tmp_path):
    pytest.importorskip("freqtrade")
    from freqtrade.persistence import Trade, init_db
    from freqtrade.persistence.usedb_context import enable_database_use

    enable_database_use()
    path = tmp_path / "tradesv3.dryrun.sqlite"
    init_db(f"sqlite:///{path}")
    a = _closed_trade(
        "ETH/BTC",
        amount=0.5,
        entry=0.1,
        exits=[("exit_signal", 0.5, 0.099, 60)],
        fee=SPOT_FEE,
        reason="exit_signal",
        start=0,
    )
    _observe(
        a,
        Side.LONG,
        [("take_profit", (1,), 0.125, 0.1011, 10), ("take_profit", (2,), 0.093, 0.1021, 20)],
    )
    b = _closed_trade(
        "ETH/BTC",
        amount=0.5,
        entry=0.1,
        exits=[("host_take_profit", 0.5, 0.1026, 200)],
        fee=SPOT_FEE,
        reason="host_take_profit",
        start=100,
    )
    _observe(
        b,
        Side.LONG,
        [("take_profit", (1,), 0.125, 0.1011, 110), ("stop", (), 0.375, 0.0999, 120)],
    )
    c = _closed_trade(
        "XRP/USDT:USDT",
        short=True,
        leverage=10.0,
        amount=300.0,
        entry=1.0,
        exits=[("stop_loss", 300.0, 1.05, 400)],
        fee=FUTURES_FEE,
        reason="stop_loss",
        start=300,
    )
    # C's state records its creation mode (as with pair_modes), under the main key.
    _observe(c, Side.SHORT, [("loss_guard", (), 300.0, 1.012, 350)], "exit_brain", "observe")
    d = _closed_trade(
        "ETH/BTC",
        amount=0.5,
        entry=0.1,
        exits=[("exit_brain_tp1", 0.125, 0.101, 510), ("stop_loss", 0.375, 0.1, 520)],
        fee=SPOT_FEE,
        reason="stop_loss",
        start=500,
    )
    d.set_custom_data(
        "exit_brain",
        to_json_dict(
            create_state(
                PositionOpen(
                    pair="ETH/BTC",
                    side=Side.LONG,
                    entry_price=0.1,
                    amount=0.5,
                    initial_stop_price=0.08,
                    price_step=1e-6,
                ),
                CONFIG,
            ).state
        ),
    )
    _closed_trade(
        "LTC/BTC",
        amount=2.0,
        entry=0.02,
        exits=[("exit_signal", 2.0, 0.021, 620)],
        fee=SPOT_FEE,
        reason="exit_signal",
        start=600,
    )
    yield path
    Trade.session.remove()


def _long(amount, entry, exits, fee):
    """PnL of a long by hand: exits (amount, price) sold net of fees, entry bought with fees."""
    return sum(a * p * (1 - fee) for a, p in exits) - amount * entry * (1 + fee)


def _short(amount, entry, exits, fee):
    return amount * entry * (1 - fee) - sum(a * p * (1 + fee) for a, p in exits)


def test_shadow_report_of_a_hand_built_database_matches_the_figures_by_hand(shadow_db, capsys):
    assert main(["shadow", str(shadow_db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    by_id = {position["trade_id"]: position for position in report["positions"]}
    assert [by_id[i]["mode"] for i in (1, 2, 3, 4, 5)] == [
        "observe",
        "observe",
        "observe",
        "act",
        "off",
    ]

    actual_a = _long(0.5, 0.1, [(0.5, 0.099)], SPOT_FEE)
    would_a = _long(0.5, 0.1, [(0.125, 0.1011), (0.093, 0.1021), (0.282, 0.099)], SPOT_FEE)
    actual_b = _long(0.5, 0.1, [(0.5, 0.1026)], SPOT_FEE)
    would_b = _long(0.5, 0.1, [(0.125, 0.1011), (0.375, 0.0999)], SPOT_FEE)
    actual_c = _short(300.0, 1.0, [(300.0, 1.05)], FUTURES_FEE)
    would_c = _short(300.0, 1.0, [(300.0, 1.012)], FUTURES_FEE)
    # freqtrade's own profit of the host's exits is the hand figure (its fee model).
    assert actual_a == pytest.approx(-0.0005995, abs=1e-12)
    assert would_a == pytest.approx(-0.0000492508, abs=1e-12)
    assert actual_c == pytest.approx(-15.3075, abs=1e-9)
    assert would_c == pytest.approx(-3.9018, abs=1e-9)
    for trade_id, actual, would in (
        (1, actual_a, would_a),
        (2, actual_b, would_b),
        (3, actual_c, would_c),
    ):
        position = by_id[trade_id]
        assert position["actual_pnl"] == pytest.approx(actual, abs=1e-9), trade_id
        assert position["would_pnl"] == pytest.approx(would, abs=1e-9), trade_id
        assert position["difference"] == pytest.approx(would - actual, abs=1e-9), trade_id
    assert by_id[1]["held_at_final_exit"] == pytest.approx(0.282)  # sold at the host's exit
    assert by_id[2]["held_at_final_exit"] == 0.0
    assert by_id[3]["would_pct"] == pytest.approx(100 * would_c / 30.0)  # stake: 300 / 10x
    assert by_id[1]["difference"] > 0 > by_id[2]["difference"]

    observe = report["modes"]["observe"]
    assert observe["positions"] == observe["compared"] == 3
    assert observe["actual_pnl"] == pytest.approx(actual_a + actual_b + actual_c, abs=1e-9)
    assert observe["would_pnl"] == pytest.approx(would_a + would_b + would_c, abs=1e-9)
    assert observe["would_have_helped"]["positions"] == 2
    assert observe["would_have_helped"]["by"] == pytest.approx(
        (would_a - actual_a) + (would_c - actual_c), abs=1e-9
    )
    assert observe["would_have_cost"] == {
        "positions": 1,
        "by": pytest.approx(actual_b - would_b, abs=1e-12),
    }
    assert observe["would_tp_hits"] == {"tp1": 2, "tp2": 1}
    assert observe["would_ratchets"] == {"breakeven": 2, "tp1": 1}
    assert observe["would_loss_guard_fires"] == observe["would_loss_guard_saves"] == 1
    assert observe["loss_guard_difference"] == pytest.approx(11.4 * 1.0005, abs=1e-9)
    assert observe["would_stop_exits"] == {"breakeven": 1}

    # The act and off positions are counted with their actual PnL only.
    act, off = report["modes"]["act"], report["modes"]["off"]
    assert act["positions"] == off["positions"] == 1
    # freqtrade rounds each partial exit's profit to 8 decimals
    assert act["actual_pnl"] == pytest.approx(
        _long(0.5, 0.1, [(0.125, 0.101), (0.375, 0.1)], SPOT_FEE), abs=1e-8
    )
    assert off["actual_pnl"] == pytest.approx(_long(2.0, 0.02, [(2.0, 0.021)], SPOT_FEE))
    assert "would_pnl" not in act


def test_a_position_observed_without_a_ledger_is_listed_unpriced(shadow_db, capsys):
    from freqtrade.persistence import Trade

    trade = Trade.get_trades([Trade.id == 1]).first()
    trade.delete_custom_data("exit_brain_shadow")
    assert main(["shadow", str(shadow_db), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    first = report["positions"][0]
    assert first["would_pnl"] is None
    assert first["note"].startswith("unpriced: the observe state booked fills")
    assert report["modes"]["observe"]["compared"] == 2
    assert report["modes"]["observe"]["unpriced"] == 1
