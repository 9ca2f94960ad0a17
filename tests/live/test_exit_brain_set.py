"""``exit-brain set`` against freqtrade's real REST API server of a running dry-run bot.

The bot is freqtrade's ``Worker`` on a config file with ``api_server`` enabled on a free
127.0.0.1 port with credentials: its ``FreqtradeBot`` starts freqtrade's ``ApiServer``
(uvicorn in its own thread) for real. ``exit-brain set`` runs in the test's process and talks
HTTP to that server through ``freqtrade-client``. ``/api/v1/reload_config`` sets the bot's state
to RELOAD_CONFIG, and the test then does what ``Worker.run`` does in its loop (``_reconfigure``,
``startup``), because the harness drives the loop itself, one ``process()`` per step.
"""

import json
import logging
import re
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from freqtrade.enums import State
from freqtrade.rpc.api_server import ApiServer
from freqtrade_client import FtRestClient

from exit_brain_plugin.adapter import metrics
from exit_brain_plugin.adapter.tools.admin import API_TIMEOUT_SECONDS
from exit_brain_plugin.adapter.tools.cli import main
from tests.live.bot_harness import brain_lines, exit_orders, write_config_file


USERNAME = "trader"
PASSWORD = "pw-5d1c0e7b-never-printed"  # noqa: S105 - a test credential
WRONG_PASSWORD = "pw-wrong-0a9f-never-printed"  # noqa: S105 - a test credential
STRATEGY = "ExitBrainLiveStrategy"
GUARD_STOP = 0.087676  # entry 0.1, -12.5 % PnL fees in (tests/live/test_settings_and_modes.py)
GUARD_STOP_5 = 0.095191  # the same at -5 %
BREAKEVEN = 0.1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _api_server(port: int) -> dict:
    return {
        "enabled": True,
        "listen_ip_address": "127.0.0.1",
        "listen_port": port,
        "verbosity": "error",
        "username": USERNAME,
        "password": PASSWORD,
        "jwt_secret_key": "exit-brain-test-jwt-secret-0123456789abcdef",
        "CORS_origins": [],
    }


@dataclass
class ApiBot:
    config_file: Path
    port: int
    metrics_port: int

    def threshold_metric(self) -> float:
        """The exporter's ``exit_brain_max_unrealized_loss_pct``, scraped over HTTP."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode("utf-8")
        found = re.search(r"^exit_brain_max_unrealized_loss_pct ([0-9.e+-]+)$", text, re.M)
        assert found, text
        return float(found.group(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, password: str = PASSWORD) -> FtRestClient:
        return FtRestClient(self.url, USERNAME, password, timeout=API_TIMEOUT_SECONDS)


@pytest.fixture
def api_bot(live, caplog) -> Iterator[ApiBot]:
    """A dry-run bot (freqtrade's Worker) with its REST API on a free loopback port."""
    caplog.set_level(logging.DEBUG)  # every logger, to prove no password reaches any record
    port, metrics_port = _free_port(), _free_port()
    config_file = write_config_file(
        live.tmp_path / "config.json",
        live.tmp_path,
        strategy=STRATEGY,
        api_server=_api_server(port),
    )
    # The exporter on too, as a trader watching the threshold in force would run it.
    data = json.loads(config_file.read_text(encoding="utf-8"))
    data["exit_brain"]["metrics"] = {"enabled": True, "host": "127.0.0.1", "port": metrics_port}
    config_file.write_text(json.dumps(data, indent=2), encoding="utf-8")
    try:
        live.start_worker(config_file)
        yield ApiBot(config_file=config_file, port=port, metrics_port=metrics_port)
    finally:
        live.stop_bot()  # FreqtradeBot.cleanup → RPCManager → ApiServer.cleanup: uvicorn stops
        ApiServer.shutdown()  # forget freqtrade's singleton for the next test
        metrics.stop_exporter()


def _open_trade_at_guard(live) -> None:
    live.open_trade()
    live.step(0.097)  # -3.2 %: nothing
    trade = live.trade()
    assert trade.is_open
    assert trade.stop_loss == pytest.approx(GUARD_STOP, abs=1e-12)


def _set(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["set", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _follow_reload(live) -> None:
    """What ``Worker.run`` does once ``/reload_config`` has set the state."""
    assert live.bot.state == State.RELOAD_CONFIG
    worker = live.worker
    live.bot = None
    worker._reconfigure()  # cleanup, re-read the config files, a new FreqtradeBot and strategy
    assert worker.freqtrade.state == State.RUNNING
    worker.freqtrade.startup()  # Worker._worker: the state changed to RUNNING
    live.bot = worker.freqtrade


def _assert_no_secret(caplog, *outputs: str) -> None:
    for secret in (PASSWORD, WRONG_PASSWORD):
        for output in outputs:
            assert secret not in output
        for record in caplog.records:
            assert secret not in record.getMessage(), record.name
            assert secret not in repr(record.args), record.name
            assert secret not in (record.exc_text or ""), record.name


def test_set_reaches_the_open_trades_stop_on_the_next_loop(live, api_bot, capsys, caplog):
    _open_trade_at_guard(live)
    original = api_bot.config_file.read_bytes()
    assert api_bot.threshold_metric() == 12.5

    code, out, err = _set(capsys, "max_unrealized_loss_pct=5", "--config", str(api_bot.config_file))

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "exit-brain: exit_brain.max_unrealized_loss_pct: 12.5 → 5",
        f"exit-brain: wrote {api_bot.config_file} (previous version kept as "
        f"{api_bot.config_file}.bak)",
        f"exit-brain: bot 'exit-brain-spot' (strategy {STRATEGY}, state running) at "
        f"{api_bot.url} answered reload_config: Reloading config ...",
    ]
    written = json.loads(api_bot.config_file.read_text(encoding="utf-8"))
    before = json.loads(original)
    assert written["exit_brain"] == {**before["exit_brain"], "max_unrealized_loss_pct": 5}
    assert {k: v for k, v in written.items() if k != "exit_brain"} == {
        k: v for k, v in before.items() if k != "exit_brain"
    }
    assert (api_bot.config_file.parent / "config.json.bak").read_bytes() == original
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP, abs=1e-12)  # not before the loop

    _follow_reload(live)
    assert live.strategy.eb_config.max_unrealized_loss_pct == 5.0
    assert live.strategy.eb_settings().max_unrealized_loss_pct == 5.0
    settings = [line for line in brain_lines(caplog) if line.startswith("[EXIT_BRAIN_EXECUTOR] S")]
    assert "max_unrealized_loss_pct=5.0" in settings[-1]
    # The reloaded bot's API answers again (uvicorn restarted on the same port).
    assert api_bot.client().show_config()["bot_name"] == "exit-brain-spot"

    live.step(0.097)  # the next bot loop: the guard's stop moves to the new threshold's price
    trade = live.trade()
    assert trade.is_open
    assert trade.stop_loss == pytest.approx(GUARD_STOP_5, abs=1e-12)
    assert api_bot.threshold_metric() == 5.0  # the same exporter shows the threshold in force
    live.step(0.0949)
    trade = live.trade()
    assert not trade.is_open
    assert trade.exit_reason == "exit_brain_loss_guard"
    _assert_no_secret(caplog, out, err)


def test_set_never_loosens_a_ratcheted_stop(live, api_bot, capsys):
    live.open_trade()
    live.step(0.1011)  # TP1 fills: the stop ratchets to breakeven
    assert exit_orders(live.trade()) == [("exit_brain_tp1", "closed", 0.125)]
    assert live.trade().stop_loss == pytest.approx(BREAKEVEN, abs=1e-12)

    code, _, err = _set(capsys, "max_unrealized_loss_pct=5", "--config", str(api_bot.config_file))
    assert (code, err) == (0, "")
    _follow_reload(live)
    live.step(0.1005)
    assert live.strategy.eb_config.max_unrealized_loss_pct == 5.0
    # The guard's new price (below 0.0952) is looser than breakeven: the ratchet stays.
    assert live.trade().stop_loss == pytest.approx(BREAKEVEN, abs=1e-12)


def test_a_raised_threshold_does_not_loosen_the_stop_freqtrade_holds(live, api_bot, capsys):
    _open_trade_at_guard(live)
    code, _, err = _set(capsys, "max_unrealized_loss_pct=20", "--config", str(api_bot.config_file))
    assert (code, err) == (0, "")
    _follow_reload(live)
    live.step(0.097)
    assert live.strategy.eb_config.max_unrealized_loss_pct == 20.0
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP, abs=1e-12)


def test_a_bad_value_leaves_the_file_and_the_bot_unchanged(live, api_bot, capsys, caplog):
    _open_trade_at_guard(live)
    original = api_bot.config_file.read_bytes()

    code, out, err = _set(
        capsys, "max_unrealized_loss_pct=-1", "--config", str(api_bot.config_file)
    )

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "exit-brain: exit_brain.max_unrealized_loss_pct must be in (0, 100], was -1 "
        f"({api_bot.config_file} unchanged)"
    ]
    assert api_bot.config_file.read_bytes() == original
    assert not (api_bot.config_file.parent / "config.json.bak").exists()
    assert live.bot.state == State.RUNNING  # never asked to reload
    live.step(0.097)
    assert live.strategy.eb_config.max_unrealized_loss_pct == 12.5
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP, abs=1e-12)
    _assert_no_secret(caplog, out, err)


def test_wrong_credentials_are_refused_and_the_bot_is_not_reloaded(live, api_bot, capsys, caplog):
    _open_trade_at_guard(live)
    code, out, err = _set(
        capsys,
        "max_unrealized_loss_pct=5",
        "--config",
        str(api_bot.config_file),
        "--password",
        WRONG_PASSWORD,
    )
    assert (code, out) == (3, "")
    assert err.splitlines() == [
        f"exit-brain: {api_bot.config_file} was written (backup {api_bot.config_file}.bak) and "
        f"the bot was NOT reloaded: the freqtrade API at {api_bot.url} refused the credentials "
        "(HTTP 401): use the bot's api_server.username and api_server.password "
        "(or --username/--password)"
    ]
    # What freqtrade's server answers a wrong password (HTTP basic auth), and the right one.
    assert api_bot.client(WRONG_PASSWORD).show_config() == {"detail": "Unauthorized"}
    assert api_bot.client().show_config()["state"] == "running"
    assert live.bot.state == State.RUNNING
    live.step(0.097)
    assert live.strategy.eb_config.max_unrealized_loss_pct == 12.5
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP, abs=1e-12)
    _assert_no_secret(caplog, out, err)


def test_a_config_the_bot_does_not_run_is_refused(live, api_bot, capsys, caplog):
    _open_trade_at_guard(live)
    other = api_bot.config_file.with_name("other-bot.json")
    data = json.loads(api_bot.config_file.read_text(encoding="utf-8"))
    other.write_text(json.dumps({**data, "bot_name": "exit-brain-futures"}, indent=4) + "\n")

    code, out, err = _set(capsys, "max_unrealized_loss_pct=5", "--config", str(other))

    assert (code, out) == (3, "")
    assert err.splitlines() == [
        f"exit-brain: {other} was written (backup {other}.bak) and the bot was NOT reloaded: "
        f"the freqtrade API at {api_bot.url} answers for a bot that does not run this config: "
        "its bot_name is 'exit-brain-spot', the file's is 'exit-brain-futures'; point --config "
        "at the file that bot runs, or --api-url at the bot that runs this file"
    ]
    assert live.bot.state == State.RUNNING
    live.step(0.097)
    assert live.strategy.eb_config.max_unrealized_loss_pct == 12.5
    assert live.trade().stop_loss == pytest.approx(GUARD_STOP, abs=1e-12)
    _assert_no_secret(caplog, out, err)


def test_no_server_says_the_file_was_written_and_the_bot_not_reloaded(tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    port = _free_port()  # nothing listens there
    config_file = write_config_file(
        tmp_path / "config.json", tmp_path, api_server=_api_server(port)
    )

    code, out, err = _set(capsys, "max_unrealized_loss_pct=5", "--config", str(config_file))

    assert (code, out) == (3, "")
    assert err.splitlines() == [
        f"exit-brain: {config_file} was written (backup {config_file}.bak) and the bot was NOT "
        f"reloaded: could not reach the freqtrade API at http://127.0.0.1:{port} (connection "
        "refused: is the bot running with api_server enabled there?)"
    ]
    assert json.loads(config_file.read_text())["exit_brain"]["max_unrealized_loss_pct"] == 5
    _assert_no_secret(caplog, out, err)
