"""``exit-brain set`` on the config file: parsing, validation, atomic write, API address.

The REST side (reload, credentials, another bot, no server) is tested against freqtrade's real
API server in tests/live/test_exit_brain_set.py.
"""

import http.server
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from exit_brain_plugin.adapter.tools import admin
from exit_brain_plugin.adapter.tools.admin import (
    ApiTarget,
    SetError,
    api_target,
    apply_assignments,
    parse_assignments,
)
from exit_brain_plugin.adapter.tools.cli import main


REPO = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path, indent: int = 2, **changes) -> Path:
    data = json.loads((REPO / "config.json").read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data, indent=indent) + "\n", encoding="utf-8")
    return path


def _run(capsys, path: Path, *items: str) -> tuple[int, str, str]:
    code = main(["set", *items, "--config", str(path), "--no-reload"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


INVALID = {
    "fraction above 1": (
        "tp_profile=[0.25,0.25,1.5]",
        "exit_brain.tp_profile[2] must be in (0, 1], was 1.5",
    ),
    "unknown mode": ("mode=shadow", 'exit_brain.mode must be one of "act", "observe"'),
    "unknown key": ("max_loss=5", "exit_brain.max_loss is not a known setting (was 5)"),
    "NaN threshold": (
        "max_unrealized_loss_pct=NaN",
        "exit_brain.max_unrealized_loss_pct must be a finite number in (0, 100], was nan",
    ),
    "threshold 0": ("max_unrealized_loss_pct=0", "exit_brain.max_unrealized_loss_pct must be in"),
    "text for a switch": ("enabled=yes", "exit_brain.enabled must be true or false, was 'yes'"),
    "distances not increasing": (
        "tp_distances=[0.02,0.01,0.04]",
        "exit_brain.tp_distances[1] must be greater than exit_brain.tp_distances[0]",
    ),
    "levels of another length": (
        "tp_profile=[0.5,0.5]",
        "exit_brain.tp_distances must have one entry per tp_profile level (2)",
    ),
    "dotted key through a value": (
        "enabled.x=1",
        "exit_brain.enabled is true, not an object: cannot set exit_brain.enabled.x",
    ),
    "no equals sign": ("max_unrealized_loss_pct", "'max_unrealized_loss_pct' is not KEY=VALUE"),
}


@pytest.mark.parametrize("case", list(INVALID), ids=list(INVALID))
def test_a_bad_value_names_the_key_and_leaves_the_file_byte_for_byte(tmp_path, capsys, case):
    item, message = INVALID[case]
    path = _config(tmp_path)
    original = path.read_bytes()
    code, out, err = _run(capsys, path, "ratchet_offset=0.002", item)
    assert (code, out) == (2, "")
    assert len(err.splitlines()) == 1
    assert err.startswith(f"exit-brain: {message}")
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json"]  # no backup, no temp


def test_values_are_json_and_plain_text_is_a_string(tmp_path, capsys):
    path = _config(tmp_path)
    code, out, err = _run(
        capsys,
        path,
        "enabled=false",
        "mode=observe",
        "tp_profile=[0.3,0.3,0.4]",
        "tp_atr_multipliers=null",
        "exit_brain.max_unrealized_loss_pct=8",
    )
    assert (code, err) == (0, "")
    section = json.loads(path.read_text(encoding="utf-8"))["exit_brain"]
    assert section["enabled"] is False
    assert section["mode"] == "observe"
    assert section["tp_profile"] == [0.3, 0.3, 0.4]
    assert section["tp_atr_multipliers"] is None
    assert section["max_unrealized_loss_pct"] == 8
    assert out.splitlines()[:2] == [
        "exit-brain: exit_brain.enabled: true → false",
        'exit-brain: exit_brain.mode: "act" → "observe"',
    ]
    assert out.splitlines()[-1] == "exit-brain: the bot was not asked to reload (--no-reload)"


def test_dotted_keys_reach_nested_settings():
    section = {"metrics": {"enabled": False}, "mode": "act"}
    changed = apply_assignments(section, parse_assignments(["metrics.port=9465", "x.y.z=1"]))
    assert changed == {
        "metrics": {"enabled": False, "port": 9465},
        "mode": "act",
        "x": {"y": {"z": 1}},
    }
    assert section == {"metrics": {"enabled": False}, "mode": "act"}  # the input is not changed


def test_the_write_keeps_format_permissions_and_a_backup_of_the_previous_version(tmp_path, capsys):
    path = _config(tmp_path, indent=2)
    path.chmod(0o600)  # config files hold exchange keys
    first = path.read_bytes()
    assert _run(capsys, path, "max_unrealized_loss_pct=8")[0] == 0
    second = path.read_bytes()
    assert _run(capsys, path, "max_unrealized_loss_pct=9")[0] == 0

    backup = tmp_path / "config.json.bak"
    assert backup.read_bytes() == second  # the version before the last set
    assert second.replace(b'"max_unrealized_loss_pct": 8', b'"max_unrealized_loss_pct": 12.5') == (
        first
    )  # only the value changed: same indentation, key order, final newline
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "config.json.bak"]


def test_a_linked_config_stays_a_link_to_the_changed_file(tmp_path, capsys):
    real = _config(tmp_path)
    link = tmp_path / "deploy" / "config.json"
    link.parent.mkdir()
    link.symlink_to(real)
    code, out, _ = _run(capsys, link, "max_unrealized_loss_pct=8")
    assert code == 0
    assert link.is_symlink()
    assert json.loads(real.read_text())["exit_brain"]["max_unrealized_loss_pct"] == 8
    assert f"previous version kept as {real}.bak" in out


def test_a_failed_write_leaves_the_file_whole(tmp_path, capsys, monkeypatch):
    path = _config(tmp_path)
    original = path.read_bytes()
    real_replace = os.replace

    def replace(source, target):
        if Path(target) == path:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(admin.os, "replace", replace)
    with pytest.raises(OSError, match="No space left"):
        main(["set", "max_unrealized_loss_pct=8", "--config", str(path), "--no-reload"])
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "config.json.bak"]


def test_a_config_with_comments_is_refused_untouched(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text('{\n  // my bot\n  "exit_brain": {}\n}\n', encoding="utf-8")
    original = path.read_bytes()
    code, _, err = _run(capsys, path, "max_unrealized_loss_pct=8")
    assert code == 2
    assert "is not plain JSON" in err
    assert "edit this file by hand and send /reload_config" in err
    assert path.read_bytes() == original


def test_without_an_api_server_the_file_is_written_and_the_bot_not_reloaded(tmp_path, capsys):
    path = _config(tmp_path)
    code = main(["set", "max_unrealized_loss_pct=8", "--config", str(path)])
    err = capsys.readouterr().err
    assert code == 3
    assert err == (
        f"exit-brain: {path} was written (backup {path}.bak) and the bot was NOT reloaded: the "
        "config has no enabled api_server; pass --api-url (and --username/--password), or send "
        "/reload_config yourself\n"
    )
    assert json.loads(path.read_text())["exit_brain"]["max_unrealized_loss_pct"] == 8


def test_the_api_address_and_login_come_from_arguments_environment_then_config(monkeypatch):
    api = {
        "api_server": {
            "enabled": True,
            "listen_ip_address": "0.0.0.0",  # noqa: S104
            "listen_port": 8081,
            "username": "file-user",
            "password": "file-password",
        }
    }
    monkeypatch.delenv("FREQTRADE__API_SERVER__PASSWORD", raising=False)
    monkeypatch.delenv("FREQTRADE__API_SERVER__USERNAME", raising=False)
    assert api_target(api, None, None, None) == ApiTarget(
        "http://127.0.0.1:8081", "file-user", "file-password"
    )
    monkeypatch.setenv("FREQTRADE__API_SERVER__PASSWORD", "env-password")
    assert api_target(api, None, None, None).password == "env-password"  # noqa: S105
    target = api_target(api, "http://10.0.0.5:9000/", "me", "arg-password")
    assert target == ApiTarget("http://10.0.0.5:9000", "me", "arg-password")
    assert "arg-password" not in repr(target)
    assert api_target({"api_server": {"enabled": False}}, None, None, None) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://me:url-secret@127.0.0.1:8080", "--api-url must not carry credentials"),
        ("127.0.0.1:8080", "--api-url must look like http://127.0.0.1:8080"),
    ],
    ids=["credentials in the URL", "no scheme"],
)
def test_a_bad_api_url_changes_nothing(tmp_path, capsys, url, message):
    path = _config(tmp_path)
    original = path.read_bytes()
    code = main(["set", "max_unrealized_loss_pct=8", "--config", str(path), "--api-url", url])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith(f"exit-brain: {message}")
    assert "url-secret" not in err
    assert path.read_bytes() == original


def test_nothing_to_set_is_refused():
    with pytest.raises(SetError, match="nothing to set"):
        parse_assignments([])


def _with_api(path: Path, port: int) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["api_server"] = {
        "enabled": True,
        "listen_ip_address": "127.0.0.1",
        "listen_port": port,
        "username": "u",
        "password": "p",
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def test_a_server_that_is_not_freqtrade_is_named(tmp_path, capsys):
    # A real HTTP server on the port that answers HTML (e.g. another service).
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        path = _config(tmp_path)
        _with_api(path, server.server_address[1])
        code = main(["set", "max_unrealized_loss_pct=8", "--config", str(path)])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    err = capsys.readouterr().err
    assert code == 3
    assert "the bot was NOT reloaded" in err
    assert "answered show_config with something that is not freqtrade's API (not JSON)" in err


def test_an_api_that_never_answers_times_out(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(admin, "API_TIMEOUT_SECONDS", 0.5)
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        path = _config(tmp_path)
        _with_api(path, port)
        code = main(["set", "max_unrealized_loss_pct=8", "--config", str(path)])
    err = capsys.readouterr().err
    assert code == 3
    assert err.endswith(
        f"the bot was NOT reloaded: the freqtrade API at http://127.0.0.1:{port} did not "
        "answer within 0.5 s\n"
    )


def test_the_command_does_not_import_freqtrade(tmp_path):
    # `exit-brain set` runs next to a bot on small machines: it needs freqtrade-client, never
    # freqtrade itself (whose import takes seconds).
    path = _config(tmp_path)
    with socket.socket() as probe:  # a free port: the reload is tried and finds no server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _with_api(path, port)
    code = (
        "import json, sys\n"
        "from exit_brain_plugin.adapter.tools.cli import main\n"
        f"assert main(['set', 'max_unrealized_loss_pct=8', '--config', {str(path)!r}]) == 3\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}
    assert "exit_brain_plugin" in loaded
    assert "freqtrade_client" in loaded
    assert "freqtrade" not in loaded
