#!/usr/bin/env python
"""What one core evaluation costs: median µs of the pure functions the callbacks call.

Usage (from the repository root, in the project's venv)::

    python benchmarks/bench_core.py                # every case, median of 31 repeats
    python benchmarks/bench_core.py --repeats 101 --number 20000
    python benchmarks/bench_core.py --profile      # + cProfile of the typical evaluation

Rules of the measurement:
1. Each case calls one public core function on fixed inputs built once (the snapshot and the
   state as the adapter passes them): nothing the adapter does is timed.
2. ``timeit`` runs a case ``--number`` times per repeat; the figure is the **median** per-call
   time over ``--repeats`` repeats (the minimum is printed too). The cases are interleaved
   repeat by repeat, so that load from other processes hits every case alike.
3. The cases are the calls a backtest makes on nearly every open-trade-candle: the typical
   open position (3-level ladder, no level reached, guard far: ``evaluate_position`` and
   ``evaluate_stop``), plus the other paths for reference: a new high-water mark (the state
   is rebuilt, ``dataclasses.replace``), a level reached and the guard firing (events are
   built), a ratcheted stop under a strategy floor, and the backtest's resting order.

Target (issue 13): ≤ 5 µs median for ``evaluate_position`` on the typical open state and for
``evaluate_stop``.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import timeit
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any


REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from exit_brain_plugin.core import (  # noqa: E402 - after the path fix above
    MarketSnapshot,
    PositionOpen,
    Side,
    create_state,
    evaluate_position,
    evaluate_stop,
    parse_config,
    price_resting_exit,
)


TARGET_US = 5.0
CONFIG = {
    "tp_profile": [0.25, 0.25, 0.5],
    "tp_distances": [0.01, 0.02, 0.04],
    "size_basis": "remaining",
    "max_tp_levels": 4,
    "ratchet_sl_enabled": True,
    "ratchet_rule": "seed",
    "loss_guard_enabled": True,
    "max_unrealized_loss_pct": 12.5,
}


def cases() -> dict[str, Callable[[], Any]]:
    """Return the timed calls, by name (each a no-argument closure over fixed inputs)."""
    config = parse_config(CONFIG)
    opening = PositionOpen(
        pair="ETH/BTC",
        side=Side.LONG,
        entry_price=0.05,
        amount=10.0,
        initial_stop_price=0.04,
        price_step=1e-6,
        order_id="1",
    )
    state = create_state(opening, config).state
    state = replace(state, max_unrealized_profit_pct=0.8)  # past its high-water mark
    typical = MarketSnapshot(
        price=0.0502,
        current_profit=0.002,
        amount_step=0.001,
        min_order_amount=0.01,
        min_remaining_amount=0.01,
        exchange_stop_price=0.04,
    )
    new_high = replace(typical, price=0.0504, current_profit=0.009)
    reached = replace(typical, price=0.0506, current_profit=0.011)
    guard = replace(typical, price=0.0437, current_profit=-0.126)
    ratcheted = replace(state, active_sl=0.05, sl_reason="breakeven")
    return {
        "evaluate_position (typical: no level, guard far)": lambda: evaluate_position(
            typical, state, config
        ),
        "evaluate_stop (initial stop, guard far)": lambda: evaluate_stop(
            state, config, held_stop_price=0.04, host_stop_price=None, loss_guard_price=0.0437
        ),
        "evaluate_stop (ratcheted stop + strategy floor)": lambda: evaluate_stop(
            ratcheted, config, held_stop_price=0.05, host_stop_price=0.045, loss_guard_price=0.0437
        ),
        "evaluate_position (new high-water mark)": lambda: evaluate_position(
            new_high, state, config
        ),
        "evaluate_position (TP1 reached)": lambda: evaluate_position(reached, state, config),
        "evaluate_position (loss guard fires)": lambda: evaluate_position(guard, state, config),
        "price_resting_exit (TP1 order)": lambda: price_resting_exit(typical, state, config),
    }


def measure(number: int, repeats: int) -> dict[str, list[float]]:
    """Return the per-call µs of every repeat of every case (cases interleaved per repeat)."""
    timed = cases()
    for call in timed.values():  # warm caches (settings_for's lru_cache) and the CPU
        timeit.timeit(call, number=number // 10 or 1)
    runs: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(repeats):
        for name, call in timed.items():
            runs[name].append(timeit.timeit(call, number=number) / number * 1e6)
    return runs


def _profile(number: int) -> None:
    import cProfile
    import pstats

    call = next(iter(cases().values()))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(number):
        call()
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main(argv: list[str] | None = None) -> int:
    """Print the median (and minimum) µs per call of every case."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=5_000, help="calls per repeat")
    parser.add_argument("--repeats", type=int, default=31)
    parser.add_argument("--profile", action="store_true", help="cProfile the typical evaluation")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}")
    runs = measure(args.number, args.repeats)
    print(f"{'case':52}{'median µs':>11}{'min µs':>9}")
    for name, figures in runs.items():
        median = statistics.median(figures)
        print(f"{name:52}{median:>11.2f}{min(figures):>9.2f}")
    print(f"target: ≤ {TARGET_US:g} µs median for the first two cases")
    if args.profile:
        _profile(args.number * 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
