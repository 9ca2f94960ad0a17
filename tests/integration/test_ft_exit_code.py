"""``exit-brain ft …`` fails when freqtrade logged a fatal configuration error (issue 8)."""

import json
import os
import subprocess
import sys
from pathlib import Path


REPO = Path(__file__).resolve().parents[2]


def test_ft_backtesting_with_a_bad_exit_brain_setting_exits_non_zero(tmp_path):
    config = json.loads((REPO / "config.json").read_text())
    config["exit_brain"]["tp_profile"] = [0.5, 1.5]
    bad = tmp_path / "config.json"
    bad.write_text(json.dumps(config))
    command = [sys.executable, "-m", "exit_brain_plugin.adapter.tools.cli", "ft", "backtesting"]
    command += ["--config", str(bad), "--userdir", "user_data", "--export", "none"]
    command += ["--strategy", "ExitBrainSampleStrategy", "--timerange", "20180110-20180111"]
    done = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "COLUMNS": "1000"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-2000:]
    assert (
        "Configuration error: Invalid exit_brain setting: exit_brain.tp_profile[1] must be in "
        "(0, 1], was 1.5" in output
    )
