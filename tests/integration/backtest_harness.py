"""Run freqtrade's own Backtesting in-process on hand-built candles (FREQTRADE_NOTES §6.4)."""

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.optimize.backtesting import Backtesting
from freqtrade.persistence import LocalTrade

from exit_brain_plugin.adapter.tools.offline import install_offline_markets
from tests.trade_orders import exit_orders


__all__ = ["BacktestRun", "Candle", "candles_frame", "exit_orders", "make_config", "run_backtest"]

REPO = Path(__file__).resolve().parents[2]
STRATEGIES = Path(__file__).resolve().parent / "strategies"
SPOT_PAIR = "ETH/BTC"
FUTURES_PAIR = "XRP/USDT:USDT"


@dataclass
class Candle:
    """One row: OHLC plus the signal of that candle (freqtrade shifts signals itself)."""

    open: float
    high: float
    low: float
    close: float
    enter_long: int = 0
    enter_short: int = 0
    exit_long: int = 0
    exit_short: int = 0


@dataclass
class BacktestRun:
    """What a test looks at after a backtest."""

    results: pd.DataFrame
    trades: list[Any]
    strategy: Any
    backtesting: Any
    frame: pd.DataFrame
    states: dict[int, Any] = field(default_factory=dict)


def candles_frame(
    rows: list[Candle], *, start: str = "2022-01-03 00:00:00", timeframe: str = "1h"
) -> pd.DataFrame:
    """Return a freqtrade dataframe (date, OHLCV, signals, tags) from candle rows."""
    dates = pd.date_range(start=start, periods=len(rows), freq=timeframe, tz="UTC")
    frame = pd.DataFrame(
        {
            "date": dates,
            "open": [r.open for r in rows],
            "high": [r.high for r in rows],
            "low": [r.low for r in rows],
            "close": [r.close for r in rows],
            "volume": [1000.0] * len(rows),
            "enter_long": [r.enter_long for r in rows],
            "exit_long": [r.exit_long for r in rows],
            "enter_short": [r.enter_short for r in rows],
            "exit_short": [r.exit_short for r in rows],
            "enter_tag": [None] * len(rows),
            "exit_tag": [None] * len(rows),
        }
    )
    return frame


def make_config(
    *,
    futures: bool = False,
    brain: dict[str, Any] | None = None,
    strategy: str = "ExitBrainTestStrategy",
    timeframe: str = "1h",
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a freqtrade backtest config from the repo's config.json (or futures config)."""
    install_offline_markets()
    args = {
        "config": [str(REPO / ("config-futures.json" if futures else "config.json"))],
        "user_data_dir": str(REPO / "user_data"),
        "datadir": str(REPO / "user_data" / "data" / "binance"),
        "strategy": strategy,
        "strategy_path": str(STRATEGIES),
        "timeframe": timeframe,
        "export": "none",
        "fee": 0.0,
    }
    config = Configuration(args, RunMode.BACKTEST).get_config()
    config["exit_brain"] = (
        copy.deepcopy(brain) if brain is not None else config.get("exit_brain", {})
    )
    config["stake_amount"] = 100.0 if futures else 0.05
    config["max_open_trades"] = 1
    for key, value in (extra or {}).items():
        config[key] = value
    return config


def run_backtest(
    rows: list[Candle] | pd.DataFrame,
    config: dict[str, Any],
    *,
    pair: str | None = None,
    detail: pd.DataFrame | None = None,
    prepare: Any = None,
) -> BacktestRun:
    """Backtest ``rows`` for one pair and return results, trades and stored states."""
    futures = config.get("trading_mode") == "futures"
    pair = pair or (FUTURES_PAIR if futures else SPOT_PAIR)
    frame = (
        rows
        if isinstance(rows, pd.DataFrame)
        else candles_frame(rows, timeframe=config["timeframe"])
    )
    config = copy.deepcopy(config)
    config["exchange"]["pair_whitelist"] = [pair]
    backtesting = Backtesting(config)
    if prepare is not None:
        prepare(backtesting)  # e.g. compare's fill rules, before the strategy starts
    backtesting._set_strategy(backtesting.strategylist[0])
    strategy = backtesting.strategy
    strategy.advise_entry = lambda df, metadata: frame.copy()
    strategy.advise_exit = lambda df, metadata: frame.copy()
    backtesting.required_startup = 0
    if futures:
        # Zero funding, mark price = candle open: the scenarios test exits, not funding.
        marks = frame[["date", "open", "high", "low", "close", "volume"]]
        backtesting.futures_data = {
            pair: backtesting.exchange.combine_funding_and_mark(
                pd.DataFrame({"date": [], "open": []}), marks, futures_funding_rate=0
            )
        }
        backtesting.funding_fee_timeframe_secs = 8 * 3600
    if detail is not None:
        backtesting.detail_data = {pair: detail}
        backtesting.timeframe_detail = config.get("timeframe_detail")
    result = backtesting.backtest(
        processed={pair: frame}, start_date=frame["date"].min(), end_date=frame["date"].max()
    )
    trades = list(LocalTrade.bt_trades)
    states = {}
    for trade in trades:
        raw = trade.get_custom_data("exit_brain")
        if raw is not None:
            states[trade.id] = json.loads(json.dumps(raw))
    return BacktestRun(
        results=result["results"],
        trades=trades,
        strategy=strategy,
        backtesting=backtesting,
        frame=frame,
        states=states,
    )
