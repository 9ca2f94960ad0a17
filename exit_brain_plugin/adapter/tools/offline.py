"""Run freqtrade's own CLI (backtesting, hyperopt, backtesting-analysis, ...) without network.

freqtrade loads the exchange markets through ccxt on every start, even for backtesting, and
there is no config key to turn that off. This module replaces
:meth:`freqtrade.exchange.exchange.Exchange.reload_markets` with a version that reads
ccxt-unified markets from a JSON snapshot (see ``user_data/markets/README.md``), then hands
over to ``freqtrade.main.main``. Market data, Binance leverage tiers (dry-run/backtesting) and
everything else freqtrade needs for backtesting are already local.

Usage::

    python -m exit_brain_plugin.adapter.tools.offline backtesting --config config.json \\
        --userdir user_data --strategy MyStrategy --timerange 20180110-20180130

The snapshot path is, in this order: the ``path`` argument, the ``EXIT_BRAIN_MARKETS``
environment variable, ``user_data/markets/binance-markets.json`` below the current working
directory, the same file below the repository that contains this package.
"""

from __future__ import annotations

import copy
import logging
import os
import sys
from pathlib import Path
from typing import Any

from freqtrade import main as freqtrade_main_module
from freqtrade.enums import TradingMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange.exchange import Exchange
from freqtrade.main import main as freqtrade_main
from freqtrade.util import dt_ts

from exit_brain_plugin.adapter.tools.markets_file import (
    ENV_VAR,
    MARKETS_RELPATH,
    MarketsFileError,
    default_markets_path,
    read_markets_snapshot,
)


logger = logging.getLogger("exit_brain_plugin.adapter.tools.offline")

__all__ = [
    "ENV_VAR",
    "MARKETS_RELPATH",
    "install_offline_markets",
    "load_markets_snapshot",
    "run_freqtrade",
    "uninstall_offline_markets",
]

#: Attribute on the replacement function holding its state (marks it as installed).
_MARKER = "_exit_brain_offline"

_state: dict[str, Any] = {"markets": None, "path": None, "original": None}


def _fail(path: Path, problem: str) -> OperationalException:
    """Build the one-line error raised for an unusable snapshot.

    :param path: Snapshot path that was tried.
    :param problem: What is wrong with it.
    :return: The exception to raise.
    """
    return OperationalException(
        f"Offline markets snapshot {path} {problem}; create it (see "
        f"user_data/markets/README.md), or point {ENV_VAR} or install_offline_markets(path) "
        "at a JSON object mapping ccxt symbols to ccxt-unified market dicts."
    )


def load_markets_snapshot(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read and validate a markets snapshot (tools/markets_file.py, core/markets.py rule 6).

    :param path: JSON file mapping ccxt symbols (``"ETH/BTC"``, ``"XRP/USDT:USDT"``) to
        ccxt-unified market dicts.
    :return: The parsed markets.
    :raises OperationalException: If the file is missing, not JSON or not shaped like
        ccxt markets.
    """
    try:
        return read_markets_snapshot(path)
    except MarketsFileError as exc:
        raise _fail(Path(path), str(exc)) from exc


def _offline_reload_markets(
    self: Exchange, force: bool = False, *, load_leverage_tiers: bool = True
) -> None:
    """Replacement for ``Exchange.reload_markets`` that loads the snapshot instead of ccxt.

    :param self: The freqtrade exchange instance.
    :param force: Reload even if markets are already loaded.
    :param load_leverage_tiers: Fill leverage tiers in futures mode (Binance reads its bundled
        tiers file in dry-run/backtesting, so this stays offline).
    """
    if self._markets and not force:
        return
    markets = _state["markets"]
    if markets is None:  # patch installed, then state reset: load lazily
        _state["path"] = _state["path"] or default_markets_path()
        markets = load_markets_snapshot(_state["path"])
        _state["markets"] = markets
    self._api.set_markets(copy.deepcopy(markets))
    self._api_async.set_markets(copy.deepcopy(markets))
    self._markets = self._api_async.markets
    if self._ws_async:
        self._ws_async.set_markets_from_exchange(self._api_async)
    self._last_markets_refresh = dt_ts()
    logger.info("Loaded %d markets offline from %s", len(markets), _state["path"])
    if load_leverage_tiers and self.trading_mode == TradingMode.FUTURES:
        self.fill_leverage_tiers()


setattr(_offline_reload_markets, _MARKER, _state)


def install_offline_markets(path: str | os.PathLike[str] | None = None) -> None:
    """Make every freqtrade ``Exchange`` load its markets from a local JSON snapshot.

    Idempotent: calling it again only switches the installed patch to the (re-read) snapshot
    ``path``, also when this module was imported twice (e.g. once as ``__main__``).

    :param path: Snapshot file; ``None`` uses ``$EXIT_BRAIN_MARKETS``, then
        ``./user_data/markets/binance-markets.json``, then the repository's copy.
    :raises OperationalException: If the snapshot is missing or invalid.
    """
    file = Path(path) if path is not None else default_markets_path()
    markets = load_markets_snapshot(file)
    current = Exchange.reload_markets
    state: dict[str, Any] | None = getattr(current, _MARKER, None)
    if state is None:
        state = _state
        state["original"] = current
        Exchange.reload_markets = _offline_reload_markets
    state["markets"] = markets
    state["path"] = file


def uninstall_offline_markets() -> None:
    """Restore the original ``Exchange.reload_markets`` (e.g. at the end of a test).

    Does nothing if the offline patch is not installed.
    """
    state: dict[str, Any] | None = getattr(Exchange.reload_markets, _MARKER, None)
    if state is not None and state["original"] is not None:
        Exchange.reload_markets = state["original"]


def run_freqtrade(argv: list[str]) -> int:
    """Install the offline markets and run the freqtrade CLI.

    :param argv: freqtrade arguments without the program name, e.g.
        ``["backtesting", "--config", "config.json"]``.
    :return: freqtrade's exit code (0 on success).
    """
    try:
        install_offline_markets()
    except OperationalException as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    # freqtrade's main() logs a ConfigurationError and then exits with code 0
    # (freqtrade/main.py: its ``except ConfigurationError`` sets no return code), and its
    # logging setup (dictConfig) drops any handler added beforehand: watch its module logger.
    watcher = _ErrorWatcher(freqtrade_main_module.logger)
    freqtrade_main_module.logger = watcher
    try:
        freqtrade_main(argv)
    except SystemExit as exc:
        code = exc.code
        if code is None or code == 0:
            return 2 if watcher.configuration_errors else 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        freqtrade_main_module.logger = watcher.logger
    return 2 if watcher.configuration_errors else 0


class _ErrorWatcher(logging.LoggerAdapter):  # type: ignore[type-arg]
    """freqtrade's main logger, counting the fatal "Configuration error:" lines it writes."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})
        self.configuration_errors = 0

    def error(self, msg: object, *args: Any, **kwargs: Any) -> None:
        if str(msg).startswith("Configuration error:"):
            self.configuration_errors += 1
        self.logger.error(msg, *args, **kwargs)


if __name__ == "__main__":
    sys.exit(run_freqtrade(sys.argv[1:]))
