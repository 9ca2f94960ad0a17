"""Metrics end to end: freqtrade's dry-run bot loop serves them, a real Prometheus scrapes them.

Entry 0.1 with 0.05 BTC (0.5 ETH): TP1 0.101 (25 %), TP2 0.102 (25 % of the rest), TP3 0.104;
after TP1 the stop is at breakeven (0.1), after TP2 at TP1's price (0.101).

Prometheus (Debian's ``prometheus``) runs on 127.0.0.1 with a 1 s scrape interval and the
shipped rules; every wait is bounded. The bot's clock is time_machine's, Prometheus's is real:
the tests wait (at most 30 s) until Prometheus's answer is the expected one.
"""

import json
import logging
import re
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from exit_brain_plugin.adapter import metrics
from tests.live.bot_harness import brain_lines, exit_orders, freqtrade_lines, make_config
from tests.servers import (
    PrometheusServer,
    free_port,
    prometheus_server,
    query_prometheus,
    wait_for,
)


REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "monitoring" / "prometheus" / "exit_brain_rules.yml"
DASHBOARD = REPO / "monitoring" / "grafana" / "dashboards" / "exit_brain.json"
TP1_TICK = 0.1011
# Grafana's variables in the dashboard's queries, as Grafana would fill them.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$pair": ".*",
    "$instance": ".*",
}


@pytest.fixture(autouse=True)
def _fresh_notification_counts():
    # The day's fire count and the error quiet time are per process (they survive a reload):
    # each test starts as a fresh process.
    from exit_brain_plugin.adapter import notify

    notify._fires_by_day.clear()
    notify._last_error_at.clear()


@pytest.fixture
def port():
    """A free loopback port for the exporter; the exporter is stopped after the test."""
    yield free_port()
    metrics.stop_exporter()


def _brain(port: int, **settings: Any) -> dict[str, Any]:
    section = json.loads((REPO / "config.json").read_text(encoding="utf-8"))["exit_brain"]
    return {**section, "metrics": {"enabled": True, "host": "127.0.0.1", "port": port}, **settings}


def _series(server: PrometheusServer, promql: str) -> dict[tuple[tuple[str, str], ...], float]:
    answer = query_prometheus(server, promql)
    assert answer["status"] == "success", answer
    result = {}
    for sample in answer["data"]["result"]:
        labels = tuple(
            sorted(
                (k, v)
                for k, v in sample["metric"].items()
                if k not in ("__name__", "job", "instance")
            )
        )
        result[labels] = float(sample["value"][1])
    return result


def _wait_answer(server: PrometheusServer, promql: str, expected: dict[Any, float]) -> None:
    """Wait until Prometheus answers ``expected`` (label tuples -> value) for ``promql``."""
    seen: dict[str, Any] = {}

    def check() -> bool:
        seen["answer"] = _series(server, promql)
        return seen["answer"] == expected

    try:
        wait_for(check, f"prometheus answer to {promql}", timeout=30)
    except TimeoutError:
        pytest.fail(f"{promql}: expected {expected}, Prometheus answered {seen.get('answer')}")


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _scrape(port: int) -> str:
    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def _dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            queries.append(expr)
    return queries


def _rule_queries() -> list[str]:
    text = RULES.read_text(encoding="utf-8")
    return [match.strip() for match in re.findall(r"^\s+expr: (.+)$", text, flags=re.MULTILINE)]


def test_prometheus_sees_the_ladder_the_ratchets_and_the_stop_exit_of_a_dry_run_position(
    live, port, caplog
):
    live.start_bot(brain=_brain(port))
    pair = _labels(pair="ETH/BTC", side="long")
    with prometheus_server([f"127.0.0.1:{port}"], rule_files=[RULES]) as prometheus:
        live.open_trade()
        live.step(0.1005)
        _wait_answer(
            prometheus,
            "exit_brain_open_positions",
            {_labels(mode="act"): 1.0, _labels(mode="observe"): 0.0},
        )
        _wait_answer(prometheus, "exit_brain_position_remaining_ratio", {pair: 1.0})
        _wait_answer(prometheus, "exit_brain_max_unrealized_loss_pct", {(): 12.5})

        live.step(TP1_TICK)  # TP1 fills: 0.125 closed, stop to breakeven
        live.step(0.102)  # TP2 fills at its price: 0.093 closed, stop to TP1's price
        trade = live.trade()
        assert exit_orders(trade) == [
            ("exit_brain_tp1", "closed", 0.125),
            ("exit_brain_tp2", "closed", 0.093),
        ]
        assert trade.stop_loss == pytest.approx(0.101)
        live.step(0.102)  # the gauges are set at each loop's evaluation
        _wait_answer(
            prometheus, "exit_brain_position_remaining_ratio", {pair: pytest.approx(0.282 / 0.5)}
        )
        _wait_answer(
            prometheus,
            "exit_brain_position_stop_distance_ratio",
            {pair: pytest.approx((0.102 - 0.101) / 0.102)},
        )

        live.step(0.1009)  # below TP1's price: the ratcheted stop closes the rest
        trade = live.trade()
        assert not trade.is_open
        assert live.state()["exit_kind"] == "stop:tp1"

        _wait_answer(
            prometheus,
            "exit_brain_take_profit_fills_total",
            {
                _labels(pair="ETH/BTC", side="long", level="1"): 1.0,
                _labels(pair="ETH/BTC", side="long", level="2"): 1.0,
                _labels(pair="ETH/BTC", side="long", level="3"): 0.0,
            },
        )
        _wait_answer(
            prometheus,
            "exit_brain_ratchets_total",
            {
                _labels(pair="ETH/BTC", side="long", to="breakeven"): 1.0,
                _labels(pair="ETH/BTC", side="long", to="tp1"): 1.0,
            },
        )
        _wait_answer(
            prometheus,
            "exit_brain_stop_exits_total",
            {_labels(pair="ETH/BTC", side="long", kind="tp1"): 1.0},
        )
        _wait_answer(prometheus, "exit_brain_loss_guard_fires_total", {pair: 0.0})
        _wait_answer(prometheus, "sum(exit_brain_errors_total)", {(): 0.0})
        _wait_answer(prometheus, "sum(exit_brain_state_repairs_total)", {(): 0.0})
        # The closed position's gauges are gone; the count by mode is back to 0.
        _wait_answer(prometheus, "exit_brain_position_remaining_ratio", {})
        _wait_answer(prometheus, "exit_brain_position_unrealized_pnl_ratio", {})
        _wait_answer(
            prometheus,
            "exit_brain_open_positions",
            {_labels(mode="act"): 0.0, _labels(mode="observe"): 0.0},
        )
        _wait_answer(
            prometheus,
            "exit_brain_info",
            {_labels(version=_version(), mode="act"): 1.0},
        )
        assert (
            _series(prometheus, 'sum(exit_brain_evaluation_seconds_count{callback="custom_exit"})')[
                ()
            ]
            > 0
        )

        # One source of truth: each counted event is one log line.
        lines = brain_lines(caplog)
        assert sum("Updated state after TP1 -" in line for line in lines) == 1
        assert sum("Updated state after TP2 -" in line for line in lines) == 1
        assert sum("SL ratcheted" in line for line in lines) == 2
        assert sum("Stopped out at the tp1 stop @ $0.1009" in line for line in lines) == 1

        # Every query of the dashboard and of the rules evaluates without error.
        queries = _dashboard_queries() + _rule_queries()
        assert len(queries) >= 20
        for promql in queries:
            answer = query_prometheus(prometheus, promql)
            assert answer["status"] == "success", (promql, answer)
            assert not answer.get("warnings"), (promql, answer)


def _version() -> str:
    from exit_brain_plugin import __version__

    return __version__


def test_the_exporter_serves_the_threshold_and_the_info_line(live, port):
    live.start_bot(brain=_brain(port, max_unrealized_loss_pct=10.0))
    text = _scrape(port)
    assert "exit_brain_max_unrealized_loss_pct 10.0" in text
    assert f'exit_brain_info{{mode="act",version="{_version()}"}} 1.0' in text
    assert "# TYPE exit_brain_evaluation_seconds histogram" in text
    # Its own registry: nothing of prometheus-client's default one, in either direction.
    from prometheus_client import REGISTRY

    assert "python_gc_objects_collected_total" not in text
    assert REGISTRY.get_sample_value("exit_brain_max_unrealized_loss_pct") is None


def test_a_taken_port_stops_the_bot_at_startup_naming_the_key(live, port):
    from freqtrade.exceptions import ConfigurationError

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen(1)
        with pytest.raises(ConfigurationError) as raised:
            live.start_bot(brain=_brain(port))
    message = str(raised.value)
    assert message.startswith(f"exit_brain.metrics.port: cannot serve metrics on 127.0.0.1:{port}")
    assert "choose a free port in exit_brain.metrics.port" in message
    assert metrics.exporter_address() is None


def test_the_exporter_thread_dying_does_not_stop_trading(live, port, caplog):
    live.start_bot(brain=_brain(port))
    live.open_trade()
    assert "exit_brain_open_positions" in _scrape(port)
    exporter = metrics._exporter
    assert exporter is not None
    exporter.server.shutdown()  # the serving thread ends
    exporter.thread.join(timeout=5)
    assert not exporter.thread.is_alive()

    caplog.clear()
    live.step(0.1005)
    live.step(TP1_TICK)  # the bot goes on: TP1 fills, the stop ratchets
    trade = live.trade()
    assert exit_orders(trade) == [("exit_brain_tp1", "closed", 0.125)]
    assert trade.stop_loss == pytest.approx(0.1)
    errors = [
        record.getMessage()
        for record in caplog.records
        if record.name == "exit_brain" and record.levelno == logging.ERROR
    ]
    assert errors == [
        f"[EXIT_BRAIN_EXECUTOR] The metrics exporter on 127.0.0.1:{port} stopped; trading goes "
        "on without /metrics until the bot restarts (or /reload_config) - see the exporter's "
        "traceback above"
    ]  # once, not on every loop


def test_a_reload_keeps_the_one_exporter_and_the_threshold_gauge_follows_the_new_config(
    live, port, tmp_path
):
    from tests.live.bot_harness import write_config_file

    config_file = tmp_path / "config.json"
    write_config_file(config_file, tmp_path, exit_brain=_brain(port))
    live.start_worker(config_file)
    first = metrics._exporter
    assert first is not None
    assert "exit_brain_max_unrealized_loss_pct 12.5" in _scrape(port)

    write_config_file(config_file, tmp_path, exit_brain=_brain(port, max_unrealized_loss_pct=9.0))
    live.reload_config()
    assert metrics._exporter is first  # the same server, not a second one
    assert first.thread.is_alive()
    live.open_trade()
    assert "exit_brain_max_unrealized_loss_pct 9.0" in _scrape(port)


def test_metrics_off_serves_nothing(live, port):
    live.start_bot(brain={"metrics": {"enabled": False, "port": port}})
    assert metrics.exporter_address() is None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_backtests_never_start_the_exporter(port, tmp_path):
    from freqtrade.enums import RunMode

    from exit_brain_plugin.adapter.tools.offline import install_offline_markets

    install_offline_markets()
    config = make_config(tmp_path, brain=_brain(port))
    config["runmode"] = RunMode.BACKTEST
    from freqtrade.resolvers import StrategyResolver

    strategy = StrategyResolver.load_strategy(config)
    strategy.ft_bot_start()
    assert metrics.exporter_address() is None
    assert strategy.eb_metrics is None


def _futures_short_config(tmp_path: Path, port: int) -> dict[str, Any]:
    config = make_config(tmp_path, config_file=REPO / "config-futures.json", brain=_brain(port))
    config["strategy"] = "ExitBrainLiveShortStrategy"
    config["exchange"]["pair_whitelist"] = ["XRP/USDT:USDT"]
    config["stake_amount"] = 100
    config["dry_run_wallet"] = 1000
    return config


def _strategy_messages(caplog: Any) -> list[str]:
    # freqtrade's RPC manager logs each strategy message it hands to Telegram / webhooks
    # (those with allow_custom_messages) as "Sending rpc strategy_msg: ...".
    prefix = "Sending rpc strategy_msg: "
    return [line[len(prefix) :] for line in freqtrade_lines(caplog) if line.startswith(prefix)]


def test_prometheus_sees_the_loss_guard_fire_on_a_leveraged_short_and_the_trader_is_told(
    tmp_path, monkeypatch, port, caplog
):
    from tests.live.bot_harness import LiveHarness

    live = LiveHarness(tmp_path, monkeypatch, price=1.0)
    try:
        live.start_bot(config=_futures_short_config(tmp_path, port))
        pair = _labels(pair="XRP/USDT:USDT", side="short")
        with prometheus_server([f"127.0.0.1:{port}"], rule_files=[RULES]) as prometheus:
            live.strategy.live_enter = True
            live.step()
            live.strategy.live_enter = False
            trade = live.trade()
            assert (trade.is_short, trade.leverage, trade.amount) == (True, 10.0, 1000.0)
            live.walk([1.003, 1.006])  # PnL -4 %, -7 % at 10x: nothing
            _wait_answer(
                prometheus,
                "exit_brain_position_unrealized_pnl_ratio",
                {pair: pytest.approx(trade.calc_profit_ratio(1.006))},
            )
            _wait_answer(prometheus, "exit_brain_loss_guard_fires_total", {pair: 0.0})

            live.step(1.012)  # PnL -13.01 % <= -12.5 %: the guard closes the whole short
            trade = live.trade()
            assert not trade.is_open
            assert trade.exit_reason == "exit_brain_loss_guard"
            assert exit_orders(trade) == [("exit_brain_loss_guard", "closed", 1000.0)]
            live.step(1.012)

            _wait_answer(prometheus, "exit_brain_loss_guard_fires_total", {pair: 1.0})
            _wait_answer(
                prometheus, "exit_brain:loss_guard_fires:increase24h", {(): 1.0}
            )  # the shipped recording rule, evaluated by this server
            _wait_answer(prometheus, "exit_brain_stop_exits_total", {})
            _wait_answer(prometheus, "exit_brain_position_unrealized_pnl_ratio", {})
            lines = brain_lines(caplog)
            assert sum("LOSS GUARD TRIGGERED" in line for line in lines) == 1
        assert _strategy_messages(caplog) == [
            "Exit Brain [EXIT_LOSS_GUARD] 🚨 XRP/USDT:USDT SHORT: LOSS GUARD TRIGGERED - "
            "unrealized_pnl=-13.01% <= -12.50% (fire 1 today, UTC)"
        ]
    finally:
        live.close()


def _samples(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    values = {}
    for family in text_string_to_metric_families(_scrape(port)):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


def test_a_gap_counts_both_levels_and_errors_and_repairs_are_counted_with_their_lines(
    live, port, monkeypatch, caplog
):
    from exit_brain_plugin.adapter import runtime

    live.start_bot(brain=_brain(port))
    live.open_trade()
    live.step(0.1021)  # gaps over TP1 and TP2: one exit, two levels
    trade = live.trade()
    assert [tag for tag, _, _ in exit_orders(trade)] == ["exit_brain_tp1+tp2"]
    samples = _samples(port)
    for level, count in (("1", 1.0), ("2", 1.0), ("3", 0.0)):
        labels = _labels(pair="ETH/BTC", side="long", level=level)
        assert samples[("exit_brain_take_profit_fills_total", labels)] == count

    real = runtime.evaluate_position
    calls = {"n": 0}

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("simulated bug")
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime, "evaluate_position", fails_once)
    caplog.clear()
    live.step(0.1021)
    errors = [r for r in caplog.records if r.name == "exit_brain" and r.levelno == logging.ERROR]
    assert len(errors) == 1
    samples = _samples(port)
    assert samples[("exit_brain_errors_total", _labels(callback="custom_exit"))] == 1.0
    assert samples[("exit_brain_errors_total", _labels(callback="order_filled"))] == 0.0
    assert any(
        line.startswith("Sending rpc strategy_msg: ⚠️ Exit Brain error in custom_exit: ")
        for line in freqtrade_lines(caplog)
    )

    live.delete_custom_data()  # the state row vanishes under the running bot
    caplog.clear()
    live.step(0.1021)
    repairs = [line for line in brain_lines(caplog, logging.WARNING) if "filled orders" in line]
    assert len(repairs) == 1
    samples = _samples(port)
    assert samples[("exit_brain_state_repairs_total", _labels(reason="missing"))] == 1.0
    assert samples[("exit_brain_state_repairs_total", _labels(reason="amount_mismatch"))] == 0.0


def test_observe_mode_shows_its_positions_but_counts_no_fills(live, port, caplog):
    live.start_bot(brain=_brain(port, mode="observe"))
    live.open_trade()
    live.walk([0.1005, TP1_TICK])  # the brain would take TP1: logged, not executed
    assert exit_orders(live.trade()) == []
    assert any(
        "TP1 HIT" in line and line.endswith("[OBSERVE: not executed]")
        for line in brain_lines(caplog)
    )
    samples = _samples(port)
    assert samples[("exit_brain_open_positions", _labels(mode="observe"))] == 1.0
    assert samples[("exit_brain_open_positions", _labels(mode="act"))] == 0.0
    assert samples[("exit_brain_info", _labels(version=_version(), mode="observe"))] == 1.0
    assert not [name for name, _ in samples if name == "exit_brain_take_profit_fills_total"]
    assert not [name for name, _ in samples if name == "exit_brain_ratchets_total"]
    pnl = samples[
        ("exit_brain_position_unrealized_pnl_ratio", _labels(pair="ETH/BTC", side="long"))
    ]
    assert pnl == pytest.approx(live.trade().calc_profit_ratio(TP1_TICK))
