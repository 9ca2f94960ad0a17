"""The benchmark's synthetic candles are deterministic and valid (no timing here)."""

import importlib.util

import pytest

from tests.reports.conftest import REPO


def _bench():
    path = REPO / "benchmarks" / "bench_backtest.py"
    spec = importlib.util.spec_from_file_location("bench_backtest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_synthetic_candles_are_seeded_five_minute_ohlc():
    pytest.importorskip("pandas")
    bench = _bench()
    first, again = bench.synthetic_candles(3, 1), bench.synthetic_candles(3, 1)
    assert first.equals(again)
    assert not first.equals(bench.synthetic_candles(4, 1))
    assert len(first) == 31 * 288  # January 2024, 5m
    assert (first["date"].diff().dropna() == first["date"].iloc[1] - first["date"].iloc[0]).all()
    assert (first["high"] >= first[["open", "close"]].max(axis=1)).all()
    assert (first["low"] <= first[["open", "close"]].min(axis=1)).all()
    assert (first["low"] > 0).all()
    assert (first["open"].iloc[1:].to_numpy() == first["close"].iloc[:-1].to_numpy()).all()


def test_the_callback_histogram_gives_median_and_p90():
    bench = _bench()
    histogram = bench.Histogram()
    for nanoseconds in [1_000] * 50 + [3_000] * 40 + [50_000] * 9 + [5_000_000]:
        histogram.add(nanoseconds)
    stats = histogram.stats()
    assert stats["calls"] == 100
    assert stats["median_us"] == pytest.approx(1.05)  # bucket midpoint, 0.1 µs buckets
    assert stats["p90_us"] == pytest.approx(3.05)  # the 90th of 100 sorted calls
    assert histogram.quantile_us(0.99) == pytest.approx(50.05)
    assert histogram.quantile_us(1.0) == 5_000.0  # beyond the buckets: kept one by one
    assert stats["total_s"] == pytest.approx((50_000 + 120_000 + 450_000 + 5_000_000) / 1e9)


def test_the_core_benchmark_times_the_decisions_it_names():
    # bench_core.py's cases still run on today's core and decide what their names say, so its
    # figures are about those decisions (the time itself is never asserted).
    path = REPO / "benchmarks" / "bench_core.py"
    spec = importlib.util.spec_from_file_location("bench_core", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    results = {name: call() for name, call in bench.cases().items()}
    kinds = {
        name: getattr(getattr(result, "decision", None), "kind", None)
        for name, result in results.items()
    }
    assert kinds["evaluate_position (typical: no level, guard far)"] is None  # a Hold
    assert str(kinds["evaluate_position (TP1 reached)"]) == "take_profit"
    assert str(kinds["evaluate_position (loss guard fires)"]) == "loss_guard"
    assert results["evaluate_stop (ratcheted stop + strategy floor)"].price == 0.05
    assert all(len(figures) == 1 for figures in bench.measure(20, 1).values())
