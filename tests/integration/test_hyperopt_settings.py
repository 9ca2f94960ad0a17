"""After ``exit-brain ft hyperopt … --spaces exitbrain`` writes the strategy's parameter file,
the next backtest prints, reports and plots the settings it ran with (issue 8.3)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parents[2]
STRATEGY = "ExitBrainSampleStrategy"
TIMERANGE = "20180110-20180120"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "exit_brain_plugin.adapter.tools.cli", *args]
    env = {**os.environ, "COLUMNS": "1000"}  # one log line per line
    return subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=900, check=False, env=env
    )


@pytest.mark.integration
def test_backtest_after_hyperopt_prints_reports_and_plots_the_tuned_settings(tmp_path):
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(REPO / "user_data" / "strategies" / f"{STRATEGY}.py", strategies)
    common = ["--config", "config.json", "--userdir", "user_data"]
    common += ["--strategy", STRATEGY, "--strategy-path", str(strategies)]
    common += ["--timerange", TIMERANGE]
    tuned = _cli(
        "ft", "hyperopt", *common, "--spaces", "exitbrain", "-e", "2", "-j", "1",
        "--hyperopt-loss", "OnlyProfitHyperOptLoss", "--random-state", "7",
    )  # fmt: skip
    assert tuned.returncode == 0, (tuned.stdout + tuned.stderr)[-3000:]
    param_file = strategies / f"{STRATEGY}.json"
    values = json.loads(param_file.read_text())["params"]["exitbrain"]
    scale = values["eb_tp_distance_scale"]
    guard = values["eb_max_unrealized_loss_pct"]
    offset = values["eb_ratchet_offset"]

    results = tmp_path / "results"
    results.mkdir()
    ran = _cli(
        "ft", "backtesting", *common, "--export", "trades", "--backtest-directory", str(results),
        "--cache", "none",
    )  # fmt: skip
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-3000:]
    line = next(line for line in output.splitlines() if "[EXIT_BRAIN_EXECUTOR] Settings:" in line)
    distances = [round(d * scale, 10) for d in (0.01, 0.02, 0.04)]
    shown = re.search(r"tp_distances=\[([^\]]*)\]", line).group(1)
    assert [round(float(d), 10) for d in shown.split(",")] == distances
    assert f"max_unrealized_loss_pct={guard}" in line
    assert f"ratchet_offset={offset}" in line
    assert f"(parameters over config.json: eb_tp_distance_scale={scale}" in line

    report = _cli("report", str(results), "--json")
    assert report.returncode == 0, report.stderr
    (summary,) = json.loads(report.stdout).values()
    assert summary["settings"]["tp_distances"] == pytest.approx(distances)
    assert summary["settings"]["max_unrealized_loss_pct"] == guard
    assert "with its parameter file (eb_tp_distance_scale=" in summary["settings_source"]

    from exit_brain_plugin.adapter.tools.plot import build_figure, load_candles, select
    from exit_brain_plugin.reports.sources import load_backtest

    (trade_set,) = load_backtest(results)
    trade = trade_set.trades[0]
    request = select(trade_set, trade.pair, 1)
    candles = load_candles(request, REPO / "user_data" / "data" / "binance")
    traces = {t.name: t for t in build_figure(request, candles).data}
    expected_tp1 = trade.open_rate * (1 + distances[0])
    assert traces["TP1 level"].y[0] == pytest.approx(expected_tp1, abs=2e-6)
