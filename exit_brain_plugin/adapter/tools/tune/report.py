"""The walk-forward report: each fold's best settings scored on its unseen test window.

Rules:
1. On each fold's test window the fold's best settings (lowest loss, then lowest trial number)
   run against the config's current settings and against the brain off (docs/tuning.md).
2. The total out of sample joins the test windows (each fold starts from the same balance).
3. The recommendation is the last fold's best (trained on the most recent days), printed with
   the ``exit-brain set`` command that applies it.
"""

import json
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna

from exit_brain_plugin.adapter.tools.tune.engine import LOSSES, Engine, RunResult, score
from exit_brain_plugin.adapter.tools.tune.options import TuneError, TuneOptions, safe_url
from exit_brain_plugin.adapter.tools.tune.studies import (
    WorkerResult,
    complete_trials,
    fold_study,
    open_storage,
)
from exit_brain_plugin.core.config import parse_config
from exit_brain_plugin.core.tuning import TUNED_KEYS, Fold


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
