"""Builders for the off-script tests (issue 9): spot longs on ETH/BTC, futures shorts on
XRP/USDT:USDT with leverage, through freqtrade's real ``FreqtradeBot.process()``."""

import copy
from typing import Any

from tests.live.bot_harness import REPO, LiveHarness, make_config


FUTURES_PAIR = "XRP/USDT:USDT"
STRATEGY = "OffScriptStrategy"


def offscript_config(
    live: LiveHarness,
    *,
    side: str = "long",
    leverage: float = 1.0,
    brain: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Return a dry-run config: spot ETH/BTC long, or futures XRP/USDT:USDT (isolated)."""
    futures = side == "short"
    config = make_config(
        live.tmp_path,
        brain=brain,
        config_file=REPO / ("config-futures.json" if futures else "config.json"),
    )
    config["strategy"] = STRATEGY
    config["live_side"] = side
    config["live_leverage"] = leverage
    if futures:
        config["exchange"]["pair_whitelist"] = [FUTURES_PAIR]
        config["stake_amount"] = 100.0
        config["dry_run_wallet"] = 10000.0
    for key, value in extra.items():
        config[key] = copy.deepcopy(value)
    return config


def start(live: LiveHarness, **kwargs: Any) -> Any:
    """Start a bot on the off-script strategy (see :func:`offscript_config`)."""
    return live.start_bot(config=offscript_config(live, **kwargs))
