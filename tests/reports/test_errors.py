"""Bad input gets one line on stderr and exit code 2, never a traceback."""

import json
import zipfile

import pytest

from exit_brain_plugin.adapter.tools.cli import main


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("exit-brain: ")
    assert captured.out == ""
    return lines[0]


def _export(trades, config=None):
    content = {"strategy": {"S": {"trades": trades}}}
    return json.dumps(content), json.dumps(config or {"exit_brain": {}})


def test_missing_file(capsys, tmp_path):
    line = _one_line_error(capsys, ["report", str(tmp_path / "nope.zip")])
    assert line.endswith("nope.zip: no such file or folder")


@pytest.mark.parametrize("content", ['{"a": 1}', "[1, 2]", '{"strategy": {}}', '"text"'])
def test_foreign_json(capsys, tmp_path, content):
    path = tmp_path / "foreign.json"
    path.write_text(content)
    line = _one_line_error(capsys, ["report", str(path)])
    assert line.endswith("not a freqtrade backtest result (no 'strategy' key)")


def test_not_json_at_all(capsys, tmp_path):
    path = tmp_path / "notes.json"
    path.write_text("hello")
    assert "not a readable backtest export" in _one_line_error(capsys, ["report", str(path)])


def test_garbage_named_zip(capsys, tmp_path):
    path = tmp_path / "result.zip"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert _one_line_error(capsys, ["report", str(path)]).endswith("not a readable zip file")


def test_corrupt_zip_member(capsys, tmp_path):
    path = tmp_path / "backtest-result.zip"
    main_json, config_json = _export([{"pair": "ETH/BTC", "open_rate": 0.1}] * 500)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("backtest-result.json", main_json)
        archive.writestr("backtest-result_config.json", config_json)
    data = bytearray(path.read_bytes())
    for offset in range(60, 90):  # inside the first member's compressed data
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    line = _one_line_error(capsys, ["report", str(path)])
    assert "not a readable backtest export" in line


def test_zip_without_a_result(capsys, tmp_path):
    path = tmp_path / "other.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hi")
    assert _one_line_error(capsys, ["report", str(path)]).endswith("holds no backtest result json")


def test_results_folder_without_a_latest_result(capsys, tmp_path):
    line = _one_line_error(capsys, ["report", str(tmp_path)])
    assert line.endswith("no .last_result.json in this folder; pass a file")
    (tmp_path / ".last_result.json").write_text('{"latest_backtest": "gone.zip"}')
    assert _one_line_error(capsys, ["report", str(tmp_path)]).endswith("gone.zip: no such file")


def test_malformed_trades_and_invalid_settings(capsys, tmp_path):
    path = tmp_path / "result.zip"
    main_json, config_json = _export([{"open_rate": 0.1}])
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("r.json", main_json)
        archive.writestr("r_config.json", config_json)
    assert "strategy S has malformed trades" in _one_line_error(capsys, ["report", str(path)])
    main_json, config_json = _export([], {"exit_brain": {"tp_profile": [2.0]}})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("r.json", main_json)
        archive.writestr("r_config.json", config_json)
    line = _one_line_error(capsys, ["report", str(path)])
    assert "its exit_brain settings are invalid" in line
    assert "tp_profile[0] must be in (0, 1], was 2.0" in line


def test_unreadable_config_for_a_database(capsys, tmp_path):
    database = tmp_path / "t.sqlite"
    database.write_bytes(b"")
    config = tmp_path / "config.json"
    config.write_text("{not json")
    line = _one_line_error(capsys, ["report", str(database), "--config", str(config)])
    assert "config.json: not a readable JSON config" in line


def test_empty_file_named_like_a_database(capsys, tmp_path):
    database = tmp_path / "t.sqlite"
    database.write_bytes(b"")
    line = _one_line_error(capsys, ["report", str(database)])
    assert line.endswith("not a freqtrade trade database (no such table: trades)")
