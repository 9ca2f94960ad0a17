"""Find and read the offline markets snapshot (``user_data/markets/binance-markets.json``).

The offline freqtrade launcher and the reports read the same file, found the same way; what
the markets mean (steps, minimums, the snapshot's shape) is core/markets.py.

Rules:
1. The snapshot is, in this order: ``$EXIT_BRAIN_MARKETS`` (``~`` expanded; taken even when
   missing, so the error names it), ``./user_data/markets/binance-markets.json`` below the
   working directory, the same file below the repository holding this package.
2. Reading fails with :class:`MarketsFileError`, whose message completes "The snapshot <path> …".
"""

import json
import os
from pathlib import Path
from typing import Any

from exit_brain_plugin.core.markets import snapshot_problem


__all__ = [
    "ENV_VAR",
    "MARKETS_RELPATH",
    "MarketsFileError",
    "default_markets_path",
    "find_markets_snapshot",
    "read_markets_snapshot",
]

#: Environment variable that overrides the default snapshot location.
ENV_VAR = "EXIT_BRAIN_MARKETS"
#: Location of the snapshot relative to a repository root or working directory.
MARKETS_RELPATH = Path("user_data") / "markets" / "binance-markets.json"
#: Repository root (``<repo>/exit_brain_plugin/adapter/tools/markets_file.py`` → ``<repo>``).
_REPO_ROOT = Path(__file__).resolve().parents[2]


class MarketsFileError(ValueError):
    """The snapshot file is missing, unreadable or not shaped like ccxt markets."""


def _candidates() -> list[Path]:
    env = os.environ.get(ENV_VAR)
    if env:
        return [Path(env).expanduser()]
    return [Path.cwd() / MARKETS_RELPATH, _REPO_ROOT / MARKETS_RELPATH]


def find_markets_snapshot() -> Path | None:
    """Return the snapshot file in use (rule 1), or None when no candidate exists."""
    return next((path for path in _candidates() if path.is_file()), None)


def default_markets_path() -> Path:
    """Return the snapshot path to use: the existing one, else the first candidate (rule 1)."""
    return find_markets_snapshot() or _candidates()[0]


def read_markets_snapshot(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read and validate a markets snapshot.

    :param path: JSON file mapping ccxt symbols (``"ETH/BTC"``, ``"XRP/USDT:USDT"``) to
        ccxt-unified market dicts
    :return: the parsed markets
    :raises MarketsFileError: if the file is missing, not JSON or not shaped like ccxt markets
    """
    file = Path(path)
    if not file.is_file():
        raise MarketsFileError("does not exist")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MarketsFileError(f"is not readable JSON ({exc})") from exc
    problem = snapshot_problem(data)
    if problem is not None:
        raise MarketsFileError(problem)
    return data
