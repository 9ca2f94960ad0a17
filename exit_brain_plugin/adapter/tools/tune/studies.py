"""The optuna side of ``exit-brain tune``: one study per fold in one storage, and the workers.

Rules:
1. Each fold is one optuna study (``<study>/fold<k>``) in one storage; every worker process, local
   (``--workers``) or on another machine (the same command), joins the same studies and draws
   trials until the fold has ``--trials`` complete ones, then moves to the next fold.
2. optuna's heartbeat marks the trials of a killed worker failed; a rerun continues from the
   complete trials.
3. A study made for another layout (strategy, timerange, folds, loss, trials, the config's
   exit_brain section) is refused, never mixed.
"""

import hashlib
import json
import logging
import os
import socket
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

import optuna
from sqlalchemy.exc import IntegrityError, ProgrammingError

from exit_brain_plugin.adapter.tools.tune.engine import Engine, score
from exit_brain_plugin.adapter.tools.tune.options import (
    STORAGE_ATTEMPTS,
    TuneError,
    TuneOptions,
    safe_url,
)
from exit_brain_plugin.core.config import parse_config
from exit_brain_plugin.core.tuning import Fold, Window, sample_settings


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


def run_processes(options: TuneOptions, refresh: Callable[[], None]) -> list[WorkerResult]:
    """Run ``options.workers`` spawned worker processes, calling ``refresh`` every second."""
    with ProcessPoolExecutor(options.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_spawned_worker, options, index) for index in range(options.workers)]
        while not all(future.done() for future in futures):
            refresh()
            time.sleep(1.0)
        return [future.result() for future in futures]
