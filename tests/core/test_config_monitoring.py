"""The monitoring settings (docs/behaviour.md §9.1): ``metrics`` and ``notifications``."""

import pytest

from exit_brain_plugin.core import ConfigError, MetricsConfig, parse_config


INVALID = [
    pytest.param(
        {"metrics": 9464}, "exit_brain.metrics must be an object", "9464", id="not-object"
    ),
    pytest.param(
        {"metrics": {"port": 9464, "path": "/m"}},
        "exit_brain.metrics.path is not a known setting",
        "'/m'",
        id="unknown-key",
    ),
    pytest.param(
        {"metrics": {"enabled": "yes"}}, "exit_brain.metrics.enabled", "'yes'", id="enabled-str"
    ),
    pytest.param({"metrics": {"host": ""}}, "exit_brain.metrics.host", "''", id="host-empty"),
    pytest.param({"metrics": {"host": 127}}, "exit_brain.metrics.host", "127", id="host-number"),
    pytest.param({"metrics": {"port": 0}}, "exit_brain.metrics.port", "0", id="port-zero"),
    pytest.param({"metrics": {"port": 65536}}, "exit_brain.metrics.port", "65536", id="port-high"),
    pytest.param(
        {"metrics": {"port": 9464.5}}, "exit_brain.metrics.port", "9464.5", id="port-float"
    ),
    pytest.param({"metrics": {"port": True}}, "exit_brain.metrics.port", "True", id="port-bool"),
    pytest.param({"metrics": {"port": "9464"}}, "exit_brain.metrics.port", "'9464'", id="port-str"),
    pytest.param({"notifications": "off"}, "exit_brain.notifications", "'off'", id="notify-str"),
]


@pytest.mark.parametrize(("raw", "key", "shown"), INVALID)
def test_a_bad_monitoring_setting_names_its_key_and_value(raw, key, shown):
    with pytest.raises(ConfigError) as raised:
        parse_config(raw)
    message = str(raised.value)
    assert message.startswith(key)
    assert f"was {shown}" in message


def test_metrics_are_off_by_default_on_loopback_port_9464_and_notifications_on():
    config = parse_config({})
    assert config.metrics == MetricsConfig(enabled=False, host="127.0.0.1", port=9464)
    assert config.notifications is True


def test_monitoring_settings_parse_and_round_trip():
    raw = {"metrics": {"enabled": True, "host": "0.0.0.0", "port": 9500}, "notifications": False}  # noqa: S104
    config = parse_config(raw)
    assert config.metrics == MetricsConfig(enabled=True, host="0.0.0.0", port=9500)  # noqa: S104
    assert config.notifications is False
    assert parse_config(config.to_dict()) == config
    assert parse_config({"metrics": None}).metrics == MetricsConfig()
