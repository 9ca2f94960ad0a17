#!/usr/bin/env python
"""What Prometheus metrics add to a live callback call, in µs (``--metrics-overhead``).

Usage (from the repository root, in the project's venv)::

    python benchmarks/bench_metrics.py
    python benchmarks/bench_backtest.py --metrics-overhead   # the same

Rules of the figures:
1. Metrics run only in ``freqtrade trade`` (never in backtests or hyperopt), so they are
   timed in a tight loop on this process's real metrics objects (no HTTP server).
2. Each figure is the best of several runs minus an empty call's, so that load from other
   processes stays out of it.
"""

from __future__ import annotations

import sys


def metrics_overhead(calls: int = 200_000, repeats: int = 7) -> dict[str, float]:
    """Return the metrics' own cost per callback call, in µs (best of ``repeats``).

    What metrics on adds to each call live (``exit_brain.metrics.enabled``): the timing wrapper
    and its histogram observation, and, on the two evaluating callbacks, the position gauges
    and the threshold gauge. Timed in a tight loop on this process's real metrics (no
    server), so the figure does not depend on a backtest's trades; the best of several runs
    keeps other load on the machine out of it.
    """
    import timeit

    from exit_brain_plugin.adapter import metrics

    recorder = metrics.MetricsRecorder(metrics.brain_metrics(), executed=True)
    timed = recorder.timed("custom_exit", lambda: None)

    def gauges() -> None:
        recorder.threshold(12.5)
        recorder.position(
            "1:ETH/BTC:0",
            pair="ETH/BTC",
            side="long",
            mode="act",
            levels=3,
            remaining_ratio=0.75,
            pnl_ratio=0.012,
            stop_distance=0.01,
        )

    def bare() -> None:
        return None

    figures = {}
    for name, function in (("empty call", bare), ("timed call", timed), ("gauges", gauges)):
        best = min(timeit.repeat(function, number=calls, repeat=repeats))
        figures[name] = best / calls * 1e6
    return {
        "timing wrapper + histogram": figures["timed call"] - figures["empty call"],
        "position + threshold gauges": figures["gauges"] - figures["empty call"],
    }


def print_metrics_overhead() -> int:
    """Print what metrics on adds to each callback call; return the exit status."""
    for what, us in metrics_overhead().items():
        print(f"{what}: {us:.2f} µs per call")
    return 0


if __name__ == "__main__":
    sys.exit(print_metrics_overhead())
