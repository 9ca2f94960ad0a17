#!/usr/bin/env python
"""Where a profiled backtest spends its time, per open-trade-candle, by named hot spot.

Usage (profiles from ``bench_backtest.py --profile-dir DIR``)::

    python benchmarks/profile_hotspots.py DIR/shipped-spot-brain.prof --candles 6456
    python benchmarks/profile_hotspots.py DIR/*-brain.prof --json-out figures.json

Rules of the figures:
1. A hot spot is one or more functions, named by (file suffix, function name); its time is
   the cumulative time (``cumtime``: the function and everything it calls) of those
   functions, summed, so nested hot spots overlap and do not add up to the total.
2. Per open-trade-candle = that time / the run's open-trade-candles: ``--candles``, else the
   count bench_backtest.py writes next to the profile (``NAME.json``), else the calls of
   ``adjust_trade_position`` (one per open-trade-candle for the brain and the floor).
3. cProfile slows pure-Python code by roughly 1.5-2.5×, more for many small calls: the
   figures rank the hot spots and size them against each other; the unprofiled µs per
   open-trade-candle of bench_backtest.py is the one to quote for the whole.
"""

from __future__ import annotations

import argparse
import json
import pstats
import sys
from pathlib import Path
from typing import Any


# (label, ((file suffix, function name), ...)); a suffix "" matches any file
HOT_SPOTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("backtest() total", (("optimize/backtesting.py", "backtest"),)),
    ("freqtrade: per-candle loop (backtest_loop)", (("optimize/backtesting.py", "backtest_loop"),)),
    ("freqtrade: open orders (manage_open_orders)", (("backtesting.py", "manage_open_orders"),)),
    (
        "freqtrade: exit order fill check (_process_exit_order)",
        (("backtesting.py", "_process_exit_order"),),
    ),
    ("freqtrade: exit check (_check_trade_exit)", (("backtesting.py", "_check_trade_exit"),)),
    (
        "freqtrade: position adjustment (_check_adjust_trade_for_candle)",
        (("backtesting.py", "_check_adjust_trade_for_candle"),),
    ),
    (
        "freqtrade: exit signals (IStrategy.should_exit)",
        (("strategy/interface.py", "should_exit"),),
    ),
    (
        "freqtrade: stop update (IStrategy.ft_stoploss_adjust)",
        (("strategy/interface.py", "ft_stoploss_adjust"),),
    ),
    (
        "freqtrade: callback dispatch (strategy_safe_wrapper: new wrapper per call)",
        (("strategy_wrapper.py", "strategy_safe_wrapper"),),
    ),
    ("freqtrade: deep copy of the trade (copy.deepcopy)", (("copy.py", "deepcopy"),)),
    ("freqtrade: profit at a rate (calc_profit_ratio)", (("trade_model.py", "calc_profit_ratio"),)),
    ("freqtrade: exit order handling (_exit_trade)", (("backtesting.py", "_exit_trade"),)),
    ("freqtrade: funding fees (_run_funding_fees)", (("backtesting.py", "_run_funding_fees"),)),
    ("freqtrade: order fill (_get_order_filled)", (("backtesting.py", "_get_order_filled"),)),
    (
        "freqtrade: custom data (get/set_custom_data)",
        (("trade_model.py", "get_custom_data"), ("trade_model.py", "set_custom_data")),
    ),
    ("adapter: bot_loop_start", (("adapter/mixin.py", "bot_loop_start"),)),
    ("adapter: adjust_trade_position", (("adapter/mixin.py", "adjust_trade_position"),)),
    ("adapter: custom_exit", (("adapter/mixin.py", "custom_exit"),)),
    ("adapter: custom_stoploss", (("adapter/mixin.py", "custom_stoploss"),)),
    (
        "adapter: should_exit (override, includes freqtrade's)",
        (("adapter/mixin.py", "should_exit"),),
    ),
    ("adapter: order_filled", (("adapter/mixin.py", "order_filled"),)),
    ("adapter: custom_exit_price", (("adapter/mixin.py", "custom_exit_price"),)),
    ("adapter: evaluation (runtime.evaluate)", (("adapter/runtime.py", "evaluate"),)),
    ("adapter: snapshot (runtime.snapshot)", (("adapter/runtime.py", "snapshot"),)),
    (
        "adapter: min remainder (min_remaining_amount)",
        (("adapter/freqtrade_internals.py", "min_remaining_amount"),),
    ),
    ("adapter: guard price (runtime.guard_price)", (("adapter/runtime.py", "guard_price"),)),
    ("adapter: settings in force (eb_settings)", (("adapter/mixin.py", "eb_settings"),)),
    ("adapter: state lookup (runtime.state)", (("adapter/runtime.py", "state"),)),
    ("adapter: position_key", (("adapter/store.py", "position_key"),)),
    (
        "adapter: resting order (resting_exit)",
        (("adapter/freqtrade_internals.py", "resting_exit"),),
    ),
    (
        "adapter: stop-first check (stop_first)",
        (("adapter/freqtrade_internals.py", "stop_first"),),
    ),
    ("adapter: mode lookup (runtime.mode)", (("adapter/runtime.py", "mode"),)),
    ("adapter: translate.amount_step", (("adapter/translate.py", "amount_step"),)),
    ("adapter: stop answer (adapter/stops.py)", (("adapter/stops.py", "answer"),)),
    ("core: evaluate_position", (("core/brain.py", "evaluate_position"),)),
    ("core: price_resting_exit", (("core/brain.py", "price_resting_exit"),)),
    (
        "core: evaluate_stop",
        (("core/stops.py", "evaluate_stop"), ("core/brain.py", "evaluate_stop")),
    ),
    ("core: MarketSnapshot checks (check_finite)", (("core/snapshot.py", "check_finite"),)),
)


def hot_spots(path: Path, candles: int | None) -> dict[str, Any]:
    """Return each hot spot's cumulative seconds and µs per open-trade-candle in ``path``."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    calls_of_adjust = 0
    by_name: dict[str, list[tuple[str, int, float, float]]] = {}
    for (filename, _line, name), (_cc, calls, tottime, cumtime, _callers) in stats.items():
        by_name.setdefault(name, []).append((filename, calls, tottime, cumtime))
        if name == "adjust_trade_position" and filename.endswith("adapter/mixin.py"):
            calls_of_adjust = calls
    sidecar = path.with_suffix(".json")  # written by bench_backtest.py next to the profile
    written = json.loads(sidecar.read_text())["open_trade_candles"] if sidecar.exists() else 0
    per = candles or written or calls_of_adjust or 1
    rows = {}
    for label, functions in HOT_SPOTS:
        seconds, calls = 0.0, 0
        for suffix, name in functions:
            for filename, count, _tottime, cumtime in by_name.get(name, []):
                if filename.endswith(suffix):
                    seconds += cumtime
                    calls += count
        if calls:
            rows[label] = {"seconds": seconds, "calls": calls, "us_per_candle": 1e6 * seconds / per}
    return {"profile": str(path), "open_trade_candles": per, "hot_spots": rows}


def main(argv: list[str] | None = None) -> int:
    """Print the hot spots of every profile given."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--candles", type=int, help="open-trade-candles of the run")
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    results = [hot_spots(path, args.candles) for path in args.profiles]
    for result in results:
        print(f"\n== {result['profile']} ({result['open_trade_candles']} open-trade-candles)")
        print(f"{'hot spot':78}{'calls':>9}{'s (cum)':>9}{'µs/otc':>9}")
        for label, row in result["hot_spots"].items():
            print(f"{label:78}{row['calls']:>9}{row['seconds']:>9.3f}{row['us_per_candle']:>9.1f}")
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
