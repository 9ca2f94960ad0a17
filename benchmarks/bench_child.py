"""The benchmark's child process: one backtest (or one hyperopt) in a fresh interpreter.

Rules:
1. One run per process, so that peak memory (``ru_maxrss``) is the run's own.
2. Only ``Backtesting.backtest()`` is timed: start-up, data loading and indicators are not.
   Both wall time and the process's CPU time (``time.process_time``) are kept: on a machine
   other processes share, CPU time moves much less with their load than wall time does.
3. **open-trade-candles** are counted the same way for every variant, from the result's
   trades: one per candle a trade is open, its entry and exit candles included (freqtrade's
   ``backtest_loop`` checks every open trade on every candle, the entry candle too). This is
   the unit the variants are compared in, since they do not hold the same trades.
4. The callback timers (``instrument``) wrap the five per-trade callbacks with
   ``functools.wraps``, which keeps the qualname freqtrade checks, so freqtrade still
   deep-copies the trade exactly as for the unwrapped callback. The plain variant is not
   instrumented: it has no callbacks of its own.
5. ``overrides`` are set in freqtrade's configuration after it is loaded: the plain variant
   turns off ``position_adjustment_enable`` (config.json turns it on for the brain), so that
   freqtrade does not ask a strategy without callbacks for adjustments on every candle.
"""

from __future__ import annotations

import functools
import gc
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any


REPO = Path(__file__).resolve().parents[1]
CALLBACKS = (
    "custom_exit",
    "custom_stoploss",
    "adjust_trade_position",
    "order_filled",
    "custom_exit_price",
)
# Timed too, reported apart: the mixin's override of freqtrade's own exit check (its time
# includes freqtrade's should_exit and the custom_stoploss / custom_exit calls inside it).
EXTRA_TIMED = ("should_exit",)


class Histogram:
    """Call durations in 0.1 µs buckets (fixed memory, however many calls), plus the sum."""

    BUCKET_NS = 100
    BUCKETS = 20_000  # up to 2 ms; longer calls are kept one by one

    def __init__(self) -> None:
        self.counts = [0] * self.BUCKETS
        self.slow: list[int] = []
        self.total_ns = 0

    def add(self, elapsed_ns: int) -> None:
        """Record one call."""
        self.total_ns += elapsed_ns
        bucket = elapsed_ns // self.BUCKET_NS
        if bucket < self.BUCKETS:
            self.counts[bucket] += 1
        else:
            self.slow.append(elapsed_ns)

    def merge(self, other: Histogram) -> None:
        """Add another histogram's calls to this one."""
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.slow += other.slow
        self.total_ns += other.total_ns

    def quantile_us(self, fraction: float) -> float:
        """Return the duration below which ``fraction`` of the calls fall (bucket midpoint)."""
        calls = sum(self.counts) + len(self.slow)
        rank = fraction * (calls - 1)
        seen = 0
        for bucket, count in enumerate(self.counts):
            seen += count
            if seen > rank:
                return (bucket + 0.5) * self.BUCKET_NS / 1000.0
        slow = sorted(self.slow)
        return slow[min(len(slow) - 1, max(0, int(rank) - seen))] / 1000.0

    def stats(self) -> dict[str, float]:
        """Return calls, median, p90, mean (µs) and total time (s)."""
        calls = sum(self.counts) + len(self.slow)
        if not calls:
            return {"calls": 0, "median_us": 0.0, "p90_us": 0.0, "mean_us": 0.0, "total_s": 0.0}
        return {
            "calls": calls,
            "median_us": self.quantile_us(0.5),
            "p90_us": self.quantile_us(0.9),
            "mean_us": self.total_ns / calls / 1000.0,
            "total_s": self.total_ns / 1e9,
        }


def _timed(original: Any, record: Any) -> Any:
    clock = time.perf_counter_ns

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            record(clock() - start)

    return timed


def _instrument(strategy: Any) -> dict[str, Histogram]:
    # Instance attributes shadow the class methods; freqtrade looks them up on the instance
    # at each call (strategy_safe_wrapper(self.custom_exit, ...)), and functools.wraps keeps
    # the qualname it checks (so the trade is still deep-copied as for the real callback).
    histograms = {name: Histogram() for name in CALLBACKS + EXTRA_TIMED}
    for name, histogram in histograms.items():
        setattr(strategy, name, _timed(getattr(strategy, name), histogram.add))
    return histograms


def open_trade_candles(trades: Any, timeframe_minutes: int) -> int:
    """Return the candles the trades were open on, entry and exit candles included (rule 3)."""
    if not len(trades):
        return 0
    span = (trades["close_date"] - trades["open_date"]).dt.total_seconds()
    return int((span // (60 * timeframe_minutes) + 1).sum())


def _arguments(spec: dict[str, Any], command: str) -> list[str]:
    argv = [command, "--config", spec["config"], "--userdir", str(REPO / "user_data")]
    argv += ["--strategy", spec["strategy"], "--datadir", spec["datadir"]]
    if spec.get("timerange"):
        argv += ["--timerange", spec["timerange"]]
    if spec.get("strategy_path"):
        argv += ["--strategy-path", spec["strategy_path"]]
    return argv


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one backtest as ``spec`` says, in this process; return its measurements."""
    import logging

    logging.disable(logging.INFO)  # freqtrade's and the brain's INFO lines: not measured
    sys.path.insert(0, str(REPO / "user_data" / "strategies"))  # BenchFloorStrategy's import
    from freqtrade.commands import Arguments
    from freqtrade.commands.optimize_commands import setup_optimize_configuration
    from freqtrade.data import history
    from freqtrade.data.converter import trim_dataframes
    from freqtrade.enums import RunMode
    from freqtrade.exchange import timeframe_to_minutes
    from freqtrade.optimize.backtesting import Backtesting

    from exit_brain_plugin.adapter.tools.offline import install_offline_markets

    install_offline_markets()
    argv = [*_arguments(spec, "backtesting"), "--export", "none", "--cache", "none"]
    config = setup_optimize_configuration(Arguments(argv).get_parsed_arg(), RunMode.BACKTEST)
    config.update(spec.get("overrides") or {})
    backtesting = Backtesting(config)
    data, timerange = backtesting.load_bt_data()
    strategy = backtesting.strategylist[0]
    backtesting._set_strategy(strategy)
    backtesting.progress = None  # no progress bars: they update on every candle
    histograms = _instrument(strategy) if spec.get("instrument", True) else {}
    processed = strategy.advise_all_indicators(data)
    trimmed = trim_dataframes(processed, timerange, backtesting.required_startup)
    start, end = history.get_timerange(trimmed)
    candles = sum(len(frame) for frame in trimmed.values())
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    gc.collect()
    began, cpu_began = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    result = backtesting.backtest(processed=processed, start_date=start, end_date=end)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - cpu_began
    trades = result["results"]
    out: dict[str, Any] = {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "trades": len(trades),
        "orders": int(sum(len(orders) for orders in trades["orders"])) if len(trades) else 0,
        "profit_abs": float(trades["profit_abs"].sum()) if len(trades) else 0.0,
        "candles": candles,
        "open_trade_candles": open_trade_candles(trades, timeframe_to_minutes(strategy.timeframe)),
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    out["callbacks"] = {name: histogram.stats() for name, histogram in histograms.items()}
    every = Histogram()
    for name in CALLBACKS:
        if name in histograms:
            every.merge(histograms[name])
    out["all_callbacks"] = every.stats()
    if profiler is not None:
        profiler.dump_stats(spec["profile"])
        # what profile_hotspots.py divides by, next to the profile
        sidecar = {"open_trade_candles": out["open_trade_candles"], "seconds": seconds}
        Path(spec["profile"]).with_suffix(".json").write_text(json.dumps(sidecar))
    return out


def run_hyperopt_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run ``freqtrade hyperopt -j JOBS`` as ``spec`` says; return its wall time per epoch.

    The spaces are freqtrade's own ``roi`` and ``stoploss`` for every variant, so that each
    epoch is one backtest of the variant's strategy with the same kind of parameters (the
    brain's ``exitbrain`` space stays at its defaults). Results go to a temporary user
    directory (``spec["userdir"]``), never to the repository's user_data. The time is the
    whole ``Hyperopt.start()`` (data loading, indicators and the workers' start-up included,
    spread over the epochs).
    """
    import logging

    logging.disable(logging.INFO)
    sys.path.insert(0, str(REPO / "user_data" / "strategies"))
    from freqtrade.commands import Arguments
    from freqtrade.commands.optimize_commands import setup_optimize_configuration
    from freqtrade.enums import RunMode
    from freqtrade.optimize.hyperopt import Hyperopt

    from exit_brain_plugin.adapter.tools.offline import install_offline_markets

    install_offline_markets()
    strategies = spec.get("strategy_path") or str(REPO / "user_data" / "strategies")
    argv = _arguments({**spec, "strategy_path": strategies}, "hyperopt")
    argv[argv.index("--userdir") + 1] = spec["userdir"]  # results outside the repository
    argv += ["--epochs", str(spec["epochs"]), "-j", str(spec["jobs"]), "--spaces", "roi"]
    argv += ["stoploss", "--hyperopt-loss", "SharpeHyperOptLossDaily", "--random-state", "1"]
    argv += ["--disable-param-export", "--print-all", "--no-color"]
    config = setup_optimize_configuration(Arguments(argv).get_parsed_arg(), RunMode.HYPEROPT)
    config.update(spec.get("overrides") or {})
    began = time.perf_counter()
    Hyperopt(config).start()
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "epochs": spec["epochs"],
        "seconds_per_epoch": seconds / spec["epochs"],
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
