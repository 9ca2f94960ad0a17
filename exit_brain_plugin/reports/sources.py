"""Read trades from a freqtrade backtest export (zip or json) or a trade database.

Every failure raises :class:`ReportInputError` with a one-line message naming the path and what
was wrong, so that the command line can print it without a traceback.
"""

import json
import sqlite3
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exit_brain_plugin.core import ConfigError, StateError, from_json_dict, parse_config
from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.reports.analysis import OrderRecord, TradeRecord, trades_of


class ReportInputError(Exception):
    """The input cannot be read as freqtrade trades."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeSet:
    """The trades of one strategy, and the brain settings they ran with."""

    name: str
    trades: list[TradeRecord]
    config: BrainConfig
    source: str


def _config_of(raw_config: Mapping[str, Any] | None, where: str) -> BrainConfig:
    section = (raw_config or {}).get("exit_brain", {})
    try:
        return parse_config(section)
    except ConfigError as error:
        raise ReportInputError(f"{where}: its exit_brain settings are invalid: {error}") from error


def resolve_export(path: Path) -> Path:
    """Return the export file a path names: a file, or the latest result in a results folder."""
    if path.is_dir():
        last = path / ".last_result.json"
        if not last.is_file():
            raise ReportInputError(f"{path}: no .last_result.json in this folder; pass a file")
        name = json.loads(last.read_text()).get("latest_backtest")
        if not name:
            raise ReportInputError(f"{last}: names no latest_backtest")
        return path / name
    return path


def load_backtest(path: Path) -> list[TradeSet]:
    """Return the trade sets of a freqtrade backtest export (``.zip`` or ``.json``)."""
    path = resolve_export(path)
    if not path.is_file():
        raise ReportInputError(f"{path}: no such file")
    config: Mapping[str, Any] | None = None
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
                main = [n for n in names if n.endswith(".json") and not n.endswith("_config.json")]
                conf = [n for n in names if n.endswith("_config.json")]
                if not main:
                    raise ReportInputError(f"{path}: the zip holds no backtest result json")
                content = json.loads(archive.read(main[0]))
                if conf:
                    config = json.loads(archive.read(conf[0]))
        else:
            content = json.loads(path.read_text())
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise ReportInputError(f"{path}: not a readable backtest export ({error})") from error
    strategies = content.get("strategy") if isinstance(content, dict) else None
    if not isinstance(strategies, dict) or not strategies:
        raise ReportInputError(f"{path}: not a freqtrade backtest result (no 'strategy' key)")
    brain = _config_of(config, str(path))
    sets = []
    for name, result in strategies.items():
        try:
            trades = trades_of(result["trades"])
        except (KeyError, TypeError, ValueError) as error:
            raise ReportInputError(
                f"{path}: strategy {name} has malformed trades ({error})"
            ) from error
        sets.append(TradeSet(name=name, trades=trades, config=brain, source=str(path)))
    return sets


def load_database(path: Path, config: Mapping[str, Any] | None = None) -> list[TradeSet]:
    """Return the trades of a freqtrade trade database (live or dry-run SQLite file)."""
    if not path.is_file():
        raise ReportInputError(f"{path}: no such file")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise ReportInputError(f"{path}: cannot open as SQLite ({error})") from error
    try:
        trades = _read_trades(connection)
    except sqlite3.Error as error:
        raise ReportInputError(f"{path}: not a freqtrade trade database ({error})") from error
    finally:
        connection.close()
    if not trades:
        raise ReportInputError(f"{path}: the database holds no trades")
    return [
        TradeSet(
            name=path.stem, trades=trades, config=_config_of(config, str(path)), source=str(path)
        )
    ]


def _read_trades(connection: sqlite3.Connection) -> list[TradeRecord]:
    connection.row_factory = sqlite3.Row
    rows = connection.execute(
        "SELECT id, pair, is_short, leverage, open_rate, open_date, close_date, close_profit, "
        "close_profit_abs, realized_profit, exit_reason FROM trades ORDER BY id"
    ).fetchall()
    entry_sides = {row["id"]: "sell" if row["is_short"] else "buy" for row in rows}
    orders: dict[int, list[OrderRecord]] = {}
    for row in connection.execute(
        "SELECT ft_trade_id, ft_order_side, ft_order_tag, filled, average, price "
        "FROM orders WHERE filled > 0 ORDER BY id"
    ):
        trade_orders = orders.setdefault(row["ft_trade_id"], [])
        trade_orders.append(
            OrderRecord(
                tag=row["ft_order_tag"] or "",
                is_entry=row["ft_order_side"] == entry_sides.get(row["ft_trade_id"]),
                amount=float(row["filled"]),
                price=float(row["average"] or row["price"] or 0.0),
                timestamp_ms=len(trade_orders),  # rows come in id order: their sequence
            )
        )
    states = _read_states(connection)
    records = []
    for row in rows:
        state = states.get(row["id"])
        records.append(
            TradeRecord(
                pair=row["pair"],
                is_short=bool(row["is_short"]),
                leverage=float(row["leverage"] or 1),
                open_rate=float(row["open_rate"]),
                open_date=str(row["open_date"]),
                close_date=row["close_date"],
                profit_ratio=float(row["close_profit"] or 0.0),
                profit_abs=float(row["close_profit_abs"] or row["realized_profit"] or 0.0),
                exit_reason=row["exit_reason"] or "",
                orders=tuple(orders.get(row["id"], [])),
                sl_reason=_stop_reason(state),
            )
        )
    return records


def _stop_reason(state: Any) -> str | None:
    kind = getattr(state, "exit_kind", None)
    if kind and kind.startswith("stop:"):
        return str(kind.removeprefix("stop:"))
    return None


def _read_states(connection: sqlite3.Connection) -> dict[int, Any]:
    states = {}
    try:
        rows = connection.execute(
            "SELECT ft_trade_id, cd_value FROM trade_custom_data WHERE cd_key = 'exit_brain'"
        ).fetchall()
    except sqlite3.Error:
        return {}
    for row in rows:
        try:
            states[row["ft_trade_id"]] = from_json_dict(json.loads(row["cd_value"]))
        except (ValueError, StateError):
            continue
    return states
