"""Synthetic benchmark data: N seeded random-walk pairs of 5m candles, their markets and config.

Rules:
1. The same seed and pair index always give the same candles (tests/reports/
   test_benchmark_data.py checks it), so two benchmark runs compare like with like.
2. Candles are valid OHLC on the 1e-6 tick of ETH/BTC; markets are copies of the shipped
   ETH/BTC market; the config is config.json with the synthetic whitelist, ``max_open_trades``
   and a wallet large enough for all of them.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


REPO = Path(__file__).resolve().parents[1]
SYNTHETIC_START = "2024-01-01"
SYNTHETIC_SEED = 20260925


def synthetic_candles(index: int, months: int, seed: int = SYNTHETIC_SEED) -> Any:
    """Return deterministic random-walk 5m candles for synthetic pair ``index``.

    Log-price random walk (0.25 % per candle) with a weak pull back to the start price, so six
    months stay in a realistic range; highs and lows spread around open/close; prices on the
    1e-6 tick of ETH/BTC.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed + index)
    start = pd.Timestamp(SYNTHETIC_START, tz="UTC")
    end = start + pd.DateOffset(months=months)
    dates = pd.date_range(start, end, freq="5min", inclusive="left")
    count = len(dates)
    base = 0.05 * (1.0 + index / 10.0)
    sigma, pull = 0.0025, 0.0005
    shocks = rng.standard_normal(count) * sigma
    log_price = np.empty(count)
    level = 0.0
    for i in range(count):  # the pull makes it a recurrence; 52 k steps take ~30 ms
        level += shocks[i] - pull * level
        log_price[i] = level
    close = base * np.exp(log_price)
    open_ = np.concatenate(([base], close[:-1]))
    spread = np.abs(rng.standard_normal((2, count))) * sigma * 0.6
    high = np.maximum(open_, close) * np.exp(spread[0])
    low = np.minimum(open_, close) * np.exp(-spread[1])
    frame = pd.DataFrame(
        {
            "date": dates,
            "open": np.round(open_, 6),
            "high": np.round(high, 6),
            "low": np.round(low, 6),
            "close": np.round(close, 6),
            "volume": np.round(rng.lognormal(3.0, 1.0, count), 3),
        }
    )
    return frame


def synthetic_pair(index: int) -> str:
    """Return the name of synthetic pair ``index``."""
    return f"SYN{index:02d}/BTC"


def write_synthetic(
    root: Path, pairs: int, months: int, max_open_trades: int
) -> tuple[Path, Path, Path]:
    """Write candles, markets and a config for the synthetic dataset under ``root``.

    :return: (config file, datadir, markets snapshot)
    """
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    datadir = root / "data"
    datadir.mkdir(parents=True, exist_ok=True)
    handler = get_datahandler(datadir, "feather")
    shipped = json.loads((REPO / "user_data" / "markets" / "binance-markets.json").read_text())
    markets = dict(shipped)
    template = shipped["ETH/BTC"]
    names = []
    for index in range(1, pairs + 1):
        pair = synthetic_pair(index)
        names.append(pair)
        handler.ohlcv_store(pair, "5m", synthetic_candles(index, months), CandleType.SPOT)
        base = pair.split("/")[0]
        market = copy.deepcopy(template)
        market.update({"id": f"{base}BTC", "lowercaseId": f"{base.lower()}btc", "symbol": pair})
        market.update({"base": base, "baseId": base})
        market["info"] = {**market["info"], "symbol": f"{base}BTC", "baseAsset": base}
        markets[pair] = market
    snapshot = root / "markets.json"
    snapshot.write_text(json.dumps(markets))
    config = json.loads((REPO / "config.json").read_text())
    config["exchange"]["pair_whitelist"] = names
    config["datadir"] = str(datadir)
    config["max_open_trades"] = max_open_trades
    config["dry_run_wallet"] = config["stake_amount"] * max_open_trades * 4
    config_file = root / "config-synthetic.json"
    config_file.write_text(json.dumps(config, indent=2))
    return config_file, datadir, snapshot
