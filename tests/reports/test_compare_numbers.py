"""The comparison rows over the hand-built backtest, one freqtrade run per variant.

Hand-computed (tests/reports/scenario.py): with the loss guard, C closes at 0.0875
(-0.00625); without it the initial stop closes it at 0.080001 (-0.0099995). With the brain
off the host holds A from row 1 until its stop on row 15, then E's exit signal closes the
trade opened on row 17.
"""

import pytest

from exit_brain_plugin.adapter.tools.compare import (
    VariantRun,
    compare_runs,
    max_drawdown,
    out_of_reach_distances,
)
from exit_brain_plugin.core import parse_config


# freqtrade rounds profit_abs to 8 decimals: compared within 1e-8.
A, B, D, E = 0.000125, 0.000593, 0.000827, -0.00005
C_GUARD, C_STOP = -0.00625, -0.0099995


def _rows(hand_built):
    runs = [
        VariantRun(
            variant=variant,
            trades=hand_built["runs"][variant.key]["trades"],
            starting_balance=hand_built["runs"][variant.key]["starting_balance"],
            guard_enabled=variant.key not in ("off", "guard_off"),
        )
        for variant in hand_built["variants"]
    ]
    return {row.key: row for row in compare_runs(runs)}


def test_brain_on_and_loss_guard_off_differ_by_the_guard_save(hand_built):
    rows = _rows(hand_built)
    on, guard_off = rows["on"], rows["guard_off"]
    assert (on.trades, guard_off.trades) == (5, 5)
    assert on.total_profit_abs == pytest.approx(A + B + C_GUARD + D + E, abs=1e-8)
    assert guard_off.total_profit_abs == pytest.approx(A + B + C_STOP + D + E, abs=1e-8)
    assert on.total_profit_pct == pytest.approx(100 * on.total_profit_abs / 0.2)
    assert on.win_rate == guard_off.win_rate == 0.6
    assert (on.loss_guard_fires, on.saves, on.unmatched_fires) == (1, 1, 0)
    assert on.loss_avoided == pytest.approx(C_GUARD - C_STOP, abs=1e-8)  # 0.00375
    assert (guard_off.saves, guard_off.loss_avoided) == (None, None)


def test_max_drawdown_is_the_fall_from_the_running_high(hand_built):
    rows = _rows(hand_built)
    # High after B (A + B), then C: the fall is C itself.
    assert rows["on"].max_drawdown_abs == pytest.approx(-C_GUARD, abs=1e-8)
    assert rows["on"].max_drawdown_pct == pytest.approx(-C_GUARD / (0.2 + A + B))
    assert rows["guard_off"].max_drawdown_abs == pytest.approx(-C_STOP, abs=1e-8)
    for key, row in rows.items():  # the same numbers as freqtrade's own report
        stats = hand_built["runs"][key]
        assert row.max_drawdown_abs == pytest.approx(stats["max_drawdown_abs"], abs=1e-8)
        assert row.max_drawdown_pct == pytest.approx(stats["max_drawdown_account"], abs=1e-9)


def test_brain_off_is_the_host_alone(hand_built):
    off = _rows(hand_built)["off"]
    assert off.trades == 2
    assert off.total_profit_abs == pytest.approx(C_STOP + E, abs=1e-8)
    assert off.win_rate == 0.0
    assert (off.loss_guard_fires, off.saves, off.loss_avoided) == (0, None, None)


def test_ratchet_off_and_ladder_off_fire_the_guard_on_the_first_trade(hand_built):
    rows = _rows(hand_built)
    ratchet_off, ladder_off = rows["ratchet_off"], rows["ladder_off"]
    # Ratchet off: A keeps its 0.08 stop, takes TP1 and TP2, then the guard closes 0.282.
    first = 0.125 * 0.001 + 0.093 * 0.002 + 0.282 * (0.0875 - 0.1)
    second = 0.218 * 0.0025 + 0.282 * (0.0999 - 0.1)  # D's gap, then E's exit signal
    assert ratchet_off.trades == 2
    assert ratchet_off.total_profit_abs == pytest.approx(first + second, abs=1e-8)
    # Ladder off: no level fills, the guard closes A whole.
    assert ladder_off.trades == 2
    assert ladder_off.total_profit_abs == pytest.approx(C_GUARD + E, abs=1e-8)
    # Both fires match A of the guard-off run (+0.000125): the guard cost them money there.
    assert (ratchet_off.loss_guard_fires, ratchet_off.saves) == (1, 0)
    assert ratchet_off.loss_avoided == pytest.approx(first - A, abs=1e-8)
    assert (ladder_off.loss_guard_fires, ladder_off.saves) == (1, 0)
    assert ladder_off.loss_avoided == pytest.approx(C_GUARD - A, abs=1e-8)


def test_ladder_off_distances_are_valid_settings_and_out_of_reach():
    for levels in (1, 2, 3, 4, 20):
        distances = out_of_reach_distances(levels)
        config = parse_config({"tp_profile": [1.0 / levels] * levels, "tp_distances": distances})
        assert len(config.tp_distances) == levels
        assert min(distances) >= 0.96
        assert max(distances) < 1.0


def test_max_drawdown_without_a_loss_is_zero_and_a_fire_without_match_is_unmatched():
    win = {"close_date": "2022-01-01 01:00:00+00:00", "profit_abs": 1.0, "profit_ratio": 0.1}
    assert max_drawdown([win], 100.0) == (0.0, 0.0)
    assert max_drawdown([], 100.0) == (0.0, 0.0)
    fired = {
        **win,
        "pair": "ETH/BTC",
        "open_date": "2022-01-01 00:00:00+00:00",
        "profit_abs": -2.0,
        "exit_reason": "exit_brain_loss_guard",
    }
    on, guard_off = (
        VariantRun(variant=v, trades=t, starting_balance=100.0, guard_enabled=g)
        for v, t, g in (
            (_variant("on"), [fired], True),
            (_variant("guard_off"), [], False),
        )
    )
    (row, _) = compare_runs([on, guard_off])
    assert (row.loss_guard_fires, row.saves, row.loss_avoided, row.unmatched_fires) == (
        1,
        0,
        0.0,
        1,
    )
    assert row.max_drawdown_abs == 2.0


def _variant(key):
    from exit_brain_plugin.adapter.tools.compare import variants

    return next(v for v in variants(parse_config({})) if v.key == key)
