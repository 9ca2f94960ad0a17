"""``exit-brain tune``: run (or resume, or join) the walk-forward tuning, with a progress line.

Rules:
1. The options are checked before anything is written to the storage (options.py rule 1).
2. One worker runs in this process (sharing its loaded candles); more run as spawned processes
   that each load their own.
3. Progress goes to stderr: a redrawn bar on a terminal, else one line per change.
"""

import logging
import sys
import time
from typing import Any

import optuna

from exit_brain_plugin.adapter.tools.tune.engine import LOSSES, Engine
from exit_brain_plugin.adapter.tools.tune.options import TuneError, TuneOptions
from exit_brain_plugin.adapter.tools.tune.report import TuneReport, build_report
from exit_brain_plugin.adapter.tools.tune.studies import (
    create_studies,
    layout,
    open_storage,
    poll_progress,
    run_processes,
    run_worker,
    study_name,
)
from exit_brain_plugin.core.tuning import Window


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
            workers = run_processes(options, refresh)
        refresh()
        if progress is not None:
            progress.close()
        report = build_report(options, engine, name, url)
    finally:
        logging.disable(logging.NOTSET)
    report.workers = workers
    report.seconds = time.monotonic() - started
    return report
