"""Report tests. Pure ones run anywhere; the fixtures that drive freqtrade skip without it.

Every test using one of those fixtures is marked ``integration`` (as tests/integration are).
"""

import json
from pathlib import Path
from typing import Any

import pytest


FREQTRADE_FIXTURES = frozenset({"hand_built", "trade_db", "shipped_userdir"})
REPO = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/reports/" in str(item.fspath) and FREQTRADE_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def hand_built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the hand-built scenario once per compared variant; export two of them.

    :return: ``runs`` (variant key -> export-shaped strategy stats), ``zips`` (``on`` and
        ``guard_off`` export files), ``datadir`` (the scenario's candles)
    """
    pytest.importorskip("freqtrade")
    from exit_brain_plugin.adapter.tools.compare import variants
    from exit_brain_plugin.core import parse_config
    from tests.reports import scenario

    root = tmp_path_factory.mktemp("hand_built")
    stats: dict[str, Any] = {}
    zips: dict[str, Path] = {}
    settings = parse_config(scenario.config()["exit_brain"])
    for variant in variants(settings):
        run = scenario.run(**variant.overrides)
        stats[variant.key] = json.loads(json.dumps(scenario.export_trades(run), default=str))
        if variant.key in ("on", "guard_off"):
            zips[variant.key] = scenario.export(run, root / variant.key)
    datadir = root / "data"
    scenario.write_candles(datadir)
    return {"runs": stats, "zips": zips, "datadir": datadir, "variants": variants(settings)}
