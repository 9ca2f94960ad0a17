"""``exit-brain tune`` on the shipped data: real freqtrade backtests, real optuna storages.

Budgets stay tiny (a 6-day range, 2 folds of 2-day windows, 2-3 trials per fold) so the whole
file runs in a few minutes on a shared 2-core machine.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import optuna
import pytest
from freqtrade.commands import Arguments
from freqtrade.commands.optimize_commands import setup_optimize_configuration
from freqtrade.data import history
from freqtrade.enums import RunMode
from freqtrade.optimize.backtesting import Backtesting
from freqtrade.optimize.hyperopt_loss.hyperopt_loss_sharpe import SharpeHyperOptLoss
from freqtrade.strategy import IStrategy

from exit_brain_plugin.adapter.tools import cli
from exit_brain_plugin.adapter.tools import tune as tune_module
from exit_brain_plugin.adapter.tools.offline import install_offline_markets
from exit_brain_plugin.adapter.tools.tune import TuneOptions, tune
from exit_brain_plugin.core.tuning import TUNED_KEYS, Window
from tests.integration.backtest_harness import REPO
from tests.servers import postgres_server


STRATEGY = "ExitBrainSampleStrategy"
SMALL = ["--timerange", "20180112-20180118", "--folds", "2", "--train-days", "2"]
SMALL += ["--test-days", "2", "--loss", "sharpe"]
STUDY_FOLDS = 2
TRIAL_STATES = optuna.trial.TrialState


def run_cli(*args: str, check: bool = True) -> dict[str, Any]:
    """Run ``exit-brain tune ARGS --json`` from the repository; return the JSON report."""
    process = subprocess.run(
        [sys.executable, "-m", "exit_brain_plugin.adapter.tools.cli", "tune", *args, "--json"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if check:
        assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout)


def direct_backtest(timerange: str, section: dict[str, Any]) -> dict[str, Any]:
    """``freqtrade backtesting --timerange TIMERANGE`` with ``section`` as exit_brain."""
    install_offline_markets()
    args = Arguments(
        [
            "backtesting",
            "--config",
            str(REPO / "config.json"),
            "--userdir",
            str(REPO / "user_data"),
            "--strategy",
            STRATEGY,
            "--timerange",
            timerange,
            "--export",
            "none",
            "--cache",
            "none",
        ]
    ).get_parsed_arg()
    config = setup_optimize_configuration(args, RunMode.BACKTEST)
    config["exit_brain"] = section
    backtesting = Backtesting(config)
    backtesting.start()
    result = backtesting.results["strategy"][STRATEGY]
    content = backtesting.all_bt_content[STRATEGY]
    start, end = result["backtest_start_ts"], result["backtest_end_ts"]
    sharpe = -SharpeHyperOptLoss.hyperopt_loss_function(
        results=content["results"],
        min_date=datetime.fromtimestamp(start / 1000, tz=UTC),
        max_date=datetime.fromtimestamp(end / 1000, tz=UTC),
        starting_balance=result["starting_balance"],
    )
    return {**result, "sharpe": sharpe}


def assert_same_figures(printed: dict[str, Any], direct: dict[str, Any]) -> None:
    assert printed["trades"] == direct["total_trades"]
    assert printed["profit_abs"] == pytest.approx(direct["profit_total_abs"], abs=1e-12)
    assert printed["profit_pct"] == pytest.approx(100 * direct["profit_total"], abs=1e-9)
    assert printed["max_drawdown_pct"] == pytest.approx(
        100 * direct["max_drawdown_account"], abs=1e-9
    )
    assert printed["win_rate"] == pytest.approx(direct["winrate"], abs=1e-12)
    if printed["trades"]:
        assert printed["sharpe"] == pytest.approx(direct["sharpe"], rel=1e-9, abs=1e-9)


def test_report_numbers_equal_direct_backtests_of_the_printed_settings(tmp_path):
    storage = f"sqlite:///{tmp_path / 'tune.sqlite'}"
    report = run_cli(*SMALL, "--trials", "2", "--storage", storage, "--seed", "3")
    assert [fold["trials"] for fold in report["folds"]] == [2, 2]
    assert [fold["test"] for fold in report["folds"]] == [
        "2018-01-14 → 2018-01-16",
        "2018-01-16 → 2018-01-18",
    ]
    current = json.loads((REPO / "config.json").read_text())["exit_brain"]
    for fold in report["folds"]:
        runs = fold["test_runs"]
        sections = {
            "tuned": fold["settings"],
            "current": {**current, "enabled": True},
            "off": {**current, "enabled": False},
        }
        for key, section in sections.items():
            direct = direct_backtest(fold["test_timerange"], section)
            assert_same_figures(runs[key], direct)
            # out of sample means only the test window: every trade opened inside it
            window_start, window_stop = (int(x) for x in fold["test_timerange"].split("-"))
            for trade in direct["trades"]:
                assert window_start * 1000 <= trade["open_timestamp"] <= window_stop * 1000
    # the best trial's train figures are a backtest of the same settings on the train window
    first = report["folds"][0]
    assert_same_figures(
        first["train_best"], direct_backtest(first["train_timerange"], first["settings"])
    )
    # totals add the folds up; the recommended section is fold 2's best, ready for `set`
    for key in ("tuned", "current", "off"):
        trades = sum(fold["test_runs"][key]["trades"] for fold in report["folds"])
        assert report["total"][key]["trades"] == trades
        profit = sum(fold["test_runs"][key]["profit_abs"] for fold in report["folds"])
        assert report["total"][key]["profit_abs"] == pytest.approx(profit, abs=1e-12)
    last, recommended = report["folds"][-1]["settings"], report["recommended"]["exit_brain"]
    assert {k: recommended.get(k) for k in TUNED_KEYS} == {k: last[k] for k in TUNED_KEYS}
    assert {k: v for k, v in recommended.items() if k not in TUNED_KEYS} == {
        k: v for k, v in current.items() if k not in TUNED_KEYS
    }
    assert report["set_command"].startswith("exit-brain set ")


def _trial_params(storage: str, name: str) -> list[dict[str, Any]]:
    params = []
    for index in range(1, STUDY_FOLDS + 1):
        study = optuna.load_study(study_name=f"{name}/fold{index}", storage=storage)
        params += [trial.params for trial in study.trials]
    return params


def test_data_is_loaded_once_per_worker_and_a_seed_repeats_the_run(tmp_path, monkeypatch):
    loads: list[Any] = []
    analysed: list[Any] = []
    load_data, advise = history.load_data, IStrategy.advise_all_indicators

    def counting_load(*args: Any, **kwargs: Any) -> Any:
        loads.append(kwargs.get("timerange"))
        return load_data(*args, **kwargs)

    def counting_advise(self: Any, data: Any) -> Any:
        analysed.append(min(frame["date"].iloc[-1] for frame in data.values()))
        return advise(self, data)

    monkeypatch.setattr(history, "load_data", counting_load)
    monkeypatch.setattr(IStrategy, "advise_all_indicators", counting_advise)
    monkeypatch.chdir(REPO)
    options = TuneOptions(
        config_file=REPO / "config.json",
        strategy=STRATEGY,
        timerange="20180112-20180118",
        folds=2,
        train_days=2,
        test_days=2,
        trials=2,
        storage=f"sqlite:///{tmp_path / 'a.sqlite'}",
        seed=11,
        userdir=REPO / "user_data",
    )
    report = tune(options)
    # 4 trials on train windows + tuned / current / off on each test window = 10 backtests,
    # from one load of the candles
    assert report.workers[0].trials == 4
    assert len(loads) == 1
    assert report.workers[0].loads == 1
    # indicators once per distinct window (train 12-14, 14-16; test 14-16, 16-18), not per trial
    assert len(analysed) == 3
    first = _trial_params(options.storage_url(), report.study)
    assert len(first) == 4

    # The same seed on a fresh storage draws the same trials (same process: no new load).
    again = TuneOptions(**{**_fields(options), "storage": f"sqlite:///{tmp_path / 'b.sqlite'}"})
    folds = again.fold_list()
    engine = tune_module.Engine(again, Window(folds[0].train.start, folds[-1].test.end))
    storage = tune_module.open_storage(again.storage_url(), again.heartbeat)
    tune_module.create_studies(
        storage, report.study, folds, tune_module.layout(again, folds, engine.section)
    )
    assert tune_module.run_worker(again, 0, engine=engine).trials == 4
    assert _trial_params(again.storage_url(), report.study) == first


def _fields(options: TuneOptions) -> dict[str, Any]:
    return {name: getattr(options, name) for name in TuneOptions.__dataclass_fields__}


def _count(storage: str, study: str, states: tuple[Any, ...] | None = None) -> int:
    total = 0
    for index in range(1, STUDY_FOLDS + 1):
        loaded = optuna.load_study(study_name=f"{study}/fold{index}", storage=storage)
        total += len(loaded.get_trials(deepcopy=False, states=states))
    return total


def _workers(storage: str, study: str) -> set[str]:
    names = set()
    for index in range(1, STUDY_FOLDS + 1):
        loaded = optuna.load_study(study_name=f"{study}/fold{index}", storage=storage)
        names |= {trial.user_attrs.get("worker") for trial in loaded.trials}
    return names


def test_two_workers_share_one_sqlite_study_and_a_killed_run_resumes(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    report = run_cli(*SMALL, "--trials", "3", "--workers", "2", "--storage", storage)
    name = report["study"]
    assert len(report["workers"]) == 2
    assert all(worker["loads"] == 1 for worker in report["workers"])
    ran = sum(worker["trials"] for worker in report["workers"])
    assert _count(storage, name) == ran  # every trial of both workers is in the one study
    assert 6 <= ran <= 6 + 2  # 3 complete per fold; two workers may each finish one over
    assert len(_workers(storage, name)) == 2

    # A run killed after its first complete trial resumes from the storage.
    args = [*SMALL, "--trials", "3", "--storage", storage, "--study", "killed", "--heartbeat", "1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "exit_brain_plugin.adapter.tools.cli", "tune", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        done = 0
        while time.monotonic() < deadline and process.poll() is None:
            try:
                done = _count(storage, "killed", (TRIAL_STATES.COMPLETE,))
            except KeyError:  # the studies are not created yet
                done = 0
            if done >= 1:
                break
            time.sleep(0.2)
        assert done >= 1, "the run never completed a trial"
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    # optuna fails a trial whose last beat is older than the grace period (4 x --heartbeat) when
    # a worker next starts a trial on its study; a rerun sooner than that finds it still running
    time.sleep(4 * 1 + 1)
    before = {
        (t.number, json.dumps(t.params, sort_keys=True), t.value)
        for t in optuna.load_study(study_name="killed/fold1", storage=storage).get_trials(
            states=(TRIAL_STATES.COMPLETE,)
        )
    }
    done_before = _count(storage, "killed", (TRIAL_STATES.COMPLETE,))
    resumed = run_cli(*args)
    after = optuna.load_study(study_name="killed/fold1", storage=storage).get_trials()
    assert before <= {(t.number, json.dumps(t.params, sort_keys=True), t.value) for t in after}
    assert _count(storage, "killed", (TRIAL_STATES.COMPLETE,)) == 6
    assert resumed["workers"][0]["trials"] == 6 - done_before  # it continued, not restarted
    # the trial the kill interrupted was failed by optuna's heartbeat, not left running
    assert _count(storage, "killed", (TRIAL_STATES.RUNNING,)) == 0
    assert [fold["trials"] for fold in resumed["folds"]] == [3, 3]


def _start_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "exit_brain_plugin.adapter.tools.cli", "tune", *args, "--json"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_postgresql_storage_two_workers_join_one_study():
    with postgres_server() as server:
        # Workers opening a fresh database at the same instant race to create optuna's tables
        # (PostgreSQL: UniqueViolation on pg_type): each of them must still get the storage.
        race = server.create_database("race")
        barrier, errors = threading.Barrier(4), []

        def open_together() -> None:
            barrier.wait(timeout=60)
            try:
                tune_module.open_storage(race, 10)
            except tune_module.TuneError as error:
                errors.append(str(error))

        threads = [threading.Thread(target=open_together) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []

        url = server.create_database("tune")
        # Two "machines": the same command twice at once on a fresh database (they also race
        # to create optuna's tables).
        args = [*SMALL, "--trials", "2", "--storage", url, "--study", "pg"]
        processes = [_start_cli(*args) for _ in range(2)]
        outputs = [process.communicate(timeout=900) for process in processes]
        for process, (_out, err) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, err[-3000:]
        reports = [json.loads(out) for out, _err in outputs]
        ran = sum(report["workers"][0]["trials"] for report in reports)
        assert _count(url, "pg") == ran  # both commands' trials are in the one study
        assert 4 <= _count(url, "pg", (TRIAL_STATES.COMPLETE,)) <= 4 + 2
        assert len(_workers(url, "pg")) == 2
        assert reports[0]["storage"].startswith("postgresql+psycopg://postgres@127.0.0.1:")
        # a machine running the same command after the budget is reached only reports
        again = run_cli(*args)
        assert again["workers"][0]["trials"] == 0
        best = []
        for index in (1, 2):
            study = optuna.load_study(study_name=f"pg/fold{index}", storage=url)
            complete = study.get_trials(states=(TRIAL_STATES.COMPLETE,))
            first_best = min(complete, key=lambda trial: (trial.value, trial.number))
            best.append(first_best.user_attrs["exit_brain"])
        assert [fold["settings"] for fold in again["folds"]] == best


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timerange", "20180112-20180113", "--folds", "2"], "--timerange has 1 days"),
        (["--config", "missing.json"], "--config missing.json: no such file"),
        (["--trials", "0"], "--trials must be at least 1, was 0"),
        (["--workers", "0"], "--workers must be at least 1, was 0"),
        (["--storage", "nosuchdb://x"], "--storage nosuchdb://x: cannot open it"),
        (
            ["--storage", "postgresql://trader:s3cret@127.0.0.1:1/db"],
            "--storage postgresql+psycopg://trader:***@127.0.0.1:1/db: cannot open it",
        ),
    ],
)
def test_bad_input_gets_one_line_naming_the_option_and_exit_code_2(
    args, message, capsys, monkeypatch
):
    monkeypatch.chdir(REPO)
    assert cli.main(["tune", *args]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert message in lines[0]
    assert "s3cret" not in captured.err + captured.out
