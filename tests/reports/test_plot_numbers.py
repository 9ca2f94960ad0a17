"""``exit-brain plot`` on the hand-built export: every trace at the price and time it happened."""

import re
from datetime import UTC, datetime

from exit_brain_plugin.adapter.tools.cli import main


def _at(hour: int, day: int = 3) -> datetime:
    return datetime(2022, 1, day, hour, tzinfo=UTC)


def _figure(hand_built, trade: int):
    from exit_brain_plugin.adapter.tools.plot import build_figure, load_candles, select
    from exit_brain_plugin.reports.sources import load_backtest

    (trade_set,) = load_backtest(hand_built["zips"]["on"])
    request = select(trade_set, "ETH/BTC", trade)
    candles = load_candles(request, hand_built["datadir"])
    return {trace.name: trace for trace in build_figure(request, candles).data}, candles


def _points(trace):
    return list(zip(trace.x, trace.y, strict=True))


def test_trade_a_tp1_fill_and_the_stop_stepping_to_breakeven(hand_built):
    traces, candles = _figure(hand_built, 1)
    # Candles: the trade (rows 1-4) and 24 candles of padding either side, as far as there are.
    assert candles["date"].min() == _at(0)
    assert _points(traces["entry"]) == [(_at(1), 0.1)]
    assert _points(traces["TP fills"]) == [(_at(2), 0.101)]  # TP1, inside candle 2
    assert traces["TP fills"].text == ("exit_brain_tp1 0.125 @ 0.101",)
    assert _points(traces["TP1 level"]) == [(_at(1), 0.101), (_at(4), 0.101)]
    assert _points(traces["TP2 level"]) == [(_at(1), 0.102), (_at(4), 0.102)]
    assert _points(traces["TP3 level"]) == [(_at(1), 0.104), (_at(4), 0.104)]
    # The initial stop from the entry, breakeven from the TP1 fill, to the exit.
    assert _points(traces["stop"]) == [
        (_at(1), 0.080001),
        (_at(2), 0.1),
        (_at(4), 0.1),
    ]
    assert traces["stop"].line.shape == "hv"
    # -12.5 % of 0.1 is on the tick: the brain holds exactly 0.0875 (issue 9).
    assert _points(traces["loss guard"]) == [(_at(1), 0.0875), (_at(4), 0.0875)]
    assert _points(traces["exit"]) == [(_at(4), 0.1)]
    assert traces["exit"].text == ("exit_brain_stop_breakeven 0.375 @ 0.1",)


def test_trade_d_gap_fill_moves_the_stop_straight_to_tp1(hand_built):
    traces, _ = _figure(hand_built, 4)
    assert _points(traces["TP fills"]) == [(_at(18), 0.1025)]
    assert traces["TP fills"].text == ("exit_brain_tp1+tp2 0.218 @ 0.1025",)
    assert _points(traces["stop"]) == [(_at(17), 0.080001), (_at(18), 0.101), (_at(20), 0.101)]
    assert _points(traces["exit"]) == [(_at(20), 0.101)]


def test_the_pair_chart_holds_every_trade_and_the_file_opens_offline(hand_built, tmp_path):
    traces, _ = _figure(hand_built, None)
    assert len(traces["entry"].x) == 5
    assert list(traces["TP fills"].y) == [0.101, 0.101, 0.102, 0.1025]
    assert traces["exit"].text[2] == "exit_brain_loss_guard 0.5 @ 0.0875"
    out = tmp_path / "chart.html"
    argv = ["plot", str(hand_built["zips"]["on"]), "--pair", "ETH/BTC", "--trade", "2"]
    assert main([*argv, "--datadir", str(hand_built["datadir"]), "--out", str(out)]) == 0
    html = out.read_text()
    assert "plotly.js" in html or "Plotly" in html
    # plotly.js is embedded (no <script src=...>): the chart opens without a network.
    assert re.search(r"<script[^>]*\bsrc=", html) is None
    assert len(html) > 3_000_000
    assert "exit_brain_tp2 0.093 @ 0.102" in html


def test_plot_errors_are_one_line(hand_built, capsys, tmp_path):
    export = str(hand_built["zips"]["on"])
    assert main(["plot", export, "--pair", "LTC/BTC"]) == 2
    assert main(["plot", export, "--pair", "ETH/BTC", "--trade", "9"]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["plot", export, "--pair", "ETH/BTC", "--datadir", str(empty)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert "no trades of LTC/BTC (pairs with trades: ETH/BTC)" in lines[0]
    assert "--trade must be 1-5, was 9" in lines[1]
    assert "no 1h candles for ETH/BTC" in lines[2]
    assert all(line.startswith("exit-brain: ") for line in lines)
