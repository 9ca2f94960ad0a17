"""Drive freqtrade's own bot loop (``FreqtradeBot.process``) in dry-run, fully offline.

What is real: ``FreqtradeBot`` and everything it calls — the strategy with the brain, the SQLite
trade database (a file under the test's tmp dir, so a second bot can reopen it), dry-run order
simulation, wallets, stop handling, ``unfilledtimeout``, stoploss-on-exchange.

What is stubbed (:class:`ScriptedExchange`): the network. Markets come from the repository's
snapshot (``install_offline_markets``); tickers and the order book come from the current tick
of the tape; candles are the recorded ETH/BTC 5m candles shipped in ``user_data/data``, scaled
so that the last close is the current price and re-dated to the simulated clock; the candles
that close while a test runs are built from its ticks. The clock is ``time_machine``'s: it
moves only when the test says so, so ``unfilledtimeout`` and candle boundaries are exact.

Order faults are scripted per exit order (:meth:`ScriptedExchange.script_exit`): rejected,
accepted but left open (optionally part-filled), then cancelled by the exchange, filled, or
timed out by freqtrade. A cancelled order keeps what filled, as on a real exchange (freqtrade's
dry-run cancel would reset ``filled`` to 0, which no exchange does).
"""

import contextlib
import copy
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import time_machine
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode, State
from freqtrade.exceptions import InvalidOrderException
from freqtrade.exchange.binance import Binance
from freqtrade.exchange.exchange import Exchange
from freqtrade.freqtradebot import FreqtradeBot
from freqtrade.persistence import Trade, enable_database_use
from freqtrade.rpc import RPC
from freqtrade.worker import Worker
from sqlalchemy import create_engine, text

from exit_brain_plugin.adapter.tools.offline import install_offline_markets
from tests import trade_orders


REPO = Path(__file__).resolve().parents[2]
STRATEGIES = Path(__file__).resolve().parent / "strategies"
RECORDED = REPO / "user_data" / "data" / "binance" / "ETH_BTC-5m.feather"
PAIR = "ETH/BTC"
TIMEFRAME = timedelta(minutes=5)
# A Monday noon, 30 s into a candle: far from any daily schedule of freqtrade's.
START = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
STATE_KEY = "exit_brain"
# Recorded candles (index into ETH_BTC-5m.feather) where ETH/BTC climbs 4 % in ~30 candles.
RALLY_START = 980


def recorded_candles() -> pd.DataFrame:
    """Return the shipped ETH/BTC 5m candles (Jan 2018)."""
    return pd.read_feather(RECORDED)


@dataclass
class ScriptedFault:
    """What the exchange does with the next exit order."""

    action: str  # "reject" | "hold"
    filled_fraction: float = 0.0


@dataclass
class Tape:
    """The market the stub serves: the current tick and the candles before it."""

    price: float
    history: list[tuple[float, float, float, float]] = field(default_factory=list)
    current: list[float] = field(default_factory=list)
    candle_start: datetime | None = None

    def ticker(self, pair: str) -> dict[str, Any]:
        price = self.price
        return {
            "symbol": pair,
            "bid": price,
            "ask": price,
            "last": price,
            "close": price,
            "bidVolume": 1000.0,
            "askVolume": 1000.0,
            "baseVolume": 1000.0,
            "quoteVolume": 1000.0 * price,
            "percentage": 0.0,
            "timestamp": None,
            "datetime": None,
        }

    def order_book(self, pair: str) -> dict[str, Any]:
        # Zero spread and deep enough for any test order: market orders fill at the tick.
        return {
            "symbol": pair,
            "bids": [[self.price, 1000.0]],
            "asks": [[self.price, 1000.0]],
            "timestamp": None,
            "datetime": None,
            "nonce": None,
        }

    def tick(self, price: float, now: datetime) -> None:
        """Record a new tick; close the running candle when ``now`` is in a new one."""
        start = _candle_start(now)
        if self.candle_start is not None and start > self.candle_start and self.current:
            self.history.append(
                (self.current[0], max(self.current), min(self.current), self.current[-1])
            )
            self.current = []
        self.candle_start = start
        self.current.append(price)
        self.price = price

    def frame(self, now: datetime, count: int = 60) -> pd.DataFrame:
        """Return the last ``count`` closed candles, dated up to the candle before ``now``'s."""
        rows = self.history[-count:]
        last = _candle_start(now) - TIMEFRAME
        dates = [last - TIMEFRAME * (len(rows) - 1 - i) for i in range(len(rows))]
        return pd.DataFrame(
            {
                "date": pd.to_datetime(dates, utc=True),
                "open": [r[0] for r in rows],
                "high": [r[1] for r in rows],
                "low": [r[2] for r in rows],
                "close": [r[3] for r in rows],
                "volume": [1000.0] * len(rows),
            }
        )


def _candle_start(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % 300, tz=UTC)


def history_from_recorded(end_index: int, price: float, count: int = 60) -> list[tuple]:
    """Return ``count`` recorded candles ending at ``end_index``, scaled to close at ``price``."""
    frame = recorded_candles().iloc[end_index - count + 1 : end_index + 1]
    scale = price / float(frame["close"].iloc[-1])
    return [
        (r.open * scale, r.high * scale, r.low * scale, r.close * scale) for r in frame.itertuples()
    ]


class ScriptedExchange:
    """Replaces freqtrade's network calls (class-level, so every bot a test builds uses it)."""

    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.faults: list[ScriptedFault] = []
        # Orders the stub owns ("on the exchange"), by id; ``held`` are the ones still open.
        self.orders: dict[str, dict[str, Any]] = {}
        self.held: set[str] = set()
        self.created: list[dict[str, Any]] = []
        self.rejected: list[dict[str, Any]] = []
        self.balances: dict[str, Any] = {"BTC": {"free": 1.0, "used": 0.0, "total": 1.0}}

    # ------------------------------------------------------------------ scripting

    def script_exit(self, action: str, filled_fraction: float = 0.0) -> None:
        """Queue what happens to the next exit order: ``reject`` or ``hold`` (left open)."""
        self.faults.append(ScriptedFault(action=action, filled_fraction=filled_fraction))

    def last_held(self) -> str:
        """Return the id of the most recent order still held open."""
        assert self.held, "no order is held open"
        return [order["id"] for order in self.created if order["id"] in self.held][-1]

    def fill_held(self, order_id: str) -> None:
        """The exchange fills the rest of a held order."""
        self.held.remove(order_id)
        order = self.orders[order_id]
        order.update({"status": "closed", "filled": order["amount"], "remaining": 0.0})
        _price_order(order)

    def cancel_held(self, order_id: str) -> None:
        """The exchange cancels a held order on its own (what filled stays filled)."""
        self.held.remove(order_id)
        order = self.orders[order_id]
        order.update({"status": "canceled", "remaining": order["amount"] - order["filled"]})

    # ------------------------------------------------------------------ installation

    def install(self, monkeypatch: Any) -> None:
        """Patch freqtrade's Exchange class (undone by ``monkeypatch`` after the test)."""
        patches = {**self._market_patches(), **self._order_patches()}
        for name, function in patches.items():
            monkeypatch.setattr(Exchange, name, function)
        monkeypatch.setattr(Binance, "get_tickers", patches["get_tickers"])
        monkeypatch.setattr(Binance, "check_delisting_time", patches["check_delisting_time"])

    def _market_patches(self) -> dict[str, Callable[..., Any]]:
        stub = self

        def get_tickers(self: Exchange, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return {pair: stub.tape.ticker(pair) for pair in self.markets}

        def refresh_latest_ohlcv(
            self: Exchange, pair_list: list[Any], **kwargs: Any
        ) -> dict[Any, pd.DataFrame]:
            frames = {}
            for pair_key in pair_list:
                frames[pair_key] = stub.tape.frame(datetime.now(UTC))
                if kwargs.get("cache", True):
                    self._klines[pair_key] = frames[pair_key]
            return frames

        return {
            "fetch_ticker": lambda self, pair: stub.tape.ticker(pair),
            "get_tickers": get_tickers,
            "fetch_l2_order_book": lambda self, pair, limit=100: stub.tape.order_book(pair),
            "refresh_latest_ohlcv": refresh_latest_ohlcv,
            "get_balances": lambda self, params=None: copy.deepcopy(stub.balances),
            "fetch_positions": lambda self, pair=None, params=None: [],
            "check_delisting_time": lambda self, pair: None,
            "ws_connection_reset": lambda self: None,
        }

    def _order_patches(self) -> dict[str, Callable[..., Any]]:
        stub = self
        original_create = Exchange.create_order
        original_fetch = Exchange.fetch_order
        original_cancel = Exchange.cancel_order

        def create_order(self: Exchange, **kwargs: Any) -> dict[str, Any]:
            is_exit = not kwargs.get("initial_order", True)
            fault = stub.faults.pop(0) if is_exit and stub.faults else None
            if fault is not None and fault.action == "reject":
                stub.rejected.append(dict(kwargs))
                raise InvalidOrderException(
                    f"Could not create {kwargs['ordertype']} {kwargs['side']} order on market "
                    f"{kwargs['pair']}. Message: binance Order would violate a filter "
                    "(scripted rejection)"
                )
            order = original_create(self, **kwargs)
            if fault is not None:
                stub.hold(self, order, fault.filled_fraction)
            stub.created.append(order)
            return order

        def fetch_order(self: Exchange, order_id: str, pair: str, params: Any = None) -> Any:
            if order_id in stub.orders:
                return copy.deepcopy(stub.orders[order_id])
            return original_fetch(self, order_id, pair, params)

        def cancel_order(self: Exchange, order_id: str, pair: str, params: Any = None) -> Any:
            if order_id not in stub.orders:
                return original_cancel(self, order_id, pair, params)
            if order_id in stub.held:
                stub.cancel_held(order_id)
            return copy.deepcopy(stub.orders[order_id])  # a done order stays as it is

        return {
            "create_order": create_order,
            "fetch_order": fetch_order,
            "cancel_order": cancel_order,
        }

    def hold(self, exchange: Exchange, order: dict[str, Any], filled_fraction: float) -> None:
        """Leave a new order open on the exchange, with ``filled_fraction`` of it filled."""
        filled = exchange.amount_to_precision(order["symbol"], order["amount"] * filled_fraction)
        order.update({"status": "open", "filled": filled, "remaining": order["amount"] - filled})
        _price_order(order)
        self.orders[order["id"]] = order
        self.held.add(order["id"])


def _price_order(order: dict[str, Any]) -> None:
    average = order.get("average") or order["price"]
    order["cost"] = order["filled"] * average
    fee = order.get("fee") or {}
    if fee.get("rate") is not None:
        order["fee"] = {**fee, "cost": order["cost"] * fee["rate"]}


def make_config(
    tmp_path: Path,
    *,
    brain: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    dry_run: bool = True,
    config_file: Path | None = None,
    db_url: str | None = None,
) -> dict[str, Any]:
    """Return a dry-run config from the repo's config.json, on ``tmp_path/trades.sqlite``
    (or on ``db_url``, e.g. a PostgreSQL database)."""
    install_offline_markets()
    args = {
        "config": [str(config_file or REPO / "config.json")],
        "user_data_dir": str(REPO / "user_data"),
        "strategy": "ExitBrainLiveStrategy",
        "strategy_path": str(STRATEGIES),
        "db_url": db_url or f"sqlite:///{tmp_path / 'trades.sqlite'}",
    }
    config = Configuration(args, RunMode.DRY_RUN if dry_run else RunMode.LIVE).get_config()
    return _adjust_config(config, brain=brain, extra=extra, dry_run=dry_run)


def _adjust_config(
    config: dict[str, Any],
    *,
    brain: dict[str, Any] | None,
    extra: dict[str, Any] | None,
    dry_run: bool,
) -> dict[str, Any]:
    config["dry_run"] = dry_run
    config["runmode"] = RunMode.DRY_RUN if dry_run else RunMode.LIVE
    config["initial_state"] = "running"
    config["max_open_trades"] = 1
    config["stake_amount"] = 0.05
    config["exchange"]["pair_whitelist"] = [PAIR]
    config["exchange"]["enable_ws"] = False
    config["internals"] = {**config.get("internals", {}), "heartbeat_interval": 0}
    if brain is not None:
        config["exit_brain"] = copy.deepcopy(brain)
    for key, value in (extra or {}).items():
        config[key] = copy.deepcopy(value)
    return config


def write_config_file(path: Path, tmp_path: Path, **changes: Any) -> Path:
    """Write a config file for ``Worker`` (which re-reads its files on /reload_config)."""
    data = json.loads((REPO / "config.json").read_text(encoding="utf-8"))
    data.update(
        {
            "db_url": f"sqlite:///{tmp_path / 'trades.sqlite'}",
            "initial_state": "running",
            "max_open_trades": 1,
            "stake_amount": 0.05,
            "internals": {"process_throttle_secs": 5, "heartbeat_interval": 0},
        }
    )
    data["exchange"]["pair_whitelist"] = [PAIR]
    data["exchange"]["enable_ws"] = False
    for key, value in changes.items():
        data[key] = value
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


class LiveHarness:
    """One simulated bot process after another, on one database and one market."""

    def __init__(
        self,
        tmp_path: Path,
        monkeypatch: Any,
        *,
        price: float = 0.1,
        recorded_end: int = RALLY_START,
        db_url: str | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        # The bots' database: SQLite under tmp_path, or e.g. a PostgreSQL database.
        self.db_url = db_url or f"sqlite:///{tmp_path / 'trades.sqlite'}"
        self.monkeypatch = monkeypatch
        # A backtest earlier in the same process leaves freqtrade's models in memory mode
        # (disable_database_use); a trading bot uses the database.
        enable_database_use()
        self.tape = Tape(price=price, history=history_from_recorded(recorded_end, price))
        self.exchange = ScriptedExchange(self.tape)
        self.exchange.install(monkeypatch)
        self.clock = time_machine.travel(START, tick=False)
        self.traveller = self.clock.start()
        self.started_at = START
        self.tape.tick(price, START)
        self.bot: FreqtradeBot | None = None
        self.worker: Any = None

    # ------------------------------------------------------------------ bot lifecycle

    def start_bot(
        self,
        brain: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        *,
        dry_run: bool = True,
        config: dict[str, Any] | None = None,
    ) -> FreqtradeBot:
        """Start a bot process on the shared database (what ``freqtrade trade`` does)."""
        self.stop_bot()
        if config is None:
            config = make_config(
                self.tmp_path, brain=brain, extra=extra, dry_run=dry_run, db_url=self.db_url
            )
        bot = FreqtradeBot(config)
        bot.state = State.RUNNING
        bot.startup()
        self.bot = bot
        return bot

    def start_worker(self, config_file: Path) -> Worker:
        """Start freqtrade's Worker on a config file, as ``freqtrade trade --config`` does.

        The worker's own loop sleeps between iterations, so the test drives the same steps
        itself: ``startup()`` when the state becomes RUNNING, then ``process()`` per step.
        """
        self.stop_bot()
        args = {
            "config": [str(config_file)],
            "user_data_dir": str(REPO / "user_data"),
            "strategy": "ExitBrainLiveStrategy",
            "strategy_path": str(STRATEGIES),
        }
        install_offline_markets()
        worker = Worker(args)
        worker.freqtrade.startup()
        self.bot = worker.freqtrade
        self.worker = worker
        return worker

    def reload_config(self) -> None:
        """``/reload_config``: what the REST API and Telegram call, then what the worker does.

        ``RPC._rpc_reload_config`` sets the state; ``Worker.run`` then calls ``_reconfigure``
        (cleanup, re-read every config file, a new FreqtradeBot and strategy) and, when the new
        state is RUNNING, ``startup()``. An invalid setting raises out of ``_reconfigure``,
        as it does out of ``Worker.run`` into ``freqtrade.main``.
        """
        assert self.bot is not None
        RPC(self.bot)._rpc_reload_config()
        assert self.bot.state == State.RELOAD_CONFIG
        self.bot = None
        self.worker._reconfigure()
        self.worker.freqtrade.startup()
        self.bot = self.worker.freqtrade

    def stop_bot(self) -> None:
        """Discard the bot object, as a process that stops (or crashes after committing)."""
        if self.bot is not None:
            self.bot.cleanup()
            self.bot = None

    def close(self) -> None:
        self.stop_bot()
        self.clock.stop()

    @property
    def strategy(self) -> Any:
        assert self.bot is not None
        return self.bot.strategy

    # ------------------------------------------------------------------ time and market

    def step(self, price: float | None = None, *, seconds: int = 60) -> None:
        """Move the clock, set the tick, run one iteration of freqtrade's bot loop."""
        self.traveller.shift(timedelta(seconds=seconds))
        self.tape.tick(self.tape.price if price is None else price, datetime.now(UTC))
        self._clear_rate_caches()
        assert self.bot is not None
        self.bot.process()

    def walk(self, prices: list[float], *, seconds: int = 60) -> None:
        for price in prices:
            self.step(price, seconds=seconds)

    def _clear_rate_caches(self) -> None:
        if self.bot is not None:
            self.bot.exchange._entry_rate_cache.clear()
            self.bot.exchange._exit_rate_cache.clear()

    def open_trade(self) -> Trade:
        """Let the strategy enter once at the current tick; return the open trade."""
        self.strategy.live_enter = True
        self.step()
        self.strategy.live_enter = False
        trade = self.trade()
        assert trade.is_open
        assert trade.has_open_position
        return trade

    # ------------------------------------------------------------------ what tests read

    def trade(self, trade_id: int = 1) -> Trade:
        """Return the trade as the bot's session holds it (never refreshed: that would drop
        changes the bot has not committed yet)."""
        found = [trade for trade in Trade.get_trades_proxy() if trade.id == trade_id]
        assert found, f"no trade {trade_id}"
        return found[0]

    def state(self, trade_id: int = 1, key: str = STATE_KEY, db_url: str | None = None) -> Any:
        """Return the stored state as the database holds it (raw JSON)."""
        with _connect(db_url or self.db_url) as db:
            row = db.execute(
                text(
                    "SELECT cd_type, cd_value FROM trade_custom_data "
                    "WHERE ft_trade_id=:trade AND cd_key=:key"
                ),
                {"trade": trade_id, "key": key},
            ).fetchone()
        if row is None:
            return None
        return json.loads(row[1]) if row[0] == "dict" else row[1]

    def write_custom_data(
        self, cd_type: str, cd_value: str, trade_id: int = 1, key: str = STATE_KEY
    ) -> None:
        """Overwrite (or create) the stored state row, as a corrupt or foreign database has it."""
        values = {"type": cd_type, "value": cd_value, "trade": trade_id, "key": key}
        with _connect(self.db_url) as db:
            cursor = db.execute(
                text(
                    "UPDATE trade_custom_data SET cd_type=:type, cd_value=:value "
                    "WHERE ft_trade_id=:trade AND cd_key=:key"
                ),
                values,
            )
            if cursor.rowcount == 0:
                db.execute(
                    text(
                        "INSERT INTO trade_custom_data (ft_trade_id, cd_key, cd_type, cd_value, "
                        "created_at) VALUES (:trade, :key, :type, :value, :at)"
                    ),
                    {**values, "at": START.replace(tzinfo=None)},
                )

    def delete_custom_data(self, trade_id: int = 1, key: str = STATE_KEY) -> None:
        with _connect(self.db_url) as db:
            db.execute(
                text("DELETE FROM trade_custom_data WHERE ft_trade_id=:trade AND cd_key=:key"),
                {"trade": trade_id, "key": key},
            )


@contextlib.contextmanager
def _connect(db_url: str) -> Iterator[Any]:
    """A connection of its own to the bots' database (SQLite or PostgreSQL), committed on exit."""
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


def exit_orders(trade: Trade) -> list[tuple[str | None, str, float]]:
    """Return the trade's exit orders as (tag, status, filled amount), oldest first."""
    return trade_orders.exit_orders(trade, view=trade_orders.OUTCOMES, filled_only=False)


def stoploss_orders(trade: Trade) -> list[tuple[str, float, float]]:
    """Return the trade's stoploss-on-exchange orders as (status, stop price, amount)."""
    return [
        (order.status, float(order.stop_price or order.ft_price), float(order.safe_amount))
        for order in sorted(trade.orders, key=lambda o: o.order_date_utc)
        if order.ft_order_side == "stoploss"
    ]


def brain_lines(caplog: Any, level: int = logging.DEBUG) -> list[str]:
    """Return the exit brain's log lines (logger ``exit_brain``) at or above ``level``."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "exit_brain" and record.levelno >= level
    ]


def freqtrade_lines(caplog: Any) -> list[str]:
    """Return freqtrade's own log lines (everything not from the brain)."""
    return [record.getMessage() for record in caplog.records if record.name != "exit_brain"]


def iterate_ticks(candles: pd.DataFrame) -> Iterator[float]:
    """Yield four ticks per recorded candle: open, the nearer extreme, the other, close."""
    for row in candles.itertuples():
        first, second = (row.low, row.high) if row.close >= row.open else (row.high, row.low)
        yield from (row.open, first, second, row.close)
