"""Exchange market facts as the brain needs them: price step, amount step, smallest order.

Pure functions over ccxt-unified market dicts (``exchange.markets[symbol]``) and over the
precision columns freqtrade stores on a trade (``price_precision``, ``amount_precision``,
``precision_mode``, ``precision_mode_price``, ``contract_size``). The one implementation of
the markets/precision lookup: the adapter's translation of a live trade, the offline markets
snapshot and the reports all read steps through it.

Rules:
1. A precision value is read per ccxt's precision mode (``ccxt.base.decimal_to_precision``):
   ``DECIMAL_PLACES`` (2) counts decimals, so the step is ``10 ** -precision``; ``TICK_SIZE``
   (4) is the step itself; ``SIGNIFICANT_DIGITS`` (3) has no fixed step (None). An unknown
   mode (None) is read as a tick size, the mode of every exchange freqtrade supports today.
2. A missing, non-numeric (bool included), non-finite or non-positive precision gives None:
   the step is unknown, never zero.
3. The price step follows the price's own mode when the exchange has one
   (freqtrade's ``precision_mode_price``), else the exchange's mode.
4. The amount step is in base units: a futures market counts amounts in contracts, so the
   contract step is multiplied by ``contractSize`` (freqtrade's ``amount_to_contract_precision``).
5. The smallest order, in base units, satisfies both exchange minimums at the given price:
   ``max(limits.amount.min × contractSize, limits.cost.min / price)``; 0 when neither is known.
6. A markets snapshot is a non-empty mapping of ccxt symbol → market dict whose ``symbol``
   equals its key and which holds the keys freqtrade reads (``id``, ``base``, ``quote``,
   ``precision``, ``limits``).
"""

import math
from collections.abc import Mapping
from typing import Any


__all__ = [
    "DECIMAL_PLACES",
    "REQUIRED_MARKET_KEYS",
    "SIGNIFICANT_DIGITS",
    "TICK_SIZE",
    "Steps",
    "amount_step",
    "market_amount_step",
    "market_price_step",
    "market_steps",
    "min_order_amount",
    "price_step",
    "snapshot_problem",
    "step_size",
]

#: ccxt precision modes (``ccxt.base.decimal_to_precision``).
DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4
#: Keys every market of a snapshot must have (freqtrade reads them for stake/precision checks).
REQUIRED_MARKET_KEYS = ("id", "base", "quote", "precision", "limits")

#: (price step, amount step in base units) per ccxt symbol.
Steps = dict[str, tuple[float | None, float | None]]


def _positive(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value <= 0:
        return None
    return float(value)


def step_size(precision: Any, mode: int | None = TICK_SIZE) -> float | None:
    """Return the step a ccxt precision value stands for (rules 1-2).

    :param precision: ``market["precision"]["price"|"amount"]`` or a trade's precision column
    :param mode: ccxt precision mode of that value (None: tick size)
    :return: the step (> 0), or None when unknown or when the mode has no fixed step
    """
    value = _positive(precision)
    if value is None:
        return None
    if mode == DECIMAL_PLACES:
        return float(10.0**-value)
    if mode in (TICK_SIZE, None):
        return value
    return None  # significant digits: no fixed step


def price_step(
    precision: Any, mode: int | None = TICK_SIZE, price_mode: int | None = None
) -> float | None:
    """Return the price step (rule 3).

    :param precision: the price precision value
    :param mode: the exchange's precision mode
    :param price_mode: the exchange's precision mode for prices, when it has its own
    """
    return step_size(precision, price_mode or mode)


def amount_step(
    precision: Any, mode: int | None = TICK_SIZE, contract_size: Any = None
) -> float | None:
    """Return the amount step in base units (rule 4).

    :param precision: the amount precision value (in contracts for a futures market)
    :param mode: the exchange's precision mode
    :param contract_size: base units per contract (None or 0: 1, a spot market)
    """
    step = step_size(precision, mode)
    if step is None:
        return None
    return step * (_positive(contract_size) or 1.0)


def _precision(market: Mapping[str, Any]) -> Mapping[str, Any]:
    precision = market.get("precision")
    return precision if isinstance(precision, Mapping) else {}


def market_price_step(
    market: Mapping[str, Any], mode: int | None = TICK_SIZE, price_mode: int | None = None
) -> float | None:
    """Return the price step of a ccxt market dict (rules 1-3)."""
    return price_step(_precision(market).get("price"), mode, price_mode)


def market_amount_step(market: Mapping[str, Any], mode: int | None = TICK_SIZE) -> float | None:
    """Return the amount step of a ccxt market dict, in base units (rules 1, 2, 4)."""
    return amount_step(_precision(market).get("amount"), mode, market.get("contractSize"))


def market_steps(
    markets: Any, mode: int | None = TICK_SIZE, price_mode: int | None = None
) -> Steps:
    """Return (price step, amount step) per symbol of a markets mapping.

    Entries that are not market dicts are skipped; anything but a mapping gives ``{}``.

    :param markets: ccxt symbol → ccxt-unified market dict (e.g. an offline snapshot)
    :param mode: the exchange's precision mode (Binance, the shipped snapshot: TICK_SIZE)
    """
    if not isinstance(markets, Mapping):
        return {}
    return {
        symbol: (market_price_step(market, mode, price_mode), market_amount_step(market, mode))
        for symbol, market in markets.items()
        if isinstance(market, Mapping)
    }


def _limit_min(limits: Mapping[str, Any], key: str) -> float:
    entry = limits.get(key)
    return (_positive(entry.get("min")) or 0.0) if isinstance(entry, Mapping) else 0.0


def min_order_amount(market: Mapping[str, Any] | None, price: float) -> float:
    """Return the smallest order the exchange takes at ``price``, in base units (rule 5).

    :param market: the ccxt market dict, or None when the market is unknown
    :param price: the price the order would fill at
    :return: the larger of the amount and cost minimums, 0.0 when neither is known
    """
    if not market:
        return 0.0
    limits = market.get("limits")
    if not isinstance(limits, Mapping):
        return 0.0
    contract = _positive(market.get("contractSize")) or 1.0
    min_amount = _limit_min(limits, "amount") * contract
    min_cost = _limit_min(limits, "cost")
    return max(min_amount, min_cost / price if price > 0 else 0.0)


def snapshot_problem(markets: Any) -> str | None:
    """Return what makes ``markets`` no markets snapshot (rule 6), or None when it is one.

    :return: a phrase that completes "The snapshot …", e.g. ``"is not a non-empty JSON object"``
    """
    if not isinstance(markets, Mapping) or not markets:
        return "is not a non-empty JSON object"
    for symbol, market in markets.items():
        if not isinstance(market, Mapping) or market.get("symbol") != symbol:
            return f"has an invalid entry {symbol!r} (its 'symbol' must equal the key)"
        missing = [key for key in REQUIRED_MARKET_KEYS if key not in market]
        if missing:
            return f"has entry {symbol!r} without {', '.join(missing)}"
    return None
