"""Read trades from a freqtrade backtest export (zip or json) or a trade database.

Trade databases (a SQLite file or any ``db_url`` freqtrade takes, e.g. PostgreSQL) are read
through freqtrade's own persistence (adapter/tools/tradedb.py), never by SQL on its tables.

Every failure raises :class:`ReportInputError` with a one-line message naming the path and what
was wrong, so that the command line can print it without a traceback.

Exports carry no market precision: the price and amount steps of each pair come from the
offline markets snapshot (``$EXIT_BRAIN_MARKETS``, ``./user_data/markets/binance-markets.json``
or the repository's copy), as in the backtest itself. Trade databases store them per trade.
"""

import json
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from exit_brain_plugin.adapter.tools.markets_file import (
    MarketsFileError,
    find_markets_snapshot,
    read_markets_snapshot,
)
from exit_brain_plugin.core import ConfigError, parse_config
from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.markets import TICK_SIZE, Steps
from exit_brain_plugin.core.markets import market_steps as steps_of_markets
from exit_brain_plugin.core.parameters import apply_parameters, describe, parameters_from_file
from exit_brain_plugin.reports.records import TradeRecord, trades_of


_SQLITE_MAGIC = b"SQLite format 3\x00"
DATABASE_SUFFIXES = frozenset({".sqlite", ".sqlite3", ".db"})


class ReportInputError(Exception):
    """The input cannot be read as freqtrade trades."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeSet:
    """The trades of one strategy, and the brain settings they ran with.

    :param result: the strategy's whole result dict of a backtest export (empty otherwise)
    :param raw_config: the freqtrade config the trades ran with, when the source holds it
    """

    name: str
    trades: list[TradeRecord]
    config: BrainConfig
    source: str
    result: dict[str, Any] = field(default_factory=dict)
    raw_config: dict[str, Any] = field(default_factory=dict)
    #: strategy parameters (hyperopt space exitbrain) that overrode config.json's settings
    parameters: dict[str, Any] = field(default_factory=dict)
    #: where ``config`` comes from, said next to the report
    settings_source: str = ""


def brain_config(raw_config: Mapping[str, Any] | None, where: str) -> BrainConfig:
    """Return the validated ``exit_brain`` settings of a freqtrade config."""
    section = (raw_config or {}).get("exit_brain", {})
    try:
        return parse_config(section)
    except ConfigError as error:
        raise ReportInputError(f"{where}: its exit_brain settings are invalid: {error}") from error


def markets_snapshot_path() -> Path | None:
    """Return the markets snapshot the offline backtests use, or None when there is none."""
    return find_markets_snapshot()


def market_steps(path: Path | None = None) -> Steps:
    """Return (price step, amount step) per pair from a markets snapshot ({} when unreadable).

    The snapshot is Binance's, whose ccxt precision mode is TICK_SIZE (core/markets.py).
    """
    path = path or markets_snapshot_path()
    if path is None:
        return {}
    try:
        return steps_of_markets(read_markets_snapshot(path), TICK_SIZE)
    except MarketsFileError:
        return {}


def resolve_export(path: Path) -> Path:
    """Return the export file a path names: a file, or the latest result in a results folder."""
    if path.is_dir():
        last = path / ".last_result.json"
        if not last.is_file():
            raise ReportInputError(f"{path}: no .last_result.json in this folder; pass a file")
        try:
            name = json.loads(last.read_text()).get("latest_backtest")
        except (OSError, ValueError, AttributeError) as error:
            raise ReportInputError(f"{last}: unreadable ({error})") from error
        if not name:
            raise ReportInputError(f"{last}: names no latest_backtest")
        return path / name
    return path


def is_database(path: Path) -> bool:
    """Return True when ``path`` is an SQLite file (a freqtrade trade database or not)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def load_any(path: Path | str, config: Mapping[str, Any] | None = None) -> list[TradeSet]:
    """Return the trade sets of an export (zip/json/folder) or a trade database.

    :param path: a file or folder, or a database URL as freqtrade's ``db_url`` takes it
    """
    if "://" in str(path):
        return load_database(str(path), config)
    path = Path(path)
    if not path.exists():
        raise ReportInputError(f"{path}: no such file or folder")
    if path.is_file() and (is_database(path) or path.suffix in DATABASE_SUFFIXES):
        return load_database(str(path), config)
    return load_backtest(path)


def _read_export(path: Path) -> tuple[Any, dict[str, Any] | None, dict[str, Any]]:
    # A freqtrade export zip holds <stem>.json (the result), <stem>_config.json (the config)
    # and, per strategy, <stem>_<Strategy>.json: the parameter file the backtest loaded.
    config: dict[str, Any] | None = None
    params: dict[str, Any] = {}
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(".json")]
            stem = path.stem
            main = [n for n in names if n == f"{stem}.json"] or [
                n for n in names if not n.endswith("_config.json")
            ]
            conf = [n for n in names if n.endswith("_config.json")]
            if not main:
                raise ReportInputError(f"{path}: the zip holds no backtest result json")
            content = json.loads(archive.read(main[0]))
            if conf:
                config = json.loads(archive.read(conf[0]))
            prefix = (main[0][: -len(".json")] + "_") if main[0] == f"{stem}.json" else None
            for name in names:
                if prefix and name.startswith(prefix) and name not in (main[0], *conf):
                    params[name[len(prefix) : -len(".json")]] = json.loads(archive.read(name))
        return content, config, params
    if path.suffix == ".zip":
        raise ReportInputError(f"{path}: not a readable zip file")
    return json.loads(path.read_text(encoding="utf-8")), None, {}


def settings_ran(
    config: Mapping[str, Any] | None, param_file: Any, where: str
) -> tuple[BrainConfig, dict[str, Any]]:
    """Return the settings a backtest ran with: config.json's, under its parameter file.

    :return: the settings and the parameter values that overrode config.json
    """
    values = parameters_from_file(param_file)
    base = brain_config(config, where)
    try:
        return apply_parameters(base, values), values
    except ConfigError as error:
        raise ReportInputError(f"{where}: its parameter file is invalid: {error}") from error


def load_backtest(path: Path) -> list[TradeSet]:
    """Return the trade sets of a freqtrade backtest export (``.zip`` or ``.json``)."""
    path = resolve_export(path)
    if not path.is_file():
        raise ReportInputError(f"{path}: no such file")
    try:
        content, config, param_files = _read_export(path)
    except (OSError, ValueError, zipfile.BadZipFile, zlib.error, EOFError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ReportInputError(f"{path}: not a readable backtest export ({reason})") from error
    strategies = content.get("strategy") if isinstance(content, dict) else None
    if not isinstance(strategies, dict) or not strategies:
        raise ReportInputError(f"{path}: not a freqtrade backtest result (no 'strategy' key)")
    steps = market_steps()
    sets = []
    for name, result in strategies.items():
        brain, parameters = settings_ran(config, param_files.get(name), str(path))
        try:
            trades = trades_of(result["trades"], steps)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ReportInputError(
                f"{path}: strategy {name} has malformed trades ({error!r})"
            ) from error
        sets.append(
            TradeSet(
                name=name,
                trades=trades,
                config=brain,
                source=str(path),
                result=result,
                raw_config=dict(config or {}),
                parameters=parameters,
                settings_source="the export's config"
                + (f" with its parameter file ({describe(parameters)})" if parameters else ""),
            )
        )
    return sets


def load_database(db_url: str, config: Mapping[str, Any] | None = None) -> list[TradeSet]:
    """Return the trades of a live / dry-run trade database, read through freqtrade.

    :param db_url: an SQLite file path or an SQLAlchemy URL, as freqtrade's ``db_url``
    """
    from exit_brain_plugin.adapter.tools.tradedb import read_trades

    shown, stored = read_trades(db_url)
    name = Path(db_url).stem if "://" not in db_url else shown.rsplit("/", 1)[-1]
    if not any(trade.mode in ("act", "observe") for trade in stored):
        where = db_url if "://" not in db_url else shown
        raise ReportInputError(
            f"{where}: no position in this database was managed by Exit Brain (no exit_brain "
            "state is stored with any of its trades): run the strategy with ExitBrainMixin, "
            "or report on a database of a strategy that uses it"
        )
    source = (
        "--config"
        if config is not None
        else "the default settings (docs/behaviour.md §2): no --config given, pass the config "
        "the bot ran with"
    )
    return [
        TradeSet(
            name=name,
            trades=[trade.record for trade in stored],
            config=brain_config(config, shown),
            source=shown,
            raw_config=dict(config or {}),
            settings_source=source,
        )
    ]
