"""A hand-built backtest with five trades, run by freqtrade itself, exported as freqtrade does.

Spot ETH/BTC, 1h candles, fee 0, stake 0.05 BTC at 0.1 (0.5 ETH), the test host's stop set to
-20 % by the config (initial stop 0.08), the config's ladder 0.101 / 0.102 / 0.104 and the
loss guard at -12.5 % (0.0875). Each row is one candle; freqtrade enters at the open of the
candle after the signal. Expected outcome with the brain on (hand-computed in the tests):

- A (rows 1-4): TP1 0.125 @ 0.101 inside candle 2, stop to breakeven, stopped at 0.1 (0.375);
- B (rows 6-10): TP1 @ 0.101, TP2 0.093 @ 0.102, stop to TP1's price, stopped at 0.101 (0.282);
- C (rows 12-14): falls through the loss-guard price: 0.5 closed @ 0.0875 (-12.5 %); without
  the guard the initial stop closes it @ 0.08 on row 15;
- D (rows 17-20): opens beyond TP1 and TP2: one exit 0.218 @ 0.1025, stopped at 0.101 (0.282);
- E (rows 22-24): the strategy's exit signal closes 0.5 @ 0.0999.
"""

import copy
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.optimize.optimize_reports import generate_backtest_stats, store_backtest_results

from tests.integration.backtest_harness import BacktestRun, make_config, run_backtest
from tests.integration.backtest_harness import Candle as C


PAIR = "ETH/BTC"
ROWS = [
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 0 signal A
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 1 A enters at 0.1
    C(0.1000, 0.1015, 0.0999, 0.1010),  # 2 A: TP1 0.101 touched inside
    C(0.1010, 0.1012, 0.1003, 0.1005),  # 3
    C(0.1005, 0.1006, 0.0998, 0.0999),  # 4 A: breakeven stop 0.1 hit
    C(0.0999, 0.1000, 0.0998, 0.0999, enter_long=1),  # 5 signal B
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 6 B enters at 0.1
    C(0.1000, 0.1012, 0.1001, 0.1010),  # 7 B: TP1
    C(0.1010, 0.1021, 0.1005, 0.1019),  # 8 B: TP2, stop to 0.101
    C(0.1019, 0.1019, 0.1012, 0.1013),  # 9
    C(0.1013, 0.1014, 0.1008, 0.1009),  # 10 B: stop 0.101 hit
    C(0.1009, 0.1010, 0.1008, 0.1009, enter_long=1),  # 11 signal C
    C(0.1000, 0.1004, 0.0996, 0.1000),  # 12 C enters at 0.1
    C(0.1000, 0.1000, 0.0950, 0.0960),  # 13
    C(0.0960, 0.0970, 0.0870, 0.0880),  # 14 C: loss guard 0.0875 inside
    C(0.0880, 0.0890, 0.0790, 0.0800),  # 15 (guard off: initial stop 0.08)
    C(0.1000, 0.1000, 0.1000, 0.1000, enter_long=1),  # 16 signal D
    C(0.1000, 0.1005, 0.0995, 0.1000),  # 17 D enters at 0.1
    C(0.1025, 0.1030, 0.1022, 0.1028),  # 18 D: opens beyond TP1 and TP2
    C(0.1028, 0.1030, 0.1015, 0.1020),  # 19
    C(0.1020, 0.1021, 0.1005, 0.1006),  # 20 D: stop 0.101 hit
    C(0.1006, 0.1007, 0.1004, 0.1005, enter_long=1),  # 21 signal E
    C(0.1000, 0.1008, 0.0998, 0.1004),  # 22 E enters at 0.1
    C(0.1004, 0.1006, 0.0998, 0.1000, exit_long=1),  # 23 exit signal E
    C(0.0999, 0.1000, 0.0995, 0.0998),  # 24 E exits at the open 0.0999
    C(0.0998, 0.0999, 0.0997, 0.0998),  # 25
]
START_BALANCE = 0.2  # config.json's dry_run_wallet


def config(**brain: Any) -> dict[str, Any]:
    """Return the scenario's freqtrade config with ``brain`` over config.json's settings."""
    base = make_config(extra={"stoploss": -0.2})
    base["exit_brain"] = {**base["exit_brain"], **brain}
    return base


def run(**brain: Any) -> BacktestRun:
    """Backtest the scenario with ``brain`` settings."""
    return run_backtest(ROWS, config(**brain), pair=PAIR)


def export_trades(backtest: BacktestRun, name: str = "ExitBrainTestStrategy") -> dict[str, Any]:
    """Return freqtrade's export-shaped stats of a harness run (``stats['strategy'][name]``)."""
    return _stats(backtest, name)["strategy"][name]


def _stats(backtest: BacktestRun, name: str) -> dict[str, Any]:
    bt = backtest.backtesting
    strategy_config = backtest.strategy.config
    content = {
        "results": backtest.results,
        "config": strategy_config,
        "locks": [],
        "rejected_signals": bt.rejected_trades,
        "timedout_entry_orders": bt.timedout_entry_orders,
        "timedout_exit_orders": bt.timedout_exit_orders,
        "canceled_trade_entries": bt.canceled_trade_entries,
        "canceled_entry_orders": bt.canceled_entry_orders,
        "replaced_entry_orders": bt.replaced_entry_orders,
        "final_balance": bt.wallets.get_total(strategy_config["stake_currency"]),
        "run_id": "hand-built",
        "backtest_start_time": 0,
        "backtest_end_time": 0,
    }
    frame = backtest.frame[["date", "open", "high", "low", "close", "volume"]]
    first, last = frame["date"].min().to_pydatetime(), frame["date"].max().to_pydatetime()
    return generate_backtest_stats({PAIR: frame}, {name: content}, first, last)


def export(backtest: BacktestRun, directory: Path, name: str = "ExitBrainTestStrategy") -> Path:
    """Write a freqtrade export zip of a harness run (freqtrade's own store) and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    store_config = copy.deepcopy(backtest.strategy.config)
    store_config["exportdirectory"] = directory
    return store_backtest_results(store_config, _stats(backtest, name), "hand-built")


def write_candles(datadir: Path) -> None:
    """Write the scenario's candles where freqtrade's loader finds them (plots)."""
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    frame = run_frame()
    get_datahandler(datadir, "feather").ohlcv_store(PAIR, "1h", frame, CandleType.SPOT)


def run_frame() -> pd.DataFrame:
    """Return the scenario's OHLCV candles."""
    from tests.integration.backtest_harness import candles_frame

    return candles_frame(ROWS, timeframe="1h")[["date", "open", "high", "low", "close", "volume"]]
