"""One worker's freqtrade: the strategy's backtest on a window, and freqtrade's figures of it.

Rules:
1. A worker loads the candles once (:attr:`Engine.loads`) and computes the indicators once per
   window, exactly as ``freqtrade backtesting --timerange <window>`` does (same startup
   candles), so a trial costs freqtrade's backtest loop only and a window's figures equal a
   direct backtest.
2. The figures are freqtrade's own (``calculate_max_drawdown``, its hyperopt losses, its dry-run
   wallet); the score shown is the loss negated, and a window with fewer trades than
   ``hyperopt_min_trades`` scores MAX_LOSS (no score).
"""

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from freqtrade.commands import Arguments
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.configuration import TimeRange
from freqtrade.data import history
from freqtrade.data.converter import trim_dataframe, trim_dataframes
from freqtrade.data.metrics import calculate_max_drawdown
from freqtrade.enums import RunMode
from freqtrade.exceptions import FreqtradeException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.optimize.backtesting import Backtesting
from freqtrade.optimize.hyperopt_loss.hyperopt_loss_calmar import CalmarHyperOptLoss
from freqtrade.optimize.hyperopt_loss.hyperopt_loss_onlyprofit import OnlyProfitHyperOptLoss
from freqtrade.optimize.hyperopt_loss.hyperopt_loss_sharpe import SharpeHyperOptLoss
from freqtrade.resolvers import StrategyResolver
from freqtrade.util.dry_run_wallet import get_dry_run_wallet
from pandas import DataFrame, concat

from exit_brain_plugin.adapter.tools.tune.options import TuneError, TuneOptions
from exit_brain_plugin.core.config import parse_config
from exit_brain_plugin.core.errors import ConfigError
from exit_brain_plugin.core.tuning import Window


#: freqtrade's hyperopt losses, by ``--loss``; the score shown is the loss negated.
LOSSES: dict[str, Any] = {
    "sharpe": SharpeHyperOptLoss,
    "profit": OnlyProfitHyperOptLoss,
    "calmar": CalmarHyperOptLoss,
}
#: freqtrade's value for a trial with too few trades (hyperopt_optimizer.py MAX_LOSS).
MAX_LOSS = 100000.0


@dataclass(slots=True, kw_only=True)
class RunResult:
    """freqtrade's figures of one backtest on one window."""

    results: DataFrame
    trades: int
    wins: int
    profit_abs: float
    profit_pct: float
    max_drawdown_abs: float
    max_drawdown_pct: float
    win_rate: float
    loss: float

    def to_json(self, loss_name: str) -> dict[str, Any]:
        """Return the figures as JSON types."""
        return {
            "trades": self.trades,
            "profit_abs": self.profit_abs,
            "profit_pct": self.profit_pct,
            "max_drawdown_abs": self.max_drawdown_abs,
            "max_drawdown_pct": self.max_drawdown_pct,
            "win_rate": self.win_rate,
            loss_name: score(self.loss),
        }


def score(loss: float) -> float | None:
    """Return the score shown for a loss (the loss negated; ``None`` for too few trades)."""
    return None if loss >= MAX_LOSS else -loss


@dataclass(frozen=True, slots=True)
class _Prepared:
    processed: dict[str, DataFrame]
    timerange: TimeRange
    start: Any
    end: Any


class Engine:
    """One process's freqtrade: candles loaded once, indicators once per window."""

    def __init__(self, options: TuneOptions, span: Window) -> None:
        """Load the config, the strategy and the candles of ``span`` (with startup candles).

        :raises TuneError: for a config, strategy or data freqtrade or the brain refuses
        """
        from exit_brain_plugin.adapter.tools.offline import install_offline_markets

        self.loss_name = options.loss
        self.loads = 0
        self._prepared: dict[Window, _Prepared] = {}
        self._strategies: dict[bool, Any] = {}
        try:
            install_offline_markets()
            argv = ["backtesting", "--config", str(options.config_file)]
            argv += ["--userdir", str(options.userdir), "--strategy", options.strategy]
            argv += ["--export", "none", "--cache", "none", "--timerange", span.timerange()]
            config = setup_optimize_configuration(
                Arguments(argv).get_parsed_arg(), RunMode.BACKTEST
            )
            section = config.get("exit_brain") or {}
            parse_config(section)
            self.section: dict[str, Any] = dict(section)
            config["exit_brain"] = {**section, "enabled": True, "mode": "act"}
            self.config = config
            self.backtesting = Backtesting(config)
            self.backtesting.progress = None
            self.data, _ = self.backtesting.load_bt_data()
            self.loads += 1
        except ConfigError as error:
            raise TuneError(f"{options.config_file}: exit_brain: {error}") from error
        except FreqtradeException as error:
            raise TuneError(f"{options.config_file}: {error}") from error
        self.timeframe_secs = timeframe_to_seconds(self.backtesting.timeframe)
        self.startup = self.backtesting.required_startup
        self.starting_balance = float(get_dry_run_wallet(config))
        self._activate(enabled=True)

    def _activate(self, *, enabled: bool) -> Any:
        strategy = self._strategies.get(enabled)
        if strategy is None:
            if enabled:
                strategy = self.backtesting.strategylist[0]
            else:
                config = copy.deepcopy(self.config)
                config["exit_brain"] = {**self.config["exit_brain"], "enabled": False}
                strategy = StrategyResolver.load_strategy(config)
            # What freqtrade does once per strategy of a --strategy-list backtest (ft_bot_start).
            self.backtesting._set_strategy(strategy)
            self._strategies[enabled] = strategy
        else:
            self.backtesting.strategy = strategy
        return strategy

    def _prepare(self, window: Window) -> _Prepared:
        # As `freqtrade backtesting --timerange <window>` loads and analyses its data
        # (history.load_data with startup candles, load_bt_data, backtest_one_strategy).
        prepared = self._prepared.get(window)
        if prepared is not None:
            return prepared
        timerange = TimeRange.parse_timerange(window.timerange())
        with_startup = timerange.copy()
        with_startup.subtract_start(self.timeframe_secs * self.startup)
        candles = {
            pair: trim_dataframe(frame, with_startup).reset_index(drop=True)
            for pair, frame in self.data.items()
        }
        candles = {pair: frame for pair, frame in candles.items() if not frame.empty}
        if not candles:
            raise TuneError(f"no candles in {window.label()}: check --timerange against the data")
        first, _ = history.get_timerange(candles)
        timerange.adjust_start_if_necessary(self.timeframe_secs, self.startup, first)
        strategy = self.backtesting.strategy
        processed = strategy.advise_all_indicators(candles)
        trimmed = trim_dataframes(processed, timerange, self.startup)
        if not trimmed:
            raise TuneError(f"no candles left in {window.label()} after the startup candles")
        start, end = history.get_timerange(trimmed)
        prepared = _Prepared(processed, timerange, start, end)
        self._prepared[window] = prepared
        return prepared

    def run(self, section: Mapping[str, Any], window: Window) -> RunResult:
        """Backtest the strategy with the ``exit_brain`` section ``section`` on ``window``."""
        enabled = bool(section.get("enabled", True))
        strategy = self._activate(enabled=enabled)
        if enabled:
            strategy.eb_use_settings({**section, "mode": "act"})
        prepared = self._prepare(window)
        self.backtesting.timerange = prepared.timerange.copy()
        content = self.backtesting.backtest(
            processed={pair: frame.copy() for pair, frame in prepared.processed.items()},
            start_date=prepared.start,
            end_date=prepared.end,
        )
        return self.figures(content["results"], prepared.start, prepared.end)

    def figures(self, results: DataFrame, start: Any, end: Any) -> RunResult:
        """Return freqtrade's figures of ``results`` (a backtest's trades, or several together).

        The same functions and starting balance as freqtrade's backtest report
        (``optimize_reports.generate_strategy_stats``), without its per-pair and per-tag tables.
        """
        trades = len(results)
        profit = float(results["profit_abs"].sum()) if trades else 0.0
        wins = int((results["profit_abs"] > 0).sum()) if trades else 0
        drawdown_abs = drawdown_pct = 0.0
        if trades:
            try:
                drawdown = calculate_max_drawdown(
                    results, value_col="profit_abs", starting_balance=self.starting_balance
                )
                drawdown_abs = float(drawdown.drawdown_abs)
                drawdown_pct = 100.0 * float(drawdown.relative_account_drawdown)
            except ValueError:  # freqtrade: "No losing trade, therefore no drawdown."
                pass
        return RunResult(
            results=results,
            trades=trades,
            wins=wins,
            profit_abs=profit,
            profit_pct=100.0 * profit / self.starting_balance if self.starting_balance else 0.0,
            max_drawdown_abs=drawdown_abs,
            max_drawdown_pct=drawdown_pct,
            win_rate=wins / trades if trades else 0.0,
            loss=self.loss(results, start, end),
        )

    def loss(self, results: DataFrame, start: Any, end: Any) -> float:
        """Return freqtrade's hyperopt loss of ``results`` (MAX_LOSS below hyperopt_min_trades)."""
        if len(results) < int(self.config.get("hyperopt_min_trades", 1)):
            return MAX_LOSS
        value = LOSSES[self.loss_name].hyperopt_loss_function(
            results=results,
            trade_count=len(results),
            min_date=start,
            max_date=end,
            config=self.config,
            processed={},
            starting_balance=self.starting_balance,
        )
        return float(value) if math.isfinite(value) else MAX_LOSS

    def total(self, runs: Sequence[RunResult], start: Any, end: Any) -> RunResult:
        """Return the figures of the test windows together (each fold starts afresh)."""
        frames = [run.results for run in runs if len(run.results)]
        results = concat(frames, ignore_index=True) if frames else runs[0].results
        return self.figures(results, start, end)
