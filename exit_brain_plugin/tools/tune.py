"""``exit-brain tune``: walk-forward tuning of the brain's settings on optuna's storage.

- The layout of the folds and the search space are pure: :mod:`exit_brain_plugin.core.tuning`.
- Each fold is one optuna study (``<study>/fold<k>``) in one storage (SQLite by default, or
  PostgreSQL to share it between machines); every worker process, local (``--workers``) or on
  another machine (the same command), joins the same studies and draws trials until the fold has
  ``--trials`` complete ones, then moves to the next fold. optuna's heartbeat marks the trials of a
  killed worker failed; a rerun continues from the complete trials.
- Each trial is one freqtrade backtest of the strategy on the fold's train window: a worker
  loads the candles once (:attr:`Engine.loads`) and computes the indicators once per window,
  exactly as ``freqtrade backtesting --timerange <window>`` does (same startup candles), so a
  trial costs freqtrade's backtest loop only and a window's figures equal a direct backtest.
- The report scores, on each unseen test window, the fold's best settings against the config's
  current settings and against the brain off (docs/tuning.md).
"""

import copy
import hashlib
import json
import logging
import math
import os
import shlex
import socket
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import optuna
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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, ProgrammingError

from exit_brain_plugin.core.config import parse_config
from exit_brain_plugin.core.errors import ConfigError
from exit_brain_plugin.core.tuning import (
    TUNED_KEYS,
    Fold,
    Window,
    parse_day_range,
    sample_settings,
    walk_forward,
)


#: freqtrade's hyperopt losses, by ``--loss``; the score shown is the loss negated.
LOSSES: dict[str, Any] = {
    "sharpe": SharpeHyperOptLoss,
    "profit": OnlyProfitHyperOptLoss,
    "calmar": CalmarHyperOptLoss,
}
#: freqtrade's value for a trial with too few trades (hyperopt_optimizer.py MAX_LOSS).
MAX_LOSS = 100000.0
DEFAULT_STORAGE_FILE = "exit-brain-tune.sqlite"
HEARTBEAT_SECONDS = 10
STORAGE_ATTEMPTS = 8


class TuneError(Exception):
    """A one-line user error of ``exit-brain tune`` (exit code 2)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TuneOptions:
    """The command line of ``exit-brain tune``."""

    config_file: Path
    strategy: str
    timerange: str
    folds: int
    trials: int
    train_days: int | None = None
    test_days: int | None = None
    workers: int = 1
    storage: str | None = None
    study: str | None = None
    loss: str = "sharpe"
    seed: int | None = None
    userdir: Path = Path("user_data")
    heartbeat: int = HEARTBEAT_SECONDS

    def fold_list(self) -> list[Fold]:
        """Return the walk-forward folds (raises :class:`TuneError` for a bad layout)."""
        try:
            return walk_forward(
                parse_day_range(self.timerange), self.folds, self.train_days, self.test_days
            )
        except ConfigError as error:
            raise TuneError(str(error)) from error

    def storage_url(self) -> str:
        """Return the storage URL: ``--storage``, else SQLite in the user dir."""
        if self.storage:
            url = self.storage
            if url.startswith("postgresql://") or url.startswith("postgres://"):
                # SQLAlchemy's default PostgreSQL driver is psycopg2; freqtrade ships psycopg 3.
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            return url
        return f"sqlite:///{(self.userdir / DEFAULT_STORAGE_FILE).resolve()}"


def safe_url(url: str) -> str:
    """Return ``url`` with its password masked (for messages and the report)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


# ------------------------------------------------------------------------------ one backtest


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
        from exit_brain_plugin.tools.offline import install_offline_markets

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


# ------------------------------------------------------------------------------ studies


def open_storage(url: str, heartbeat: int) -> optuna.storages.RDBStorage:
    """Open optuna's RDB storage (SQLite waits for its lock; heartbeats fail dead trials)."""
    engine_kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 120}
    else:
        engine_kwargs["pool_pre_ping"] = True
    # optuna calls its heartbeat "experimental"; it is how a dead worker's trial gets failed.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    for attempt in range(1, STORAGE_ATTEMPTS + 1):
        try:
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat,
                grace_period=4 * heartbeat,
            )
        except Exception as error:
            if isinstance(error, IntegrityError | ProgrammingError) and attempt < STORAGE_ATTEMPTS:
                # Machines started together on a fresh database race to create optuna's tables
                # (PostgreSQL: UniqueViolation on pg_type); the loser finds them on a retry.
                time.sleep(0.5 * attempt)
                continue
            text = str(error).strip()
            first = text.splitlines()[0] if text else type(error).__name__
            raise TuneError(f"--storage {safe_url(url)}: cannot open it ({first})") from error
    raise AssertionError("unreachable")


def layout(
    options: TuneOptions, folds: Sequence[Fold], section: Mapping[str, Any]
) -> dict[str, Any]:
    """Return what must match for two runs to share a study."""
    return {
        "strategy": options.strategy,
        "timerange": options.timerange,
        "loss": options.loss,
        "trials": options.trials,
        "folds": [[fold.train.timerange(), fold.test.timerange()] for fold in folds],
        "exit_brain": dict(section),
    }


def study_name(options: TuneOptions, folds: Sequence[Fold]) -> str:
    """Return ``--study`` or the default name (the same command gives the same name)."""
    if options.study:
        return options.study
    train, test = folds[0].train.days, folds[0].test.days
    return (
        f"exit-brain-{options.strategy}-{options.timerange}-{len(folds)}x{train}d{test}d-"
        f"{options.loss}"
    )


def fold_study(name: str, fold: Fold) -> str:
    """Return the optuna study name of a fold."""
    return f"{name}/fold{fold.index}"


def create_studies(
    storage: optuna.storages.RDBStorage, name: str, folds: Sequence[Fold], attrs: dict[str, Any]
) -> None:
    """Create (or join) the fold studies; refuse a study made for another layout."""
    fingerprint = hashlib.sha256(json.dumps(attrs, sort_keys=True).encode()).hexdigest()[:16]
    for fold in folds:
        study = optuna.create_study(
            study_name=fold_study(name, fold),
            storage=storage,
            direction="minimize",
            load_if_exists=True,
        )
        known = study.user_attrs.get("layout_fingerprint")
        if known is None:
            study.set_user_attr("layout", attrs)
            study.set_user_attr("layout_fingerprint", fingerprint)
        elif known != fingerprint:
            raise TuneError(
                f"--study {name} already holds a tuning with other settings (strategy, "
                "timerange, folds, loss, trials or the config's exit_brain section): "
                "give another --study name"
            )


def complete_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """Return the study's complete trials."""
    return study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))


# ------------------------------------------------------------------------------ workers


@dataclass(frozen=True, slots=True)
class WorkerResult:
    """What one worker process did."""

    trials: int
    loads: int
    windows: int


def run_worker(
    options: TuneOptions,
    index: int,
    engine: Engine | None = None,
    on_trial: Callable[[], None] | None = None,
) -> WorkerResult:
    """Run trials until every fold has ``options.trials`` complete ones (one process)."""
    logging.disable(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    folds = options.fold_list()
    engine = engine or Engine(options, Window(folds[0].train.start, folds[-1].test.end))
    storage = open_storage(options.storage_url(), options.heartbeat)
    name = study_name(options, folds)
    base = parse_config(engine.section)
    ran = 0
    for fold in folds:
        seed = None if options.seed is None else options.seed + 1000 * index + fold.index
        study = optuna.load_study(
            study_name=fold_study(name, fold),
            storage=storage,
            sampler=optuna.samplers.TPESampler(seed=seed),
        )
        remaining = options.trials - len(complete_trials(study))
        if remaining <= 0:
            continue

        def objective(trial: optuna.Trial, fold: Fold = fold) -> float:
            section = sample_settings(trial, base)
            trial.set_user_attr("exit_brain", section)
            trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
            result = engine.run(section, fold.train)
            trial.set_user_attr("train", result.to_json(options.loss))
            return result.loss

        def budget(study: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
            nonlocal ran
            ran += 1
            if on_trial is not None:
                on_trial()
            if len(complete_trials(study)) >= options.trials:
                study.stop()

        study.optimize(objective, n_trials=remaining, callbacks=[budget], gc_after_trial=False)
    return WorkerResult(trials=ran, loads=engine.loads, windows=len(engine._prepared))


def _spawned_worker(options: TuneOptions, index: int) -> WorkerResult:
    return run_worker(options, index)


# ------------------------------------------------------------------------------ report


@dataclass(frozen=True, slots=True, kw_only=True)
class FoldReport:
    """One fold: its windows, its trials and the three runs on its test window."""

    fold: Fold
    trials: int
    best_trial: int
    train: dict[str, Any]
    settings: dict[str, Any]
    runs: dict[str, RunResult]


@dataclass(slots=True, kw_only=True)
class TuneReport:
    """The walk-forward report (text or ``--json``)."""

    options: TuneOptions
    study: str
    storage: str
    stake_currency: str
    folds: list[FoldReport]
    total: dict[str, RunResult]
    recommended: dict[str, Any]
    workers: list[WorkerResult] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """Return the report as JSON types."""
        loss = self.options.loss
        return {
            "strategy": self.options.strategy,
            "config": str(self.options.config_file),
            "timerange": self.options.timerange,
            "study": self.study,
            "storage": self.storage,
            "loss": loss,
            "trials_per_fold": self.options.trials,
            "stake_currency": self.stake_currency,
            "folds": [
                {
                    "fold": report.fold.index,
                    "train": report.fold.train.label(),
                    "train_timerange": report.fold.train.timerange(),
                    "test": report.fold.test.label(),
                    "test_timerange": report.fold.test.timerange(),
                    "trials": report.trials,
                    "best_trial": report.best_trial,
                    "train_best": report.train,
                    "settings": report.settings,
                    "test_runs": {k: run.to_json(loss) for k, run in report.runs.items()},
                }
                for report in self.folds
            ],
            "total": {key: run.to_json(loss) for key, run in self.total.items()},
            "recommended": {"exit_brain": self.recommended},
            "set_command": set_command(self.recommended, self.options.config_file),
            "workers": [
                {"trials": w.trials, "loads": w.loads, "windows": w.windows} for w in self.workers
            ],
            "seconds": self.seconds,
        }


RUN_LABELS = {"tuned": "tuned", "current": "current config", "off": "brain off"}


def set_command(section: Mapping[str, Any], config_file: Path) -> str:
    """Return the ``exit-brain set`` command line that applies the tuned keys."""
    assignments = [
        shlex.quote(f"{key}={json.dumps(section[key], separators=(',', ':'))}")
        if not isinstance(section[key], str)
        else shlex.quote(f"{key}={section[key]}")
        for key in TUNED_KEYS
        if key in section and section[key] is not None
    ]
    return f"exit-brain set {' '.join(assignments)} --config {shlex.quote(str(config_file))}"


def build_report(options: TuneOptions, engine: Engine, name: str, url: str) -> TuneReport:
    """Score each fold's best settings, the current config and the brain off on its test window."""
    storage = open_storage(url, options.heartbeat)
    folds = options.fold_list()
    current = {**engine.section, "enabled": True}
    off = {**engine.section, "enabled": False}
    reports = []
    for fold in folds:
        study = optuna.load_study(study_name=fold_study(name, fold), storage=storage)
        trials = complete_trials(study)
        if not trials:
            raise TuneError(f"fold {fold.index} of --study {name} has no complete trial yet")
        best = min(trials, key=lambda trial: (trial.value, trial.number))
        settings = dict(best.user_attrs["exit_brain"])
        reports.append(
            FoldReport(
                fold=fold,
                trials=len(trials),
                best_trial=best.number,
                train=dict(best.user_attrs.get("train", {})),
                settings=settings,
                runs={
                    "tuned": engine.run(settings, fold.test),
                    "current": engine.run(current, fold.test),
                    "off": engine.run(off, fold.test),
                },
            )
        )
    first = engine._prepare(folds[0].test).start
    last = engine._prepare(folds[-1].test).end
    total = {
        key: engine.total([report.runs[key] for report in reports], first, last)
        for key in RUN_LABELS
    }
    recommended = {**engine.section, **{k: reports[-1].settings[k] for k in TUNED_KEYS}}
    if recommended.get("tp_atr_multipliers") is None and "tp_atr_multipliers" not in engine.section:
        recommended.pop("tp_atr_multipliers", None)
    parse_config(recommended)
    return TuneReport(
        options=options,
        study=name,
        storage=safe_url(url),
        stake_currency=str(engine.config.get("stake_currency", "")),
        folds=reports,
        total=total,
        recommended=recommended,
    )


# ------------------------------------------------------------------------------ progress


class ProgressLine:
    """``trials done / total`` and the best train score so far, on stderr."""

    def __init__(self, total: int, loss: str, stream: Any = None) -> None:
        """Write to ``stream`` (stderr): a redrawn bar on a terminal, else one line per change."""
        self.total = total
        self.loss = loss
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last = ""

    def show(self, done: int, best: float | None, fold: int) -> None:
        """Draw the bar if anything changed."""
        width = 24
        filled = width * min(done, self.total) // max(self.total, 1)
        best_text = "-" if best is None else f"{best:.4f}"
        text = (
            f"exit-brain tune [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
            f"trials · fold {fold} · best train {self.loss} {best_text}"
        )
        if text == self.last:
            return
        self.last = text
        if self.tty:
            self.stream.write("\r" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.tty and self.last:
            self.stream.write("\n")
            self.stream.flush()


def poll_progress(
    storage: optuna.storages.RDBStorage, name: str, folds: Sequence[Fold], trials: int
) -> tuple[int, float | None, int]:
    """Return (complete trials counted toward the budget, best score of the current fold, fold)."""
    done, best, current = 0, None, folds[-1].index
    for fold in folds:
        study = optuna.load_study(study_name=fold_study(name, fold), storage=storage)
        complete = complete_trials(study)
        done += min(len(complete), trials)
        if len(complete) < trials and current == folds[-1].index and fold is not folds[-1]:
            current = fold.index
        if fold.index == current and complete:
            best = score(min(trial.value for trial in complete if trial.value is not None))
    return done, best, current


# ------------------------------------------------------------------------------ the command


def tune(options: TuneOptions, progress: ProgressLine | None = None) -> TuneReport:
    """Run (or resume, or join) the walk-forward tuning and return its report.

    :raises TuneError: for bad input; nothing is written to the storage before it is checked
    """
    if options.trials < 1:
        raise TuneError(f"--trials must be at least 1, was {options.trials}")
    if options.workers < 1:
        raise TuneError(f"--workers must be at least 1, was {options.workers}")
    if options.loss not in LOSSES:
        raise TuneError(f"--loss must be one of {', '.join(LOSSES)}, was {options.loss!r}")
    if not options.config_file.is_file():
        raise TuneError(f"--config {options.config_file}: no such file")
    folds = options.fold_list()
    started = time.monotonic()
    logging.disable(logging.WARNING)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        url = options.storage_url()
        storage = open_storage(url, options.heartbeat)
        engine = Engine(options, Window(folds[0].train.start, folds[-1].test.end))
        name = study_name(options, folds)
        create_studies(storage, name, folds, layout(options, folds, engine.section))

        def refresh() -> None:
            if progress is not None:
                progress.show(*poll_progress(storage, name, folds, options.trials))

        refresh()
        if options.workers == 1:
            workers = [run_worker(options, 0, engine=engine, on_trial=refresh)]
        else:
            workers = _run_processes(options, refresh)
        refresh()
        if progress is not None:
            progress.close()
        report = build_report(options, engine, name, url)
    finally:
        logging.disable(logging.NOTSET)
    report.workers = workers
    report.seconds = time.monotonic() - started
    return report


def _run_processes(options: TuneOptions, refresh: Callable[[], None]) -> list[WorkerResult]:
    with ProcessPoolExecutor(options.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_spawned_worker, options, index) for index in range(options.workers)]
        while not all(future.done() for future in futures):
            refresh()
            time.sleep(1.0)
        return [future.result() for future in futures]


# ------------------------------------------------------------------------------ text


def _money(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:.2f}"


def render(report: TuneReport, stream: Any = None) -> None:
    """Print the walk-forward report as text."""
    out = stream or sys.stdout
    options, loss = report.options, report.options.loss
    currency = report.stake_currency
    first = report.folds[0].fold
    print(
        f"Walk-forward tuning of {options.strategy} ({options.config_file}, {options.timerange}): "
        f"{len(report.folds)} folds, train {first.train.days} d, test {first.test.days} d, "
        f"{options.trials} trials per fold, loss {loss} (freqtrade's "
        f"{LOSSES[loss].__name__}, score = −loss)",
        file=out,
    )
    print(f"study {report.study} in {report.storage}", file=out)
    header = (
        f"{'':2}{'run':<15}{'trades':>7}{'profit ' + currency:>16}{'profit %':>10}"
        f"{'max dd %':>10}{'win rate':>10}{loss:>10}"
    )
    for fold in report.folds:
        train_score = fold.train.get(loss)
        print(
            f"\nfold {fold.fold.index}: train {fold.fold.train.label()} "
            f"(best of {fold.trials} trials: #{fold.best_trial}, {loss} "
            f"{'-' if train_score is None else f'{train_score:.4f}'}), "
            f"test {fold.fold.test.label()} (timerange {fold.fold.test.timerange()})",
            file=out,
        )
        print(header, file=out)
        for key, label in RUN_LABELS.items():
            print(_row(label, fold.runs[key], loss), file=out)
    print(
        f"\ntotal out of sample: {report.folds[0].fold.test.start:%Y-%m-%d} → "
        f"{report.folds[-1].fold.test.end:%Y-%m-%d} (each fold starts from the same balance)",
        file=out,
    )
    print(header, file=out)
    for key, label in RUN_LABELS.items():
        print(_row(label, report.total[key], loss), file=out)
    print(
        f"\nrecommended (fold {report.folds[-1].fold.index}'s best: trained on the most recent "
        f"{report.folds[-1].fold.train.days} days before its test window):",
        file=out,
    )
    print(json.dumps({"exit_brain": report.recommended}, indent=2), file=out)
    print(set_command(report.recommended, options.config_file), file=out)


def _row(label: str, run: RunResult, loss: str) -> str:
    value = score(run.loss)
    return (
        f"{'':2}{label:<15}{run.trades:>7}{_money(run.profit_abs):>16}{run.profit_pct:>10.2f}"
        f"{run.max_drawdown_pct:>10.2f}{100 * run.win_rate:>9.1f}%"
        f"{'-' if value is None else f'{value:.4f}':>10}"
    )


__all__ = [
    "Engine",
    "TuneError",
    "TuneOptions",
    "TuneReport",
    "render",
    "tune",
]
