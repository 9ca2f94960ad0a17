"""Loss guard (docs/behaviour.md §4.1).

Rules:
G1. When the loss guard is enabled and PnL % (100 × freqtrade's profit ratio, fees and
    leverage included) is at or below −``max_unrealized_loss_pct``, close the FULL remaining
    position at market, set ``loss_guard_triggered``, clear TP levels and the brain's stop,
    and stop the evaluation.
G2. It fires once per position: once triggered, every later evaluation only repeats the
    same full close (a retry while the order has not filled) and nothing else happens.
Precedence: first of all rules (brain.py).
Invariant: fires at most once, nothing after it (test_loss_guard_fires_once).
"""

from exit_brain_plugin.core.config import BrainConfig


# A PnL within this many percentage points of the threshold counts as reached (float noise).
PNL_TOL_PCT = 1e-9


def is_loss_guard_hit(config: BrainConfig, current_profit: float) -> bool:
    """Return True when G1 fires for a profit ratio (``-0.126`` is −12.6 %)."""
    if not config.loss_guard_enabled:
        return False
    return 100.0 * current_profit <= -config.max_unrealized_loss_pct + PNL_TOL_PCT
