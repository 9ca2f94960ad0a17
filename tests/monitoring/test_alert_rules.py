"""The shipped alerting rules under ``promtool test rules`` (Debian's ``prometheus`` package).

monitoring/prometheus/exit_brain_rules.test.yml holds the cases: 5 loss-guard fires in 24 h
green, 6 a warning, 11 critical, fires older than 24 h forgotten, a restart's counter reset
counted, an error alert, a state-repair info alert, the exporter down after 5 minutes. The
rules are also run with each threshold moved by one: the same cases must then fail.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import promtool


RULES_DIR = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus"
RULES = RULES_DIR / "exit_brain_rules.yml"
RULE_TESTS = RULES_DIR / "exit_brain_rules.test.yml"


def _run_rule_tests(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), "test", "rules", RULE_TESTS.name],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_promtool_checks_the_rules_file():
    done = subprocess.run(
        [promtool(), "check", "rules", str(RULES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 6 rules found" in done.stdout


def test_rule_unit_tests_pass():
    done = _run_rule_tests(RULES_DIR)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@pytest.mark.parametrize(
    ("old", "new", "failing"),
    [
        ("increase24h > 5 and", "increase24h >= 5 and", "ExitBrainLossGuardFiresYellow"),
        ("increase24h <= 10", "increase24h < 10", "ExitBrainLossGuardFiresYellow"),
        ("increase24h > 10", "increase24h > 11", "ExitBrainLossGuardFiresRed"),
        ("errors_total[15m]", "errors_total[1m]", "ExitBrainErrors"),
        ("for: 5m", "for: 6m", "ExitBrainExporterDown"),
    ],
    ids=["yellow-at-5", "yellow-at-10", "red-at-12", "errors-1m", "down-6m"],
)
def test_rule_unit_tests_fail_when_a_threshold_moves(tmp_path, old, new, failing):
    text = RULES.read_text(encoding="utf-8")
    assert old in text
    (tmp_path / RULES.name).write_text(text.replace(old, new), encoding="utf-8")
    shutil.copyfile(RULE_TESTS, tmp_path / RULE_TESTS.name)
    done = _run_rule_tests(tmp_path)
    assert done.returncode != 0
    assert failing in done.stdout + done.stderr
