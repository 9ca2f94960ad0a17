"""The brain on PostgreSQL: freqtrade's ``db_url`` pointing to a real server (Debian's
``postgresql``, a temporary cluster on a loopback port, see tests/servers.py).

The restart-mid-ladder and damaged-state scenarios of test_restart.py and test_state_recovery.py
run unchanged against it; two bots with separate databases on one server keep their own states;
``exit-brain report`` and ``exit-brain shadow`` read the bot's PostgreSQL database.
"""

import json
import uuid

import pytest

from exit_brain_plugin.adapter.tools.cli import main
from tests.live import test_restart as restart
from tests.live import test_state_recovery as recovery
from tests.live.bot_harness import LiveHarness, exit_orders
from tests.live.test_shadow_walk import check_observed_walk
from tests.servers import postgres_server


pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def pg():
    """One PostgreSQL server for the module; each test gets databases of its own."""
    with postgres_server() as server:
        yield server


def _database(pg, label):
    return pg.create_database(f"{label}_{uuid.uuid4().hex[:8]}")


@pytest.fixture
def live_pg(pg, tmp_path, monkeypatch):
    """The dry-run harness with the bot's ``db_url`` on the PostgreSQL server."""
    harness = LiveHarness(tmp_path, monkeypatch, db_url=_database(pg, "bot"))
    try:
        yield harness
    finally:
        harness.close()


def test_the_bot_runs_on_postgresql(live_pg):
    live_pg.start_bot()
    assert live_pg.bot.config["db_url"].startswith("postgresql+psycopg://")
    from freqtrade.persistence import Trade

    assert Trade.session.get_bind().dialect.name == "postgresql"


def test_restart_mid_ladder_on_postgresql(live_pg, caplog):
    restart.test_restart_after_tp1_recovers_the_state_keeps_breakeven_and_fires_tp2_at_its_price(
        live_pg, caplog
    )


def test_restart_with_a_changed_stoploss_on_postgresql(live_pg):
    restart.test_restart_with_a_changed_stoploss_restores_the_ratchet_before_any_stop_check(live_pg)


def test_exit_filled_while_down_on_postgresql(live_pg, caplog):
    restart.test_an_exit_filled_while_the_bot_was_down_is_booked_once_by_the_next_bot(
        live_pg, caplog
    )


@pytest.mark.parametrize("damage", list(recovery.CORRUPTIONS), ids=list(recovery.CORRUPTIONS))
def test_damaged_state_on_postgresql(live_pg, caplog, damage):
    recovery.test_damaged_state_is_rebuilt_from_the_orders_with_a_warning(live_pg, caplog, damage)


def test_state_deleted_under_the_running_bot_on_postgresql(live_pg, caplog):
    recovery.test_state_deleted_after_tp1_comes_back_with_the_hit_and_the_breakeven_stop(
        live_pg, caplog
    )


def test_two_bots_with_separate_databases_on_one_server_keep_their_own_states(
    pg, tmp_path, monkeypatch
):
    first, second = _database(pg, "bot_a"), _database(pg, "bot_b")
    harness = LiveHarness(tmp_path, monkeypatch, db_url=first)
    try:
        # Bot A: TP1 fills, its stop moves to breakeven.
        harness.start_bot()
        harness.open_trade()
        harness.walk([0.1005, 0.1011])
        assert exit_orders(harness.trade()) == [("exit_brain_tp1", "closed", 0.125)]
        state_a = harness.state(db_url=first)
        assert state_a["triggered_legs"] == [1]

        # Bot B on its own database: its trade 1 starts with a fresh ladder, although the
        # price is beyond TP1 and A's trade 1 has TP1 hit.
        harness.stop_bot()
        harness.db_url = second
        harness.start_bot()
        harness.step(0.1)
        harness.open_trade()
        state_b = harness.state(db_url=second)
        assert state_b["triggered_legs"] == []
        assert state_b["remaining_size"] == pytest.approx(0.5)
        harness.step(0.1011)
        assert exit_orders(harness.trade()) == [("exit_brain_tp1", "closed", 0.125)]
        assert harness.state(db_url=second)["tp_hits_count"] == 1
        assert harness.state(db_url=first) == state_a  # B never wrote to A's database

        # Bot A again: its state is its own; TP2 fires, not TP1 again.
        harness.stop_bot()
        harness.db_url = first
        harness.start_bot()
        harness.step(0.102)
        tags = [tag for tag, _, _ in exit_orders(harness.trade())]
        assert tags == ["exit_brain_tp1", "exit_brain_tp2"]
        assert harness.state(db_url=first)["tp_hits_count"] == 2
        assert harness.state(db_url=second)["tp_hits_count"] == 1
    finally:
        harness.close()


def test_report_and_shadow_read_a_postgresql_database(live_pg, caplog, capsys, monkeypatch):
    # The URL carries a password (trust auth ignores it): it must never be printed.
    url = live_pg.db_url.replace("postgres@", "postgres:s3cret-pw@")
    live_pg.db_url = url
    report = check_observed_walk(live_pg, caplog, capsys, monkeypatch, url)
    assert report["source"] == url.replace("s3cret-pw", "***")
    capsys.readouterr()
    assert main(["report", url, "--json"]) == 0
    output = capsys.readouterr().out
    (summary,) = json.loads(output).values()
    assert summary["trades"] == 1
    assert summary["exit_reasons"] == {"host_take_profit": 1}
    assert "s3cret-pw" not in output


def test_an_unknown_database_on_a_running_server_is_a_one_line_error(pg, capsys):
    url = pg.url("no_such_db").replace("postgres@", "postgres:hunter2@")
    assert main(["shadow", url]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("exit-brain: db_url postgresql+psycopg://postgres:***@127.0.0.1:")
    assert 'database "no_such_db" does not exist' in line
    assert "hunter2" not in captured.err + captured.out


def test_the_report_reads_postgresql_in_read_only_transactions(live_pg):
    from freqtrade.persistence import Trade
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from exit_brain_plugin.adapter.tools.tradedb import opened

    live_pg.start_bot()
    live_pg.open_trade()
    live_pg.stop_bot()
    with opened(live_pg.db_url):
        assert Trade.session.execute(text("SELECT count(*) FROM trades")).scalar() == 1
        with pytest.raises(DBAPIError, match="read-only transaction"):
            Trade.session.execute(text("DELETE FROM trades"))
