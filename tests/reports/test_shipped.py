"""The commands on the shipped data, as from a fresh clone (results go to a temporary userdir)."""

import json
import shutil

import pytest

from exit_brain_plugin.adapter.tools.cli import main
from tests.reports.conftest import REPO


@pytest.fixture(scope="module")
def shipped_userdir(tmp_path_factory):
    """A userdir holding only the sample strategy (the repository's own results untouched)."""
    pytest.importorskip("freqtrade")
    userdir = tmp_path_factory.mktemp("fresh") / "user_data"
    shutil.copytree(REPO / "user_data" / "strategies", userdir / "strategies")
    (userdir / "data").symlink_to(REPO / "user_data" / "data")  # the shipped candles
    return userdir


def test_backtest_then_report_and_plot_the_shipped_futures_data(
    shipped_userdir, capsys, monkeypatch, tmp_path
):
    monkeypatch.chdir(REPO)  # the configs' datadir is relative to the repository
    assert main(["backtest", "--market", "futures", "--userdir", str(shipped_userdir)]) == 0
    capsys.readouterr()
    results = shipped_userdir / "backtest_results"
    assert main(["report", str(results), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out).values()
    export = json.loads(_member(results, ".json"))["strategy"]["ExitBrainSampleStrategy"]
    assert summary["trades"] == export["total_trades"] > 10
    assert summary["total_profit_abs"] == pytest.approx(export["profit_total_abs"])
    assert summary["tp_hits"]["tp1"] > 0
    assert summary["ratchets"]["breakeven"] == summary["tp_hits"]["tp1"]
    out = tmp_path / "xrp.html"
    argv = ["plot", str(results), "--pair", "XRP/USDT:USDT", "--trade", "1", "--out", str(out)]
    assert main(argv) == 0
    assert out.stat().st_size > 3_000_000


def test_compare_on_the_shipped_futures_data_matches_freqtrades_own_figures(
    shipped_userdir, monkeypatch
):
    from rich.console import Console

    from exit_brain_plugin.adapter.tools.compare import compare_runs, run_variants
    from exit_brain_plugin.reports.render import render_comparison

    monkeypatch.chdir(REPO)
    runs, _ = run_variants(
        config_file=REPO / "config-futures.json",
        strategy="ExitBrainSampleStrategy",
        timerange="20211115-20211122",
        userdir=shipped_userdir,
    )
    rows = compare_runs(runs)
    assert [row.label for row in rows] == [
        "brain on",
        "brain off",
        "ratchet off",
        "loss guard off",
        "ladder off",
    ]
    for run, row in zip(runs, rows, strict=True):
        stats = run.freqtrade_stats
        assert row.total_profit_abs == pytest.approx(stats["profit_total_abs"])
        assert row.max_drawdown_abs == pytest.approx(stats["max_drawdown_abs"])
        assert row.max_drawdown_pct == pytest.approx(stats["max_drawdown_account"])
    console = Console(record=True, width=120)
    render_comparison("futures", rows, "USDT", console)
    text = console.export_text()
    for label in ("brain on", "ratchet off", "loss guard off", "ladder off", "Max drawdown"):
        assert label in text
    on, off = rows[0], rows[1]
    assert on.trades != off.trades or on.total_profit_abs != off.total_profit_abs
    assert (off.saves, rows[3].saves) == (None, None)


def test_compare_command_defaults_to_the_spot_config(shipped_userdir, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    argv = ["compare", "--timerange", "20180110-20180114", "--userdir", str(shipped_userdir)]
    assert main([*argv, "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["title"] == "ExitBrainSampleStrategy config.json 20180110-20180114"
    assert [row["variant"] for row in table["rows"]] == [
        "on",
        "off",
        "ratchet_off",
        "guard_off",
        "ladder_off",
    ]
    assert all(row["trades"] > 0 for row in table["rows"])


def _member(results, suffix):
    import zipfile

    latest = json.loads((results / ".last_result.json").read_text())["latest_backtest"]
    with zipfile.ZipFile(results / latest) as archive:
        name = next(
            n for n in archive.namelist() if n.endswith(suffix) and not n.endswith("_config.json")
        )
        return archive.read(name)
