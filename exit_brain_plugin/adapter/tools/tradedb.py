"""Read a live / dry-run trade database through freqtrade's own persistence.

``db_url`` is what freqtrade takes (``--db-url`` / ``"db_url"``): an SQLAlchemy URL such as
``sqlite:///tradesv3.sqlite`` or ``postgresql+psycopg://user:password@host:5432/freqtrade``; a
plain file path is taken as an SQLite file. freqtrade's ``init_db`` binds its models to the
database and ``Trade.get_trades()`` reads the trades with their orders and custom data, so the
report reads what freqtrade itself would read, on any database freqtrade supports.

Read-only: an SQLite file is opened with ``mode=ro`` and a PostgreSQL session runs with
``default_transaction_read_only=on``, so the report never writes to a running bot's database
(``init_db`` only creates tables that are missing, and there are none in a current database; an
older schema that would need freqtrade's migration is refused with a message saying so).

Every failure raises ``ReportInputError`` with one line naming ``db_url`` (its password masked).
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from exit_brain_plugin.adapter.shadow import SHADOW_KEY
from exit_brain_plugin.adapter.store import OBSERVE_KEY, STATE_KEY
from exit_brain_plugin.core import PositionState, StateError, from_json_dict
from exit_brain_plugin.core.ledger import VirtualFill, ledger_from_json
from exit_brain_plugin.core.markets import amount_step, price_step
from exit_brain_plugin.reports.records import OrderRecord, TradeRecord
from exit_brain_plugin.reports.shadow import StoredTrade
from exit_brain_plugin.reports.sources import ReportInputError


URL_HELP = "a SQLite file, sqlite:///FILE or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB"


def is_url(text: str) -> bool:
    """Return True when ``text`` is a database URL rather than a file path."""
    return "://" in text


def masked(db_url: str) -> str:
    """Return ``db_url`` with its password replaced by ``***`` (never print credentials)."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "<unparsable URL>" if "@" in db_url else db_url


def to_db_url(target: str) -> str:
    """Return the SQLAlchemy URL of ``target`` (a URL, or an SQLite file path)."""
    if is_url(target):
        return target
    return f"sqlite:///{Path(target).resolve()}"


def _read_only(db_url: str) -> tuple[str, str]:
    """Return (the read-only URL to open, the URL to show)."""
    url = make_url(db_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ReportInputError(f"db_url {shown}: names no database file")
        path = Path(url.database)
        if not path.is_file():
            raise ReportInputError(f"db_url {shown}: no such file")
        return f"sqlite:///file:{quote(str(path.resolve()))}?mode=ro&uri=true", shown
    if url.get_backend_name() == "postgresql":
        options = url.query.get("options", "")
        options = f"{options} -c default_transaction_read_only=on".strip()
        return _render(url.update_query_dict({"options": options})), shown
    return db_url, shown


def _name(target: str, shown: str) -> str:
    return shown if is_url(target) else target


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _first_line(error: BaseException, secret: str | None) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line.replace(secret, "***") if secret else line


_SESSION_HOLDERS = ("Trade", "Order", "PairLock", "_KeyValueStoreModel", "WalletHistory")


def _models() -> dict[str, Any]:
    from freqtrade.persistence import models

    return {name: getattr(models, name) for name in (*_SESSION_HOLDERS, "_CustomData")}


def _check_schema(engine: Any, target: str, shown: str, secret: str | None) -> None:
    try:
        inspector = inspect(engine)
        tables = inspector.get_table_names()
        columns = (
            {column["name"] for column in inspector.get_columns("trades")}
            if "trades" in tables
            else set()
        )
    except SQLAlchemyError as error:
        raise ReportInputError(
            f"db_url {shown}: cannot open the database ({_first_line(error, secret)})"
        ) from error
    if "trades" not in tables:
        raise ReportInputError(
            f"{_name(target, shown)}: not a freqtrade trade database (no such table: trades)"
        )
    missing = [table for table in ("orders", "trade_custom_data") if table not in tables]
    if missing or "record_version" not in columns:
        raise ReportInputError(
            f"db_url {shown}: written by an older freqtrade (no "
            f"{', '.join(missing) or 'trades.record_version'}); start freqtrade 2026.9 on it "
            "once to migrate it, then run the report again"
        )


@contextlib.contextmanager
def opened(target: str) -> Iterator[str]:
    """Bind freqtrade's models to the database ``target`` names, read-only; yield its shown URL.

    freqtrade's ``init_db`` is not called: besides binding the models it always runs
    maintenance writes (``migrations.fix_old_dry_orders`` closes every open dry-run stoploss
    order), which would change a running dry-run bot's database. The models are bound the way
    ``init_db`` binds them, to a read-only connection, and the previous binding is restored.

    :raises ReportInputError: one line naming db_url: bad URL, missing driver, no server, not a
        freqtrade database
    """
    from freqtrade.persistence.usedb_context import enable_database_use
    from sqlalchemy.orm import scoped_session, sessionmaker

    db_url = to_db_url(target)
    shown = masked(db_url)
    try:
        secret = make_url(db_url).password
        url, shown = _read_only(db_url)
        engine = create_engine(url)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as error:
        raise ReportInputError(
            f"db_url {shown}: no SQLAlchemy driver for it ({_first_line(error, None)}); use "
            f"{URL_HELP} (PostgreSQL: pip install 'psycopg[binary]')"
        ) from error
    except (ArgumentError, ValueError) as error:
        raise ReportInputError(f"db_url {shown}: not a database URL; use {URL_HELP}") from error
    secret = str(secret) if secret else None
    models = _models()
    before = {name: model.__dict__.get("session") for name, model in models.items()}
    try:
        _check_schema(engine, target, shown, secret)
        enable_database_use()  # a backtest earlier in this process may have turned it off
        session = scoped_session(sessionmaker(bind=engine, autoflush=False))
        for name in _SESSION_HOLDERS:
            models[name].session = session
        models["_CustomData"].session = scoped_session(sessionmaker(bind=engine))
        try:
            yield shown
        finally:
            session.rollback()
            session.remove()
            models["_CustomData"].session.remove()
    finally:
        for name, model in models.items():
            if before[name] is not None:
                model.session = before[name]
        engine.dispose()


def read_trades(target: str) -> tuple[str, list[StoredTrade]]:
    """Return (the URL shown, every trade of the database with the brain's stored data).

    :raises ReportInputError: see :func:`opened`; also for a database without trades
    """
    from freqtrade.persistence import Trade

    with opened(target) as shown:
        try:
            trades = [_stored(trade) for trade in Trade.get_trades().unique().all()]
        except SQLAlchemyError as error:
            raise ReportInputError(
                f"db_url {shown}: cannot read its trades ({_first_line(error, None)})"
            ) from error
    if not trades:
        raise ReportInputError(f"{_name(target, shown)}: the database holds no trades")
    return shown, sorted(trades, key=lambda stored: stored.trade_id)


def _order(order: Any, trade: Any) -> OrderRecord:
    side = order.ft_order_side
    filled_at = order.order_filled_utc or order.order_date_utc
    remaining = order.remaining
    return OrderRecord(
        # stoploss-on-exchange orders carry no tag: they are stop exits
        tag="stoploss_on_exchange" if side == "stoploss" else (order.ft_order_tag or ""),
        is_entry=side == trade.entry_side,
        amount=float(order.safe_filled),
        price=float(order.safe_price or 0.0),
        timestamp_ms=int(filled_at.timestamp() * 1000) if filled_at else 0,
        complete=order.status == "closed" or not remaining or remaining <= 0,
    )


def _custom(trade: Any, key: str, problems: list[str]) -> Any:
    try:
        return trade.get_custom_data(key)
    except (ValueError, TypeError) as error:
        problems.append(f"{key}: unreadable ({error})")
        return None


def _state(raw: Any, key: str, problems: list[str]) -> PositionState | None:
    if raw is None:
        return None
    try:
        return from_json_dict(raw)
    except StateError as error:
        problems.append(f"{key}: {error}")
        return None


def _mode(act_raw: Any, observe_raw: Any) -> str:
    for raw in (observe_raw, act_raw):
        if isinstance(raw, dict) and raw.get("mode") in ("act", "observe", "off"):
            return str(raw["mode"])  # the creation mode, where the state records it
    if observe_raw is not None:
        return "observe"
    return "act" if act_raw is not None else "off"


def _stored(trade: Any) -> StoredTrade:
    problems: list[str] = []
    act_raw = _custom(trade, STATE_KEY, problems)
    observe_raw = _custom(trade, OBSERVE_KEY, problems)
    act_state = _state(act_raw, STATE_KEY, problems)
    observe_state = _state(observe_raw, OBSERVE_KEY, problems)
    ledger: tuple[VirtualFill, ...] | None = None
    ledger_raw = _custom(trade, SHADOW_KEY, problems)
    if ledger_raw is not None:
        try:
            ledger = ledger_from_json(ledger_raw)
        except StateError as error:
            problems.append(f"{SHADOW_KEY}: {error}")
    orders = [
        _order(order, trade)
        for order in trade.orders
        if not order.ft_is_open and (order.safe_filled or 0) > 0
    ]
    kind = getattr(act_state, "exit_kind", None)
    record = TradeRecord(
        pair=trade.pair,
        is_short=bool(trade.is_short),
        leverage=float(trade.leverage or 1.0),
        open_rate=float(trade.open_rate),
        open_date=str(trade.open_date),
        close_date=None if trade.close_date is None else str(trade.close_date),
        profit_ratio=float(trade.close_profit or 0.0),
        profit_abs=float(trade.close_profit_abs or trade.realized_profit or 0.0),
        exit_reason=trade.exit_reason or "",
        orders=tuple(sorted(orders, key=lambda order: order.timestamp_ms)),
        sl_reason=kind.removeprefix("stop:") if kind and kind.startswith("stop:") else None,
        initial_stop_price=float(trade.initial_stop_loss or 0.0) or None,
        is_open=bool(trade.is_open),
        close_rate=float(trade.close_rate) if trade.close_rate else None,
        fee_open=float(trade.fee_open or 0.0),
        fee_close=float(trade.fee_close or 0.0),
        price_step=price_step(
            trade.price_precision, trade.precision_mode, trade.precision_mode_price
        ),
        amount_step=amount_step(trade.amount_precision, trade.precision_mode, trade.contract_size),
        stored_state=act_state,
    )
    mode = _mode(act_raw, observe_raw)
    if mode == "observe" and observe_state is None:
        observe_state = act_state  # a creation mode recorded in a state under the main key
    return StoredTrade(
        record=record,
        trade_id=int(trade.id),
        mode=mode,
        stake=float(trade.max_stake_amount or trade.stake_amount or 0.0),
        observe_state=observe_state,
        ledger=ledger,
        problems=tuple(problems),
    )
