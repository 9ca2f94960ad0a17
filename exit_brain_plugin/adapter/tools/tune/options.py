"""What ``exit-brain tune`` was asked: its options, its storage URL, its one-line errors.

Rules:
1. A user error is a :class:`TuneError` with one line (exit code 2), raised before anything is
   written to the storage.
2. The storage is ``--storage`` (``postgresql://`` is run through psycopg 3, the driver freqtrade
   ships), else SQLite in the user dir; a URL shown to the user has its password masked.
"""

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from exit_brain_plugin.core.errors import ConfigError
from exit_brain_plugin.core.tuning import Fold, parse_day_range, walk_forward


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
