#!/usr/bin/env python
"""What the Exit Brain costs a freqtrade backtest, per open-trade-candle.

Usage (from the repository root, in the project's venv)::

    python benchmarks/bench_backtest.py                 # shipped data + 20 pairs × 6 months
    python benchmarks/bench_backtest.py --quick         # shipped data + 4 pairs × 1 month
    python benchmarks/bench_backtest.py --quick --profile   # + cProfile of every variant
    python benchmarks/bench_backtest.py --no-synthetic --hyperopt-epochs 40   # + hyperopt -j 2
    python benchmarks/bench_backtest.py --metrics-overhead  # what live metrics add per call

Three variants of the same entries, each run in a fresh subprocess (benchmarks/
bench_child.py), interleaved run by run so that load from other processes hits all alike:

- ``plain``: ``ExitBrainSampleSignals``, the sample strategy with no callbacks at all (ROI,
  fixed stop, exit signals, position adjustment off): what a trader runs without the brain;
- ``floor``: ``BenchFloorStrategy`` (benchmarks/strategies): the same signals with the five
  callbacks the mixin implements returning neutral values, and the brain's freqtrade
  settings; freqtrade deep-copies the trade for every call of an implemented callback, so
  this is where any callback-based exit manager starts (FREQTRADE_NOTES §9);
- ``brain``: ``ExitBrainSampleStrategy`` (the same signals with ``ExitBrainMixin``) and the
  config's ``exit_brain`` section.

Rules of the figures:
1. Only ``Backtesting.backtest()`` is timed (no start-up, data loading or indicators), in
   CPU time of the child process (the ratios) and in wall time (printed too); the figure per
   variant is the median over ``--repeats`` runs (``--synthetic-repeats`` on the synthetic
   data). CPU time is the one to compare on a shared machine: other processes' load moves it
   far less than wall time (not to nothing: caches and clock speed are shared).
2. The variants hold different trades (the brain closes earlier, in parts), so they are
   compared **per open-trade-candle**: one open trade on one candle, counted from the result's
   trades the same way for every variant. ``brain/plain`` and ``brain/floor`` are ratios of
   µs per open-trade-candle.
3. **µs per callback call** is ``perf_counter_ns`` around each callback call inside the
   process (freqtrade's deep copy of the trade happens before the call and is not in it;
   the floor's figure is the timing wrapper's own cost, ~0.3 µs). Plain has no callbacks.
4. **peak memory** is ``ru_maxrss`` of the child at its end, the largest of the runs.
5. ``--hyperopt-epochs N`` adds ``freqtrade hyperopt -j JOBS`` on the shipped spot data,
   plain and brain (spaces ``roi stoploss`` for both), each with 2 × JOBS and with N epochs:
   the wall time per epoch is the difference over the extra epochs (start-up excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules below

from bench_child import (
    CALLBACKS,
    EXTRA_TIMED,
    Histogram,
    run_child,
    run_hyperopt_child,
)
from bench_metrics import print_metrics_overhead
from bench_synthetic import synthetic_candles, synthetic_pair, write_synthetic


__all__ = ["Histogram", "main", "synthetic_candles", "synthetic_pair", "write_synthetic"]

REPO = Path(__file__).resolve().parents[1]
BENCH_STRATEGIES = REPO / "benchmarks" / "strategies"
VARIANTS: dict[str, dict[str, Any]] = {
    "plain": {
        "strategy": "ExitBrainSampleSignals",
        "strategy_path": None,
        "instrument": False,
        # config.json turns position adjustment on for the brain; a plain strategy has it off
        "overrides": {"position_adjustment_enable": False},
    },
    "floor": {"strategy": "BenchFloorStrategy", "strategy_path": str(BENCH_STRATEGIES)},
    "brain": {"strategy": "ExitBrainSampleStrategy", "strategy_path": None},
}
SHIPPED = {
    "shipped-spot": ("config.json", "20180110-20180130"),
    "shipped-futures": ("config-futures.json", "20211115-20211122"),
}
SHIPPED_DATADIR = REPO / "user_data" / "data" / "binance"
RESULT_PREFIX = "BENCH_RESULT "


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
        "load_average": os.getloadavg(),
    }


def bench_dataset(
    name: str, base: dict[str, Any], env: dict[str, str], repeats: int, profile_dir: Path | None
) -> dict[str, Any]:
    """Run the timed (and profiled) children of one dataset; return its figures."""
    runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
    for _ in range(repeats):  # interleaved, so that load on the machine hits all alike
        for variant, extra in VARIANTS.items():
            runs[variant].append(_spawn({**base, **extra}, env))
            last = runs[variant][-1]
            print(
                f"  {name} {variant}: {last['seconds']:.2f} s wall, "
                f"{last['cpu_seconds']:.2f} s CPU",
                flush=True,
            )
    if profile_dir is not None:
        for variant, extra in VARIANTS.items():
            target = profile_dir / f"{name}-{variant}.prof"
            _spawn({**base, **extra, "profile": str(target)}, env)
            print(f"  profile written: {target}", flush=True)
    summary: dict[str, Any] = {"dataset": name, "variants": {}}
    for variant in VARIANTS:
        seconds = [run["seconds"] for run in runs[variant]]
        cpu = [run["cpu_seconds"] for run in runs[variant]]
        typical = sorted(runs[variant], key=lambda run: run["cpu_seconds"])[len(cpu) // 2]
        candles = typical["open_trade_candles"]
        summary["variants"][variant] = {
            "seconds_median": statistics.median(seconds),
            "seconds_all": seconds,
            "cpu_seconds_median": statistics.median(cpu),
            "cpu_seconds_all": cpu,
            "maxrss_mb": max(run["maxrss_mb"] for run in runs[variant]),
            "trades": typical["trades"],
            "orders": typical["orders"],
            "profit_abs": typical["profit_abs"],
            "candles": typical["candles"],
            "open_trade_candles": candles,
            "us_per_open_trade_candle": 1e6 * statistics.median(cpu) / max(candles, 1),
            "wall_us_per_open_trade_candle": 1e6 * statistics.median(seconds) / max(candles, 1),
            "callbacks": typical["callbacks"],
            "all_callbacks": typical["all_callbacks"],
        }
    figures = summary["variants"]
    per = {name: v["us_per_open_trade_candle"] for name, v in figures.items()}
    wall = {name: v["wall_us_per_open_trade_candle"] for name, v in figures.items()}
    total = {name: v["cpu_seconds_median"] for name, v in figures.items()}
    summary["ratios"] = {
        f"{a}/{b}": {
            "per_open_trade_candle": per[a] / per[b],
            "wall_per_open_trade_candle": wall[a] / wall[b],
            "time": total[a] / total[b],
        }
        for a, b in (("brain", "plain"), ("brain", "floor"), ("floor", "plain"))
    }
    return summary


def bench_hyperopt(epochs: int, jobs: int, env: dict[str, str], root: Path) -> dict[str, Any]:
    """Run hyperopt for plain and brain on the shipped spot data; return seconds per epoch.

    Each variant runs twice, with ``2 × jobs`` epochs and with ``epochs``, interleaved; the
    time per epoch is the difference of the two wall times over the difference of the epochs,
    so that start-up (data, indicators, the workers) is not spread over the epochs.
    """
    config_file, timerange = SHIPPED["shipped-spot"]
    short = 2 * jobs
    if epochs <= short:
        raise SystemExit(f"--hyperopt-epochs must be above {short} (2 × --hyperopt-jobs)")
    out: dict[str, Any] = {"epochs": epochs, "jobs": jobs, "variants": {}}
    runs: dict[str, dict[int, dict[str, Any]]] = {"plain": {}, "brain": {}}
    for count in (short, epochs):
        for variant in runs:
            userdir = root / f"hyperopt-{variant}-{count}"
            (userdir / "hyperopt_results").mkdir(parents=True, exist_ok=True)
            spec = {
                **VARIANTS[variant],
                "config": str(REPO / config_file),
                "timerange": timerange,
                "datadir": str(SHIPPED_DATADIR),
                "userdir": str(userdir),
                "epochs": count,
                "jobs": jobs,
                "hyperopt": True,
            }
            runs[variant][count] = _spawn(spec, env)
            print(
                f"  hyperopt {variant}, {count} epochs: {runs[variant][count]['seconds']:.1f} s",
                flush=True,
            )
    for variant, by_count in runs.items():
        extra = by_count[epochs]["seconds"] - by_count[short]["seconds"]
        out["variants"][variant] = {
            "runs": by_count,
            "seconds_per_epoch": extra / (epochs - short),
        }
    plain, brain = out["variants"]["plain"], out["variants"]["brain"]
    out["ratio_brain_plain"] = brain["seconds_per_epoch"] / plain["seconds_per_epoch"]
    return out


def _print_summary(summary: dict[str, Any]) -> None:
    variants = summary["variants"]
    names = list(variants)
    print(f"\n== {summary['dataset']}: {variants[names[0]]['candles']} candles")
    print(f"{'':26}" + "".join(f"{name:>13}" for name in names))
    rows = [
        ("backtest() CPU s (median)", "cpu_seconds_median", "{:.2f}"),
        ("backtest() wall s (median)", "seconds_median", "{:.2f}"),
        ("trades", "trades", "{}"),
        ("profit (stake currency)", "profit_abs", "{:.6g}"),
        ("orders", "orders", "{}"),
        ("open-trade-candles", "open_trade_candles", "{}"),
        ("CPU µs / open-trade-candle", "us_per_open_trade_candle", "{:.1f}"),
        ("wall µs / open-trade-candle", "wall_us_per_open_trade_candle", "{:.1f}"),
        ("peak RSS MB", "maxrss_mb", "{:.0f}"),
    ]
    for label, key, fmt in rows:
        print(f"{label:26}" + "".join(f"{fmt.format(variants[n][key]):>13}" for n in names))
    medians = [variants[n]["all_callbacks"]["median_us"] for n in names]
    print(f"{'median µs per callback':26}" + "".join(f"{m:>13.1f}" for m in medians))
    for pair, ratio in summary["ratios"].items():
        print(
            f"{pair}: {ratio['per_open_trade_candle']:.3f} per open-trade-candle (CPU; wall "
            f"{ratio['wall_per_open_trade_candle']:.3f}; whole backtest() CPU {ratio['time']:.3f})"
        )
    print("(target brain/plain <= 1.2 per open-trade-candle; the floor's µs per callback is the")
    print(" timing wrapper's own overhead; plain has no callbacks)")
    callbacks = variants["brain"]["callbacks"]
    print(f"{'brain callback':26}{'calls':>10}{'median µs':>11}{'p90 µs':>9}{'total s':>9}")
    for name in CALLBACKS + EXTRA_TIMED:
        stats = callbacks[name]
        print(
            f"{name:26}{stats['calls']:>10}{stats['median_us']:>11.1f}"
            f"{stats['p90_us']:>9.1f}{stats['total_s']:>9.2f}"
        )
    floor_exit = variants["floor"]["callbacks"]["should_exit"]["median_us"]
    print(f"(should_exit includes freqtrade's own exit checks: floor median {floor_exit:.1f} µs)")


def _print_profiles(profile_dir: Path) -> None:
    import pstats

    for path in sorted(profile_dir.glob("*.prof")):
        print(f"\n== cProfile {path.stem} (top 25 by own time)")
        pstats.Stats(str(path)).sort_stats("tottime").print_stats(25)


def _parser() -> argparse.ArgumentParser:
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
    parser.add_argument(
        "--profile-dir", type=Path, help="keep the .prof files here (implies --profile)"
    )
    parser.add_argument(
        "--hyperopt-epochs",
        type=int,
        default=0,
        help="also time hyperopt (plain and brain, shipped spot data) with this many epochs",
    )
    parser.add_argument("--hyperopt-jobs", type=int, default=2, help="hyperopt -j")
    parser.add_argument("--json-out", type=Path, help="write all figures as JSON here")
    parser.add_argument(
        "--metrics-overhead",
        action="store_true",
        help="only print what Prometheus metrics add to each callback call (µs), then exit",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser


def _run(
    args: argparse.Namespace, root: Path
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    results: list[dict[str, Any]] = []
    hyperopt: dict[str, Any] | None = None
    profile_dir = args.profile_dir or (root / "profiles" if args.profile else None)
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "EXIT_BRAIN_MARKETS"}
    if not args.no_shipped:
        for name, (config_file, timerange) in SHIPPED.items():
            base = {
                "config": str(REPO / config_file),
                "timerange": timerange,
                "datadir": str(SHIPPED_DATADIR),
            }
            results.append(bench_dataset(name, base, env, args.repeats, profile_dir))
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
            bench_dataset(name, base, synthetic_env, args.synthetic_repeats, profile_dir)
        )
        _print_summary(results[-1])
    if args.hyperopt_epochs > 0:
        hyperopt = bench_hyperopt(args.hyperopt_epochs, args.hyperopt_jobs, env, root)
        print(
            f"\n== hyperopt -j {args.hyperopt_jobs}, {args.hyperopt_epochs} epochs, shipped "
            f"spot: s per epoch plain {hyperopt['variants']['plain']['seconds_per_epoch']:.2f}"
            f", brain {hyperopt['variants']['brain']['seconds_per_epoch']:.2f}; brain/plain "
            f"{hyperopt['ratio_brain_plain']:.3f} (target <= 1.2)"
        )
    if profile_dir is not None:
        _print_profiles(profile_dir)
    return results, hyperopt


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the figures (and write --json-out)."""
    args = _parser().parse_args(argv)
    if args.metrics_overhead:
        return print_metrics_overhead()
    if args.child:
        spec = json.loads(args.child)
        result = run_hyperopt_child(spec) if spec.get("hyperopt") else run_child(spec)
        print(RESULT_PREFIX + json.dumps(result), flush=True)
        return 0
    if args.quick:
        args.synthetic_pairs, args.synthetic_months = 4, 1
        args.repeats = args.synthetic_repeats = 1
    machine = _machine()
    print(f"machine: {machine}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}", flush=True)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="exit-brain-bench-") as tmp:
        results, hyperopt = _run(args, Path(tmp))
    print(f"\nbenchmark wall time: {time.perf_counter() - began:.0f} s")
    if args.json_out:
        figures = {"machine": machine, "results": results, "hyperopt": hyperopt}
        args.json_out.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
