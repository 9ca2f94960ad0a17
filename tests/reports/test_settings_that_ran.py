"""Reports say which settings they replay, and refuse a database the brain never managed."""

import json
import shutil
import zipfile

import pytest

from exit_brain_plugin.adapter.tools.cli import main
from exit_brain_plugin.reports.sources import load_backtest
from tests.reports.test_database import START, _order, _trade, trade_db  # noqa: F401


def test_report_on_a_database_without_the_brain_is_a_one_line_error(tmp_path, capsys):
    pytest.importorskip("freqtrade")
    from freqtrade.persistence import Trade, init_db
    from freqtrade.persistence.usedb_context import enable_database_use

    enable_database_use()
    path = tmp_path / "tradesv3.sqlite"
    init_db(f"sqlite:///{path}")
    trade = _trade(
        "ETH/BTC", open_rate=0.1, amount=0.5, stop=0.08, step=(1e-6, 0.001), exit_reason="roi"
    )
    trade.orders = [
        _order(trade, "buy", "ema", 0.5, 0.1, 0),
        _order(trade, "sell", "roi", 0.5, 0.102, 60),
    ]
    Trade.session.add(trade)
    Trade.commit()
    Trade.session.remove()
    assert main(["report", str(path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"exit-brain: {path}: no position in this database was managed by Exit Brain (no "
        "exit_brain state is stored with any of its trades): run the strategy with "
        "ExitBrainMixin, or report on a database of a strategy that uses it"
    )


def test_report_on_a_database_without_config_says_it_replays_the_defaults(trade_db, capsys):  # noqa: F811
    assert main(["report", str(trade_db)]) == 0
    out = capsys.readouterr().out
    assert (
        "settings replayed (the default settings (docs/behaviour.md §2): no --config given, "
        "pass the config the bot ran with): enabled=True" in out
    )
    assert main(["report", str(trade_db), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out).values()
    assert summary["settings"]["tp_distances"] == [0.01, 0.02, 0.04]


def test_report_and_plot_of_an_export_use_its_parameter_file(hand_built, tmp_path, capsys):
    # freqtrade stores the strategy's parameter file in the export zip (<stem>_<Strategy>.json)
    # when one was loaded; here a tuned scale 1.5 and loss guard 10 %.
    source = hand_built["zips"]["on"]
    tuned = tmp_path / source.name
    shutil.copy(source, tuned)
    stem = tuned.stem
    params = {
        "strategy_name": "ExitBrainTestStrategy",
        "params": {"exitbrain": {"eb_tp_distance_scale": 1.5, "eb_max_unrealized_loss_pct": 10.0}},
    }
    with zipfile.ZipFile(tuned, "a") as archive:
        archive.writestr(f"{stem}_ExitBrainTestStrategy.json", json.dumps(params))
    (trade_set,) = load_backtest(tuned)
    assert trade_set.config.tp_distances == pytest.approx((0.015, 0.03, 0.06))
    assert trade_set.config.max_unrealized_loss_pct == 10.0
    assert main(["report", str(tuned), "--json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out).values()
    assert summary["settings_source"] == (
        "the export's config with its parameter file "
        "(eb_tp_distance_scale=1.5, eb_max_unrealized_loss_pct=10.0)"
    )
    from exit_brain_plugin.adapter.tools.plot import build_figure, load_candles, select

    request = select(trade_set, "ETH/BTC", 1)
    traces = {
        t.name: t for t in build_figure(request, load_candles(request, hand_built["datadir"])).data
    }
    assert traces["TP1 level"].y[0] == pytest.approx(0.1015)
    assert traces["TP2 level"].y[0] == pytest.approx(0.103)
