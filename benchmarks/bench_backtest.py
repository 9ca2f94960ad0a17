#!/usr/bin/env python
"""What the Exit Brain costs a freqtrade backtest: brain on versus the callback floor.

Usage (from the repository root, in the project's venv)::

    python benchmarks/bench_backtest.py                 # shipped data + 20 pairs × 6 months
    python benchmarks/bench_backtest.py --quick         # shipped data + 4 pairs × 1 month
    python benchmarks/bench_backtest.py --synthetic-pairs 20 --synthetic-months 6 --repeats 3
    python benchmarks/bench_backtest.py --quick --profile   # + cProfile of both variants
    python benchmarks/bench_backtest.py --metrics-overhead  # what live metrics add per call

Two variants of the same strategy, each in a fresh subprocess (so that peak memory is clean):

- ``brain``: ``ExitBrainSampleStrategy`` (the sample signals with ``ExitBrainMixin``) and the
  config's ``exit_brain`` section;
- ``floor``: ``BenchFloorStrategy`` (benchmarks/strategies): the same signals with the same
  callbacks the mixin implements (``custom_exit``, ``custom_stoploss`` with ``after_fill``,
  ``adjust_trade_position``, ``order_filled``, ``custom_exit_price``) returning neutral values,
  and the same freqtrade settings. freqtrade deep-copies the trade for every call of an
  implemented callback, so this floor is set by freqtrade itself (FREQTRADE_NOTES §9).

Measured per dataset, each variant run ``--repeats`` times (``--synthetic-repeats`` on the
synthetic data), interleaved:

- **time ratio**: wall time of ``Backtesting.backtest()`` only (data loading, start-up and
  indicators excluded), median over the runs, brain / floor. The two variants produce
  different trades (the brain closes positions earlier, in parts), so the time per
  *trade-candle* (one ``adjust_trade_position`` call: one open trade on one candle) is
  reported too;
- **µs per callback call**: every call of the five callbacks is timed with
  ``perf_counter_ns`` inside the process, into fixed-size histograms (0.1 µs buckets, so the
  memory does not grow with the calls); freqtrade's deep copy of the trade happens before the
  call and is not included. The floor's figure is the timing wrapper's own overhead
  (~0.3 µs a call, well under 1 % of a trade-candle);
- **peak memory**: ``ru_maxrss`` of the child process at its end (the largest of the runs).

``--profile`` adds one cProfile run per variant and prints the top functions by own time;
``--experiment NAME`` adds a ``brain-patched`` variant with a proposed adapter change applied
in the child process only (see ``_apply_experiments``): evidence for a change, measured side
by side under the same load.

Synthetic data: seeded random-walk 5m candles for N pairs ``SYNnn/BTC`` written with
freqtrade's feather data handler into a temporary datadir, markets for them (copies of the
ETH/BTC market) in a temporary snapshot pointed to by ``EXIT_BRAIN_MARKETS``, and a copy of
config.json whose whitelist is those pairs (``--max-open-trades``, default 10, with a wallet
large enough for all of them). The same seed always gives the same candles.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


REPO = Path(__file__).resolve().parents[1]
BENCH_STRATEGIES = REPO / "benchmarks" / "strategies"
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
VARIANTS = {
    "floor": {"strategy": "BenchFloorStrategy", "strategy_path": str(BENCH_STRATEGIES)},
    "brain": {"strategy": "ExitBrainSampleStrategy", "strategy_path": None},
}
SHIPPED = {
    "shipped-spot": ("config.json", "20180110-20180130"),
    "shipped-futures": ("config-futures.json", "20211115-20211122"),
}
RESULT_PREFIX = "BENCH_RESULT "
SYNTHETIC_START = "2024-01-01"
SYNTHETIC_SEED = 20260925


# --------------------------------------------------------------------------- synthetic data


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


# --------------------------------------------------------------------------- child process


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


def _uncopied(method: Any, name: str) -> Any:
    """Return ``method`` under a qualname freqtrade does not deep-copy the trade for."""

    @functools.wraps(method)
    def callback(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    callback.__qualname__ = f"IStrategy.{name}"  # strategy_wrapper.py:41 skips the deepcopy
    return callback


def _apply_experiments(names: list[str]) -> None:
    """Patch the mixin in this process to measure a proposed adapter change (what-if only).

    - ``no-deepcopy``: in backtests (and hyperopt), ``ft_bot_start`` sets each of the five
      callbacks the host strategy does not implement itself as an instance attribute whose
      ``__qualname__`` starts with ``IStrategy.``: freqtrade's ``strategy_safe_wrapper``
      (strategy_wrapper.py:41) then passes the trade itself instead of ``deepcopy(trade)``.
      Live and dry-run keep freqtrade's copy; a host callback keeps it too.
    - ``guard-cache``: compute the loss-guard price (``trade.calc_close_rate_for_roi``, exact
      decimal arithmetic) once per position and (open rate, amount, leverage, funding fees),
      not on every call.
    - ``eval-once``: in backtests ``adjust_trade_position`` and ``custom_exit`` evaluate the
      position at the same candle open; reuse the first evaluation for the second when the
      position, price, profit and stored state are the same (the core's evaluation is
      idempotent: tests/properties test_evaluation_is_idempotent).
    - ``persist-at-close``: in backtests the states live in the store's in-memory cache; write
      a position's state to freqtrade's custom data only when a fill closes it (instead of on
      every fill). freqtrade's backtest custom data is a list scanned linearly on every
      ``set_custom_data`` (persistence/custom_data.py), one row per trade, so each write costs
      O(trades so far).
    - ``cache-only-load``: in backtests a state missing from the store's cache is not there at
      all (the cache holds every state saved since the backtest started): return None
      instead of scanning custom data (``get_custom_data``) when a trade opens.
    - ``metrics``: the brain with its Prometheus metrics on, as live and dry-run run it
      (``exit_brain.metrics.enabled``): the recorder counts the sink's events, sets the
      position gauges at each evaluation and times the four callbacks into the
      ``exit_brain_evaluation_seconds`` histogram. Metrics never run in backtests; this
      measures their per-call cost on the same callbacks (no HTTP server is started).
    """
    patches = {
        "no-deepcopy": _patch_no_deepcopy,
        "guard-cache": _patch_guard_cache,
        "persist-at-close": _patch_persist_at_close,
        "eval-once": _patch_eval_once,
        "cache-only-load": _patch_cache_only_load,
        "metrics": _patch_metrics,
    }
    for name in names:
        patches[name]()


def _patch_metrics() -> None:
    from exit_brain_plugin.adapter import metrics
    from exit_brain_plugin.adapter.mixin import _TIMED, ExitBrainMixin

    start = ExitBrainMixin.ft_bot_start

    def ft_bot_start(self: Any, **kwargs: Any) -> None:
        start(self, **kwargs)
        recorder = metrics.MetricsRecorder(metrics.brain_metrics(), executed=True)
        self.eb_metrics = recorder
        self.eb_sink.observers.append(recorder.observe)
        for name in _TIMED:
            setattr(self, name, recorder.timed(name, getattr(self, name)))

    ExitBrainMixin.ft_bot_start = ft_bot_start  # type: ignore[method-assign]


def _patch_no_deepcopy() -> None:
    from freqtrade.strategy import IStrategy

    from exit_brain_plugin.adapter.mixin import ExitBrainMixin, _next_definition

    start = ExitBrainMixin.ft_bot_start

    def ft_bot_start(self: Any, **kwargs: Any) -> None:
        start(self, **kwargs)
        if not (self.eb_is_backtest and self.eb_config.enabled):
            return
        for name in CALLBACKS:
            if _next_definition(type(self), name) is IStrategy:
                setattr(self, name, _uncopied(getattr(self, name), name))

    ExitBrainMixin.ft_bot_start = ft_bot_start  # type: ignore[method-assign]


def _patch_guard_cache() -> None:
    from exit_brain_plugin.adapter.mixin import ExitBrainMixin
    from exit_brain_plugin.adapter.store import position_key

    original = ExitBrainMixin._eb_guard_price
    cache: dict[tuple[Any, ...], float | None] = {}

    def cached(self: Any, trade: Any) -> float | None:
        key = (
            position_key(trade),
            trade.open_rate,
            trade.amount,
            trade.leverage,
            trade.funding_fees,
            self.eb_config.max_unrealized_loss_pct,
        )
        if key not in cache:
            cache[key] = original(self, trade)
        return cache[key]

    ExitBrainMixin._eb_guard_price = cached  # type: ignore[method-assign]


def _patch_persist_at_close() -> None:
    from exit_brain_plugin.adapter.store import StateStore

    save = StateStore.save

    def save_at_close(self: Any, trade: Any, state: Any, *, persist: bool = True) -> None:
        closing = state.exit_kind is not None or state.remaining_size <= 0
        save(self, trade, state, persist=persist and (closing or not self.use_cache))

    StateStore.save = save_at_close  # type: ignore[method-assign]


def _patch_cache_only_load() -> None:
    from exit_brain_plugin.adapter.store import StateStore, position_key

    load = StateStore.load

    def cache_only(self: Any, trade: Any) -> Any:
        if self.use_cache and position_key(trade) not in self._cache:
            return None
        return load(self, trade)

    StateStore.load = cache_only  # type: ignore[method-assign]


def _patch_eval_once() -> None:
    from exit_brain_plugin.adapter.mixin import ExitBrainMixin
    from exit_brain_plugin.adapter.store import position_key

    evaluate = ExitBrainMixin._eb_evaluate
    last: dict[str, tuple[tuple[Any, ...], Any]] = {}

    def key_of(self: Any, trade: Any, rate: float, profit: float, plan: Any) -> tuple[Any, ...]:
        return (rate, profit, plan, trade.amount, id(self.eb_store.peek(trade)))

    def once(self: Any, trade: Any, rate: float, profit: float, plan: Any = None) -> Any:
        position = position_key(trade)
        seen = last.get(position)
        if seen is not None and seen[0] == key_of(self, trade, rate, profit, plan):
            return seen[1]
        result = evaluate(self, trade, rate, profit, plan)
        # keyed after the call: the evaluation may have saved a new state object
        last[position] = (key_of(self, trade, rate, profit, plan), result)
        return result

    ExitBrainMixin._eb_evaluate = once  # type: ignore[method-assign]


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


def _print_metrics_overhead() -> int:
    for what, us in metrics_overhead().items():
        print(f"{what}: {us:.2f} µs per call")
    return 0


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
    from freqtrade.optimize.backtesting import Backtesting

    from exit_brain_plugin.tools.offline import install_offline_markets

    install_offline_markets()
    if spec.get("experiments"):
        _apply_experiments(spec["experiments"])
    argv = ["backtesting", "--config", spec["config"], "--userdir", str(REPO / "user_data")]
    argv += ["--strategy", spec["strategy"], "--export", "none", "--cache", "none"]
    argv += ["--datadir", spec["datadir"]]
    if spec.get("timerange"):
        argv += ["--timerange", spec["timerange"]]
    if spec.get("strategy_path"):
        argv += ["--strategy-path", spec["strategy_path"]]
    config = setup_optimize_configuration(Arguments(argv).get_parsed_arg(), RunMode.BACKTEST)
    backtesting = Backtesting(config)
    data, timerange = backtesting.load_bt_data()
    strategy = backtesting.strategylist[0]
    backtesting._set_strategy(strategy)
    backtesting.progress = None  # no progress bars: they update on every candle
    histograms = _instrument(strategy)
    processed = strategy.advise_all_indicators(data)
    trimmed = trim_dataframes(processed, timerange, backtesting.required_startup)
    start, end = history.get_timerange(trimmed)
    candles = sum(len(frame) for frame in trimmed.values())
    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    gc.collect()
    began = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    result = backtesting.backtest(processed=processed, start_date=start, end_date=end)
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - began
    trades = result["results"]
    out: dict[str, Any] = {
        "seconds": seconds,
        "trades": len(trades),
        "orders": int(sum(len(orders) for orders in trades["orders"])) if len(trades) else 0,
        "profit_abs": float(trades["profit_abs"].sum()) if len(trades) else 0.0,
        "candles": candles,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    out["callbacks"] = {name: histogram.stats() for name, histogram in histograms.items()}
    every = Histogram()
    for name in CALLBACKS:
        every.merge(histograms[name])
    out["all_callbacks"] = every.stats()
    if profiler is not None:
        profiler.dump_stats(spec["profile"])
    return out


# --------------------------------------------------------------------------- parent


def _spawn(spec: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - our own script, no shell
        [sys.executable, __file__, "--child", json.dumps(spec)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line.removeprefix(RESULT_PREFIX))
    raise RuntimeError(f"benchmark child failed ({done.returncode}): {spec}\n{done.stderr[-3000:]}")


def _machine() -> dict[str, Any]:
    import freqtrade

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "freqtrade": freqtrade.__version__,
        "platform": platform.platform(),
    }


def _variants(experiments: list[str]) -> dict[str, dict[str, Any]]:
    variants = {name: {**spec, "experiments": []} for name, spec in VARIANTS.items()}
    if experiments:  # the proposed adapter change, side by side with the brain as it is
        variants["brain-patched"] = {**VARIANTS["brain"], "experiments": experiments}
    return variants


def bench_dataset(
    name: str,
    base: dict[str, Any],
    env: dict[str, str],
    repeats: int,
    profile_dir: Path | None,
    experiments: list[str],
) -> dict[str, Any]:
    """Run the timed (and profiled) children of one dataset; return its figures."""
    variants = _variants(experiments)
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in variants}
    for _ in range(repeats):  # interleaved, so that load on the machine hits all alike
        for variant, extra in variants.items():
            runs[variant].append(_spawn({**base, **extra}, env))
            print(f"  {name} {variant}: {runs[variant][-1]['seconds']:.2f} s", flush=True)
    if profile_dir is not None:
        for variant, extra in variants.items():
            target = profile_dir / f"{name}-{variant}.prof"
            _spawn({**base, **extra, "profile": str(target)}, env)
            print(f"  profile written: {target}", flush=True)
    summary: dict[str, Any] = {"dataset": name, "experiments": experiments, "variants": {}}
    for variant in variants:
        seconds = [run["seconds"] for run in runs[variant]]
        typical = sorted(runs[variant], key=lambda run: run["seconds"])[len(seconds) // 2]
        trade_candles = typical["callbacks"]["adjust_trade_position"]["calls"]
        summary["variants"][variant] = {
            "seconds_median": statistics.median(seconds),
            "seconds_all": seconds,
            "maxrss_mb": max(run["maxrss_mb"] for run in runs[variant]),
            "trades": typical["trades"],
            "orders": typical["orders"],
            "profit_abs": typical["profit_abs"],
            "candles": typical["candles"],
            "trade_candles": trade_candles,
            "us_per_trade_candle": 1e6 * statistics.median(seconds) / max(trade_candles, 1),
            "callbacks": typical["callbacks"],
            "all_callbacks": typical["all_callbacks"],
        }
    floor = summary["variants"]["floor"]
    summary["ratios"] = {
        variant: {
            "time": figures["seconds_median"] / floor["seconds_median"],
            "per_trade_candle": figures["us_per_trade_candle"] / floor["us_per_trade_candle"],
        }
        for variant, figures in summary["variants"].items()
        if variant != "floor"
    }
    return summary


def _print_summary(summary: dict[str, Any]) -> None:
    variants = summary["variants"]
    names = list(variants)
    first = variants[names[0]]
    what_if = (
        f" (brain-patched: {', '.join(summary['experiments'])})" if summary["experiments"] else ""
    )
    print(f"\n== {summary['dataset']}: {first['candles']} candles{what_if}")
    print(f"{'':24}" + "".join(f"{name:>15}" for name in names))
    rows = [
        ("backtest() s (median)", "seconds_median", "{:.2f}"),
        ("trades", "trades", "{}"),
        ("profit (stake currency)", "profit_abs", "{:.6g}"),
        ("orders", "orders", "{}"),
        ("trade-candles", "trade_candles", "{}"),
        ("µs per trade-candle", "us_per_trade_candle", "{:.1f}"),
        ("peak RSS MB", "maxrss_mb", "{:.0f}"),
        ("median µs per callback", None, "{:.1f}"),
    ]
    for label, key, fmt in rows:
        cells = [
            fmt.format(variants[name][key] if key else variants[name]["all_callbacks"]["median_us"])
            for name in names
        ]
        print(f"{label:24}" + "".join(f"{cell:>15}" for cell in cells))
    for variant, ratio in summary["ratios"].items():
        print(
            f"time ratio {variant}/floor: {ratio['time']:.3f} (target <= 1.15); "
            f"per trade-candle: {ratio['per_trade_candle']:.3f}"
        )
    print("(the floor's µs per callback is the timing wrapper's own overhead)")
    for variant in names[1:]:
        callbacks = variants[variant]["callbacks"]
        print(
            f"{variant + ' callback':24}{'calls':>10}{'median µs':>11}{'p90 µs':>9}{'total s':>9}"
        )
        for name in CALLBACKS + EXTRA_TIMED:
            stats = callbacks[name]
            print(
                f"{name:24}{stats['calls']:>10}{stats['median_us']:>11.1f}"
                f"{stats['p90_us']:>9.1f}{stats['total_s']:>9.2f}"
            )
    floor_exit = variants["floor"]["callbacks"]["should_exit"]["median_us"]
    print(f"(should_exit includes freqtrade's own exit checks: floor median {floor_exit:.1f} µs)")


def _print_profiles(profile_dir: Path) -> None:
    import pstats

    for path in sorted(profile_dir.glob("*.prof")):
        print(f"\n== cProfile {path.stem} (top 20 by own time)")
        pstats.Stats(str(path)).sort_stats("tottime").print_stats(20)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the figures (and write --json-out)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic-pairs", type=int, default=20)
    parser.add_argument("--synthetic-months", type=int, default=6)
    parser.add_argument("--max-open-trades", type=int, default=10, help="synthetic dataset")
    parser.add_argument("--repeats", type=int, default=3, help="runs per variant, shipped data")
    parser.add_argument(
        "--synthetic-repeats", type=int, default=1, help="runs per variant, synthetic data"
    )
    parser.add_argument(
        "--quick", action="store_true", help="4 synthetic pairs × 1 month, one run each"
    )
    parser.add_argument("--no-shipped", action="store_true", help="skip the shipped data")
    parser.add_argument("--no-synthetic", action="store_true", help="skip the synthetic data")
    parser.add_argument("--profile", action="store_true", help="cProfile each variant too")
    parser.add_argument("--json-out", type=Path, help="write all figures as JSON here")
    parser.add_argument(
        "--experiment",
        action="append",
        default=[],
        choices=[
            "no-deepcopy",
            "guard-cache",
            "eval-once",
            "persist-at-close",
            "cache-only-load",
            "metrics",
        ],
        help="what-if: add a 'brain-patched' variant with a proposed adapter change "
        "(repeatable; see _apply_experiments)",
    )
    parser.add_argument(
        "--metrics-overhead",
        action="store_true",
        help="only print what Prometheus metrics add to each callback call (µs), then exit",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.metrics_overhead:
        return _print_metrics_overhead()
    if args.child:
        print(RESULT_PREFIX + json.dumps(run_child(json.loads(args.child))), flush=True)
        return 0
    if args.quick:
        args.synthetic_pairs, args.synthetic_months = 4, 1
        args.repeats = args.synthetic_repeats = 1
    machine = _machine()
    print(f"machine: {machine}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}", flush=True)
    results: list[dict[str, Any]] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exit-brain-bench-") as tmp:
        root = Path(tmp)
        profile_dir = root / "profiles" if args.profile else None
        if profile_dir is not None:
            profile_dir.mkdir()
        env = {key: value for key, value in os.environ.items() if key != "EXIT_BRAIN_MARKETS"}
        if not args.no_shipped:
            for name, (config_file, timerange) in SHIPPED.items():
                base = {
                    "config": str(REPO / config_file),
                    "timerange": timerange,
                    "datadir": str(REPO / "user_data" / "data" / "binance"),
                }
                results.append(
                    bench_dataset(name, base, env, args.repeats, profile_dir, args.experiment)
                )
                _print_summary(results[-1])
        if not args.no_synthetic and args.synthetic_pairs > 0:
            generated = time.perf_counter()
            config_file, datadir, snapshot = write_synthetic(
                root, args.synthetic_pairs, args.synthetic_months, args.max_open_trades
            )
            print(
                f"synthetic data: {args.synthetic_pairs} pairs × {args.synthetic_months} months "
                f"in {time.perf_counter() - generated:.1f} s",
                flush=True,
            )
            name = f"synthetic-{args.synthetic_pairs}x{args.synthetic_months}m"
            base = {"config": str(config_file), "timerange": None, "datadir": str(datadir)}
            synthetic_env = {**env, "EXIT_BRAIN_MARKETS": str(snapshot)}
            results.append(
                bench_dataset(
                    name, base, synthetic_env, args.synthetic_repeats, profile_dir, args.experiment
                )
            )
            _print_summary(results[-1])
        if profile_dir is not None:
            _print_profiles(profile_dir)
    print(f"\nbenchmark wall time: {time.perf_counter() - began:.0f} s")
    if args.json_out:
        args.json_out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
