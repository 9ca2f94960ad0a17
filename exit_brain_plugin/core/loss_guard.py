"""Loss guard (docs/behaviour.md §4.1).

Rules:
G1. When the loss guard is enabled and PnL % (100 × freqtrade's profit ratio, fees and
    leverage included) is at or below −``max_unrealized_loss_pct``, close the FULL remaining
    position at market, set ``loss_guard_triggered``, clear TP levels and the brain's stop,
    and stop the evaluation.
G2. It fires once per position: once triggered, every later evaluation only repeats the
    same full close (a retry while the order has not filled) and nothing else happens.
G3. The guard price is where that PnL % is reached: for a long
    ``open × (1 + fee_open) × (1 − t / leverage) / (1 − fee_close)``, for a short
    ``open × (1 − fee_open) × (1 + t / leverage) / (1 + fee_close)`` (freqtrade's profit ratio,
    funding left out; the adapter asks freqtrade itself, funding in). A long that cannot lose
    that much (t / leverage ≥ 1) has none. One formula for the reports' plot and the tests'
    market model.
Precedence: first of all rules (brain.py).
Invariant: fires at most once, nothing after it (test_loss_guard_fires_once).
"""

from exit_brain_plugin.core.config import BrainConfig
from exit_brain_plugin.core.enums import Side


# A PnL within this many percentage points of the threshold counts as reached (float noise).
PNL_TOL_PCT = 1e-9


def is_loss_guard_hit(config: BrainConfig, current_profit: float) -> bool:
    """Return True when G1 fires for a profit ratio (``-0.126`` is −12.6 %)."""
    if not config.loss_guard_enabled:
        return False
    return 100.0 * current_profit <= -config.max_unrealized_loss_pct + PNL_TOL_PCT


def guard_price(
    side: Side,
    open_rate: float,
    config: BrainConfig,
    *,
    leverage: float = 1.0,
    fee_open: float = 0.0,
    fee_close: float = 0.0,
) -> float | None:
    """Return the price at which PnL % reaches ``-max_unrealized_loss_pct`` (G3), or None."""
    loss = config.max_unrealized_loss_pct / 100.0 / (leverage or 1.0)
    if side is Side.SHORT:
        return open_rate * (1 - fee_open) * (1 + loss) / (1 + fee_close)
    if loss >= 1.0:
        return None
    return open_rate * (1 + fee_open) * (1 - loss) / (1 - fee_close)
