"""``exit-brain compare``: the same strategy and data with the brain on, off, and each feature off.

Variants (the config's ``exit_brain`` section with one change each):

- ``brain on``: the section as configured;
- ``brain off``: ``enabled: false`` (docs/behaviour.md §6: exactly the trades of the host strategy
alone);
- ``ratchet off``: ``ratchet_sl_enabled: false``;
- ``loss guard off``: ``loss_guard_enabled: false``;
- ``ladder off``: docs/behaviour.md §2 has no switch for the ladder, so its levels are put out of
reach:
  ``tp_distances`` 0.96 … 0.99 (a long's level would need the price to nearly double, a
  short's to fall by 96 % or more) and ``tp_atr_multipliers: null``. No take-profit fills, so
  the ratchet has nothing to move either: this variant is "loss guard only". A strategy that
  supplies its own ladder (``exit_brain_plan``) keeps it.

Every variant, ``brain off`` included, is filled under the same backtest fill rules
(``adapter/backtest.py``, docs/behaviour.md §6: a stop the candle opens beyond fills at the
open; a price on the tick edge of a candle fills on that candle), so the columns differ only by
what the brain did. ``brain off`` can therefore differ from a plain ``freqtrade backtesting`` of
the host strategy, which fills such stops at the stop price.

Figures per variant (closed trades of the backtest):

- positions, average PnL per position (mean ``profit_ratio`` × 100), total profit (sum of
  ``profit_abs``; % of the starting balance), win rate (``profit_abs > 0``);
- max drawdown: freqtrade's own definition (``freqtrade.data.metrics.calculate_max_drawdown``
  over ``profit_abs`` by close date): the largest fall of cumulative profit from its running
  high (the high is at least 0), in stake currency and relative to the balance at that high;
- loss-guard fires: trades the loss guard closed;
- ratchet effect (printed under the table, ``ratchet_effect`` in JSON): total profit of
  ``brain on`` − total profit of ``ratchet off``: what the ratchet changed, in stake currency;
- **loss-guard saves** and **loss avoided**: each trade the loss guard closed is matched with
  the trade of the ``loss guard off`` run that has the same ``(pair, open_date)``. A match
  whose ``profit_abs`` without the guard is lower is a save; the loss avoided is the sum over
  all matched fires of ``profit_abs`` (guard on) − ``profit_abs`` (guard off), so a fire on a
  trade that later recovered counts against it. Fires without a match (the runs diverged
  earlier) are counted as ``unmatched`` and left out. Not applicable (``-``) to the runs
  without a loss guard.
"""

import copy
import logging
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from freqtrade.data.metrics import calculate_max_drawdown

from exit_brain_plugin.core import LOSS_GUARD_TAG, BrainConfig
from exit_brain_plugin.reports.sources import ReportInputError, brain_config


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One column of the comparison."""

    key: str
    label: str
    overrides: Mapping[str, Any]


OUT_OF_REACH_LOW, OUT_OF_REACH_HIGH = 0.96, 0.99
BASE_KEY = "on"
GUARD_OFF_KEY = "guard_off"
RATCHET_OFF_KEY = "ratchet_off"


def out_of_reach_distances(levels: int) -> list[float]:
    """Return ``levels`` strictly increasing TP distances in [0.96, 0.99] (ladder off)."""
    if levels == 1:
        return [OUT_OF_REACH_HIGH]
    step = (OUT_OF_REACH_HIGH - OUT_OF_REACH_LOW) / (levels - 1)
    return [round(OUT_OF_REACH_LOW + step * index, 6) for index in range(levels)]


def variants(config: BrainConfig) -> list[Variant]:
    """Return the compared variants for the settings ``config``."""
    return [
        Variant(key=BASE_KEY, label="brain on", overrides={}),
        Variant(key="off", label="brain off", overrides={"enabled": False}),
        Variant(key=RATCHET_OFF_KEY, label="ratchet off", overrides={"ratchet_sl_enabled": False}),
        Variant(key=GUARD_OFF_KEY, label="loss guard off", overrides={"loss_guard_enabled": False}),
        Variant(
            key="ladder_off",
            label="ladder off",
            overrides={
                "tp_distances": out_of_reach_distances(len(config.tp_profile)),
                "tp_atr_multipliers": None,
            },
        ),
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantRun:
    """The trades (export-shaped dicts) of one variant's backtest."""

    variant: Variant
    trades: list[dict[str, Any]]
    starting_balance: float
    guard_enabled: bool
    freqtrade_stats: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparisonRow:
    """The figures of one variant (see the module docstring)."""

    key: str
    label: str
    trades: int
    avg_profit_pct: float
    total_profit_abs: float
    total_profit_pct: float
    max_drawdown_abs: float
    max_drawdown_pct: float
    win_rate: float
    loss_guard_fires: int
    saves: int | None
    loss_avoided: float | None
    unmatched_fires: int | None

    def to_json(self) -> dict[str, Any]:
        """Return the row as JSON types."""
        return {
            "variant": self.key,
            "label": self.label,
            "trades": self.trades,
            "avg_profit_pct": self.avg_profit_pct,
            "total_profit_abs": self.total_profit_abs,
            "total_profit_pct": self.total_profit_pct,
            "max_drawdown_abs": self.max_drawdown_abs,
            "max_drawdown_pct": self.max_drawdown_pct,
            "win_rate": self.win_rate,
            "loss_guard_fires": self.loss_guard_fires,
            "loss_guard_saves": self.saves,
            "loss_avoided": self.loss_avoided,
            "unmatched_fires": self.unmatched_fires,
        }


def _fired(trade: Mapping[str, Any]) -> bool:
    return trade.get("exit_reason") == LOSS_GUARD_TAG or any(
        order.get("ft_order_tag") == LOSS_GUARD_TAG and not order.get("ft_is_entry")
        for order in trade.get("orders", [])
    )


def max_drawdown(
    trades: Sequence[Mapping[str, Any]], starting_balance: float
) -> tuple[float, float]:
    """Return the max drawdown of ``trades``: (stake currency, ratio of the balance).

    freqtrade's own figure (``freqtrade.data.metrics.calculate_max_drawdown``, the one its
    backtest report prints as "Absolute drawdown" / "Max % of account underwater"): cumulative
    ``profit_abs`` in close-date order, its running high floored at 0, the largest fall below
    that high, and that fall relative to ``starting_balance`` + the high. No trades, or no
    balance to measure against, give 0.
    """
    if not trades:
        return 0.0, 0.0
    frame = pd.DataFrame(
        {
            "close_date": pd.to_datetime([str(trade["close_date"]) for trade in trades], utc=True),
            "profit_abs": [float(trade["profit_abs"]) for trade in trades],
        }
    )
    result = calculate_max_drawdown(frame, starting_balance=starting_balance)
    drawdown = float(result.drawdown_abs)
    if drawdown == 0.0:
        return 0.0, 0.0
    relative = float(result.relative_account_drawdown)
    return drawdown, relative if math.isfinite(relative) else 0.0


def _key(trade: Mapping[str, Any]) -> tuple[str, str]:
    return str(trade["pair"]), str(trade["open_date"])


def _saves(
    run: VariantRun, without_guard: VariantRun | None
) -> tuple[int | None, float | None, int | None]:
    if not run.guard_enabled or without_guard is None:
        return None, None, None
    others = {_key(trade): trade for trade in without_guard.trades}
    saves, avoided, unmatched = 0, 0.0, 0
    for trade in (t for t in run.trades if _fired(t)):
        other = others.get(_key(trade))
        if other is None:
            unmatched += 1
            continue
        difference = float(trade["profit_abs"]) - float(other["profit_abs"])
        avoided += difference
        saves += difference > 0
    return saves, avoided, unmatched


def compare_runs(runs: Sequence[VariantRun]) -> list[ComparisonRow]:
    """Return one comparison row per run, in the order given (pure: no backtest here)."""
    without_guard = next((run for run in runs if run.variant.key == GUARD_OFF_KEY), None)
    rows = []
    for run in runs:
        closed = [trade for trade in run.trades if not trade.get("is_open")]
        profits = [float(trade["profit_ratio"]) for trade in closed]
        total = sum(float(trade["profit_abs"]) for trade in closed)
        drawdown_abs, drawdown_pct = max_drawdown(closed, run.starting_balance)
        saves, avoided, unmatched = _saves(run, without_guard)
        rows.append(
            ComparisonRow(
                key=run.variant.key,
                label=run.variant.label,
                trades=len(closed),
                avg_profit_pct=100.0 * statistics.fmean(profits) if profits else 0.0,
                total_profit_abs=total,
                total_profit_pct=100.0 * total / run.starting_balance
                if run.starting_balance
                else 0.0,
                max_drawdown_abs=drawdown_abs,
                max_drawdown_pct=drawdown_pct,
                win_rate=sum(1 for t in closed if float(t["profit_abs"]) > 0) / len(closed)
                if closed
                else 0.0,
                loss_guard_fires=sum(1 for trade in closed if _fired(trade)),
                saves=saves,
                loss_avoided=avoided,
                unmatched_fires=unmatched,
            )
        )
    return rows


def ratchet_effect(rows: Sequence[ComparisonRow]) -> float | None:
    """Return total profit with the brain on minus with the ratchet off (None if missing)."""
    found = {row.key: row for row in rows}
    if BASE_KEY not in found or RATCHET_OFF_KEY not in found:
        return None
    return found[BASE_KEY].total_profit_abs - found[RATCHET_OFF_KEY].total_profit_abs


def _guard_on(config: BrainConfig) -> bool:
    return config.enabled and config.loss_guard_enabled


def run_variants(
    *,
    config_file: Path,
    strategy: str,
    timerange: str | None,
    userdir: Path,
    progress: Any = None,
) -> tuple[list[VariantRun], dict[str, Any]]:
    """Backtest ``strategy`` once per variant, offline and in-process.

    :param progress: called with each variant's label before its backtest
    :return: the runs, and the freqtrade config of the base run
    :raises ReportInputError: for a config freqtrade or the brain refuses
    """
    from exit_brain_plugin.adapter.tools.offline import install_offline_markets

    install_offline_markets()
    argv = ["backtesting", "--config", str(config_file), "--userdir", str(userdir)]
    argv += ["--strategy", strategy, "--export", "none", "--cache", "none"]
    if timerange:
        argv += ["--timerange", timerange]
    logging.disable(logging.WARNING)  # freqtrade's and the brain's chatter; errors still show
    try:
        return _run_all(argv, config_file, progress)
    finally:
        logging.disable(logging.NOTSET)


def _same_fill_rules(backtesting: Any) -> None:
    # Every variant (brain off too) fills under the brain's backtest fill rules.
    from exit_brain_plugin.adapter import backtest

    backtest.install()
    for strategy in backtesting.strategylist:
        strategy.eb_fill_rules = True


def _run_all(
    argv: list[str], config_file: Path, progress: Any
) -> tuple[list[VariantRun], dict[str, Any]]:
    from freqtrade.commands import Arguments
    from freqtrade.commands.optimize_commands import setup_optimize_configuration
    from freqtrade.enums import RunMode
    from freqtrade.exceptions import FreqtradeException
    from freqtrade.optimize.backtesting import Backtesting
    from freqtrade.optimize.optimize_reports import generate_backtest_stats

    try:
        base = setup_optimize_configuration(Arguments(argv).get_parsed_arg(), RunMode.BACKTEST)
    except FreqtradeException as error:
        raise ReportInputError(f"{config_file}: {error}") from error
    settings = brain_config(base, str(config_file))
    runs = []
    for variant in variants(settings):
        if progress is not None:
            progress(variant.label)
        config = copy.deepcopy(base)
        config["exit_brain"] = {**config.get("exit_brain", {}), **variant.overrides}
        try:
            backtesting = Backtesting(config)
            backtesting.progress = None
            _same_fill_rules(backtesting)
            data, timerange_obj = backtesting.load_bt_data()
            name = backtesting.strategylist[0].get_strategy_name()
            first, last = backtesting.backtest_one_strategy(
                backtesting.strategylist[0], data, timerange_obj
            )
            stats = generate_backtest_stats(data, backtesting.all_bt_content, first, last)
        except FreqtradeException as error:
            raise ReportInputError(f"{variant.label}: {error}") from error
        result = stats["strategy"][name]
        runs.append(
            VariantRun(
                variant=variant,
                trades=list(result["trades"]),
                starting_balance=float(result["starting_balance"]),
                guard_enabled=_guard_on(brain_config(config, variant.label)),
                freqtrade_stats={
                    key: result[key]
                    for key in ("max_drawdown_abs", "max_drawdown_account", "profit_total_abs")
                },
            )
        )
    return runs, base
