"""The one markets/precision lookup (core/markets.py rules 1-6)."""

import math

import pytest

from exit_brain_plugin.core.markets import (
    DECIMAL_PLACES,
    SIGNIFICANT_DIGITS,
    TICK_SIZE,
    amount_step,
    market_steps,
    min_order_amount,
    price_step,
    snapshot_problem,
    step_size,
)


@pytest.mark.parametrize(
    ("precision", "mode", "expected"),
    [
        (0.001, TICK_SIZE, 0.001),
        (0.001, None, 0.001),
        (3, DECIMAL_PLACES, 0.001),
        (5, SIGNIFICANT_DIGITS, None),
        (None, TICK_SIZE, None),
        (True, TICK_SIZE, None),
        ("0.1", TICK_SIZE, None),
        (0.0, TICK_SIZE, None),
        (-1.0, TICK_SIZE, None),
        (math.nan, TICK_SIZE, None),
        (math.inf, DECIMAL_PLACES, None),
    ],
    ids=[
        "tick",
        "unknown-mode-is-tick",
        "decimal-places",
        "significant-digits-no-step",
        "missing",
        "bool",
        "string",
        "zero",
        "negative",
        "nan",
        "inf",
    ],
)
def test_step_size_reads_the_precision_per_mode(precision, mode, expected):
    result = step_size(precision, mode)
    assert result == (None if expected is None else pytest.approx(expected))


def test_price_step_follows_the_price_mode_when_the_exchange_has_one():
    assert price_step(2, TICK_SIZE, DECIMAL_PLACES) == pytest.approx(0.01)
    assert price_step(0.5, TICK_SIZE, None) == 0.5


def test_amount_step_is_in_base_units_for_contracts():
    assert amount_step(1.0, TICK_SIZE, 10.0) == 10.0
    assert amount_step(0.1, TICK_SIZE, None) == 0.1


def test_market_steps_reads_each_market_and_skips_what_is_no_market():
    markets = {
        "ETH/BTC": {"precision": {"price": 1e-6, "amount": 0.001}, "contractSize": None},
        "XRP/USDT:USDT": {"precision": {"price": 1e-4, "amount": 0.1}, "contractSize": 1.0},
        "broken": "not a market",
    }
    assert market_steps(markets) == {"ETH/BTC": (1e-6, 0.001), "XRP/USDT:USDT": (1e-4, 0.1)}
    assert market_steps(["not", "a", "mapping"]) == {}


def test_min_order_amount_meets_both_minimums():
    market = {"limits": {"amount": {"min": 0.001}, "cost": {"min": 10.0}}, "contractSize": None}
    assert min_order_amount(market, 2000.0) == pytest.approx(0.005)
    assert min_order_amount(market, 20000.0) == pytest.approx(0.001)
    assert min_order_amount(None, 2000.0) == 0.0
    assert min_order_amount({"limits": {"amount": {"min": None}}}, 0.0) == 0.0


def test_min_order_amount_counts_contracts_in_base_units():
    market = {"limits": {"amount": {"min": 1.0}, "cost": {"min": None}}, "contractSize": 10.0}
    assert min_order_amount(market, 5.0) == 10.0


@pytest.mark.parametrize(
    ("markets", "problem"),
    [
        ({}, "is not a non-empty JSON object"),
        ([], "is not a non-empty JSON object"),
        ({"A/B": {"symbol": "C/D"}}, "has an invalid entry 'A/B'"),
        ({"A/B": {"symbol": "A/B", "id": "AB"}}, "has entry 'A/B' without base, quote"),
    ],
    ids=["empty", "list", "symbol-mismatch", "missing-keys"],
)
def test_snapshot_problem_names_what_is_wrong(markets, problem):
    assert problem in (snapshot_problem(markets) or "")


def test_a_complete_snapshot_has_no_problem():
    market = {"symbol": "A/B", "id": "AB", "base": "A", "quote": "B", "precision": {}, "limits": {}}
    assert snapshot_problem({"A/B": market}) is None
