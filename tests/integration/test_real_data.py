"""Backtests over the shipped real market data, through freqtrade's own Backtesting.start()."""

import math
import os
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest
from freqtrade.commands import Arguments
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.data.history import load_pair_history
from freqtrade.enums import CandleType, RunMode
from freqtrade.optimize.backtesting import Backtesting

from exit_brain_plugin.adapter.tools.offline import install_offline_markets
from exit_brain_plugin.core.pricing import floor_to_step
from tests.integration.backtest_harness import REPO


SPOT = ("config.json", "20180110-20180130")
FUTURES = ("config-futures.json", "20211115-20211122")
HOST = "ExitBrainSampleSignals"
BRAIN = "ExitBrainSampleStrategy"
COMPARED = [
    "pair",
    "open_date",
    "close_date",
    "open_rate",
    "close_rate",
    "amount",
    "exit_reason",
    "profit_abs",
]


def backtest(
    market: tuple[str, str], strategies: list[str], brain: dict[str, Any] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Run freqtrade's backtest of ``strategies`` on the shipped data; return their trades."""
    install_offline_markets()
    config_file, timerange = market
    # The same arguments the command line builds (with all of freqtrade's defaults).
    args = Arguments(
        [
            "backtesting",
            "--config",
            str(REPO / config_file),
            "--userdir",
            str(REPO / "user_data"),
            "--timerange",
            timerange,
            "--export",
            "none",
            "--cache",
            "none",
            "--strategy-list",
            *strategies,
        ]
    ).get_parsed_arg()
    config = setup_optimize_configuration(args, RunMode.BACKTEST)
    if brain is not None:
        config["exit_brain"] = {**config["exit_brain"], **brain}
    backtesting = Backtesting(config)
    backtesting.start()
    return {name: result["trades"] for name, result in backtesting.results["strategy"].items()}


def _compared(trades: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(trade[key] for key in COMPARED) for trade in trades]


def test_enabled_false_gives_exactly_the_trades_of_the_host_strategy_alone():
    trades = backtest(SPOT, [HOST, BRAIN], brain={"enabled": False})
    assert len(trades[HOST]) > 50
    assert _compared(trades[BRAIN]) == _compared(trades[HOST])


def test_observe_mode_leaves_trades_unchanged_and_logs_the_would_be_decisions(caplog):
    caplog.set_level("INFO", logger="exit_brain")
    trades = backtest(SPOT, [HOST, BRAIN], brain={"mode": "observe"})
    assert _compared(trades[BRAIN]) == _compared(trades[HOST])
    observed = [
        r.getMessage() for r in caplog.records if "[OBSERVE: not executed]" in r.getMessage()
    ]
    assert any(m.startswith("[EXIT_TP_TRIGGER] 🎯") and "TP1 HIT" in m for m in observed)
    assert any(m.startswith("[EXIT_RATCHET_SL] 🎯") for m in observed)
    assert "[EXIT_BRAIN_EXECUTOR] Initialized in OBSERVE MODE" in caplog.text
    # Nothing the brain decided reached freqtrade.
    tags = {o["ft_order_tag"] for t in trades[BRAIN] for o in t["orders"]}
    assert not any(tag.startswith("exit_brain_") for tag in tags)


def _candles(config_file: str, pair: str) -> pd.DataFrame:
    futures = "futures" in config_file
    return load_pair_history(
        pair=pair,
        timeframe="5m",
        datadir=REPO / "user_data" / "data" / "binance",
        data_format="feather",
        candle_type=CandleType.FUTURES if futures else CandleType.SPOT,
    ).set_index("date")


def _ladder_facts(
    market: tuple[str, str], step_by_pair: dict[str, float], tick_by_pair: dict[str, float]
) -> dict[str, int]:
    trades = backtest(market, [BRAIN])[BRAIN]
    fractions = (0.25, 0.25, 0.5)
    counts = {
        "trades": len(trades),
        "partials": 0,
        "stops_after_tp": 0,
        "stop_gaps": 0,
        "losses_beyond_guard": 0,
        "guard_gaps": 0,
    }
    candles = {pair: _candles(market[0], pair) for pair in step_by_pair}
    for trade in trades:
        pair, short = trade["pair"], trade["is_short"]
        step, tick = step_by_pair[pair], tick_by_pair[pair]
        sign = -1.0 if short else 1.0
        remaining = sum(o["amount"] for o in trade["orders"] if o["ft_is_entry"])
        hits = 0
        for order in (o for o in trade["orders"] if not o["ft_is_entry"]):
            tag = order["ft_order_tag"]
            if tag.startswith("exit_brain_tp"):
                legs = [int(part[2:]) for part in tag.removeprefix("exit_brain_").split("+")]
                keep = math.prod(1 - fractions[leg - 1] for leg in legs)
                expected = floor_to_step(remaining * (1 - keep), step)
                # every partial is its fraction of the remaining size, within one step
                assert abs(order["amount"] - expected) <= step + 1e-12 or math.isclose(
                    order["amount"], remaining
                ), (trade, order, expected)
                hits = legs[-1]
                counts["partials"] += 1
            elif tag.startswith("exit_brain_stop_") and hits:
                counts["stops_after_tp"] += 1
                open_rate = trade["open_rate"]
                floor = (
                    open_rate if hits == 1 else round(open_rate * (1 + sign * 0.01) / tick) * tick
                )
                at_or_beyond = sign * (order["safe_price"] - floor) >= -tick * 1.01
                if not at_or_beyond:  # only a candle that opened through the stop may do that
                    filled = pd.Timestamp(order["order_filled_timestamp"], unit="ms", tz="UTC")
                    assert math.isclose(candles[pair].loc[filled, "open"], order["safe_price"]), (
                        trade,
                        order,
                    )
                    counts["stop_gaps"] += 1
            remaining -= order["amount"]
        if trade["profit_ratio"] < -0.125 - 0.003:  # fees on both sides × leverage
            counts["losses_beyond_guard"] += 1
            close = pd.Timestamp(trade["close_timestamp"], unit="ms", tz="UTC")
            assert math.isclose(candles[pair].loc[close, "open"], trade["close_rate"]), trade
            counts["guard_gaps"] += 1
    return counts


def test_real_spot_backtest_fills_every_partial_at_its_fraction_and_stops_at_their_ratchet():
    counts = _ladder_facts(
        SPOT, {"ETH/BTC": 0.001, "LTC/BTC": 0.01}, {"ETH/BTC": 1e-6, "LTC/BTC": 1e-6}
    )
    assert counts["trades"] > 50
    assert counts["partials"] > 20
    assert counts["stops_after_tp"] > 10
    print("spot", counts)


def test_real_futures_backtest_with_shorts_fills_every_partial_at_its_fraction():
    counts = _ladder_facts(FUTURES, {"XRP/USDT:USDT": 0.1}, {"XRP/USDT:USDT": 0.0001})
    assert counts["trades"] > 10
    assert counts["partials"] > 5
    print("futures", counts)


@pytest.mark.skipif(os.environ.get("EXIT_BRAIN_SKIP_HYPEROPT") == "1", reason="asked to skip")
def test_hyperopt_with_two_workers_over_the_brain_parameters_runs_offline():
    command = [
        sys.executable,
        "-m",
        "exit_brain_plugin.adapter.tools.cli",
        "ft",
        "hyperopt",
        "--config",
        "config.json",
        "--userdir",
        "user_data",
        "--strategy",
        BRAIN,
        "--spaces",
        "exitbrain",
        "--epochs",
        "4",
        "-j",
        "2",
        "--hyperopt-loss",
        "SharpeHyperOptLoss",
        "--timerange",
        "20180110-20180115",
        "--disable-param-export",
        "--random-state",
        "42",
    ]
    done = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "eb_tp_distance_scale" in output
    assert "4/4" in output or "Best result" in output or "epochs" in output
