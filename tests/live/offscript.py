"""Builders for the off-script tests (issue 9): spot longs on ETH/BTC, futures shorts on
XRP/USDT:USDT with leverage, through freqtrade's real ``FreqtradeBot.process()``."""

import copy
import json
from typing import Any

from freqtrade.rpc import RPC

from exit_brain_plugin.adapter.tools.offline import install_offline_markets, load_markets_snapshot
from tests.live.bot_harness import REPO, LiveHarness, make_config


FUTURES_PAIR = "XRP/USDT:USDT"
STRATEGY = "OffScriptStrategy"


def offscript_config(
    live: LiveHarness,
    *,
    side: str = "long",
    leverage: float = 1.0,
    brain: dict[str, Any] | None = None,
    precision: dict[str, float] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a dry-run config: spot ETH/BTC long, or futures XRP/USDT:USDT (isolated)."""
    futures = side == "short"
    config = make_config(
        live.tmp_path,
        brain=brain,
        config_file=REPO / ("config-futures.json" if futures else "config.json"),
    )
    config["strategy"] = "OffScriptShortStrategy" if futures else STRATEGY
    config["live_side"] = side
    config["live_leverage"] = leverage
    if futures:
        config["exchange"]["pair_whitelist"] = [FUTURES_PAIR]
        config["stake_amount"] = 100.0
        config["dry_run_wallet"] = 10000.0
    for key, value in extra.items():
        config[key] = copy.deepcopy(value)
    if precision:
        _with_precision(live, FUTURES_PAIR if futures else "ETH/BTC", precision)
    return config


def _with_precision(live: LiveHarness, pair: str, precision: dict[str, float]) -> None:
    # A market with another tick or amount step: the snapshot, edited, for this bot only
    # (the next make_config installs the repository's snapshot again).
    markets = load_markets_snapshot(REPO / "user_data" / "markets" / "binance-markets.json")
    markets[pair]["precision"].update(precision)
    if "amount" in precision:
        markets[pair]["limits"]["amount"]["min"] = precision["amount"]
    path = live.tmp_path / "markets.json"
    path.write_text(json.dumps(markets), encoding="utf-8")
    install_offline_markets(path)


def force_exit(live: LiveHarness, amount: float) -> None:
    """``/forceexit 1 <amount>``: what the REST API and Telegram call."""
    assert live.bot is not None
    RPC(live.bot)._rpc_force_exit("1", ordertype="market", amount=amount)


def start(live: LiveHarness, **kwargs: Any) -> Any:
    """Start a bot on the off-script strategy (see :func:`offscript_config`)."""
    return live.start_bot(config=offscript_config(live, **kwargs))
