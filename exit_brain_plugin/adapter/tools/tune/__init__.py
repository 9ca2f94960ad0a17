"""``exit-brain tune``: walk-forward tuning of the brain's settings on optuna's storage.

- The layout of the folds and the search space are pure: :mod:`exit_brain_plugin.core.tuning`.
- options.py: what was asked (options, storage URL, one-line errors);
- engine.py: one worker's freqtrade, a backtest on a window and freqtrade's figures of it;
- studies.py: one optuna study per fold in one storage, and the workers that fill them;
- report.py: each fold's best settings scored on its unseen test window, as text or JSON;
- command.py: :func:`tune`, which runs (or resumes, or joins) it all with a progress line.

Each fold is one optuna study (``<study>/fold<k>``) in one storage (SQLite by default, or
PostgreSQL to share it between machines); every worker process, local (``--workers``) or on
another machine (the same command), joins the same studies and draws trials until the fold has
``--trials`` complete ones, then moves to the next fold. The report scores, on each unseen test
window, the fold's best settings against the config's current settings and against the brain
off (docs/tuning.md).
"""

from exit_brain_plugin.adapter.tools.tune.command import ProgressLine, tune
from exit_brain_plugin.adapter.tools.tune.engine import LOSSES, MAX_LOSS, Engine, RunResult, score
from exit_brain_plugin.adapter.tools.tune.options import TuneError, TuneOptions, safe_url
from exit_brain_plugin.adapter.tools.tune.report import (
    FoldReport,
    TuneReport,
    build_report,
    render,
    set_command,
)
from exit_brain_plugin.adapter.tools.tune.studies import (
    WorkerResult,
    complete_trials,
    create_studies,
    fold_study,
    layout,
    open_storage,
    poll_progress,
    run_worker,
    study_name,
)


__all__ = [
    "LOSSES",
    "MAX_LOSS",
    "Engine",
    "FoldReport",
    "ProgressLine",
    "RunResult",
    "TuneError",
    "TuneOptions",
    "TuneReport",
    "WorkerResult",
    "build_report",
    "complete_trials",
    "create_studies",
    "fold_study",
    "layout",
    "open_storage",
    "poll_progress",
    "render",
    "run_worker",
    "safe_url",
    "score",
    "set_command",
    "study_name",
    "tune",
]
