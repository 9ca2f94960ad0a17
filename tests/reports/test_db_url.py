"""``exit-brain report`` / ``shadow`` take a db_url as freqtrade does; bad ones are one line.

The password of a URL is never printed. Reading is read-only: the models are bound to a
read-only connection (SQLite ``mode=ro``), so a report can never change a running bot's database.
"""

import pytest

from exit_brain_plugin.adapter.tools.cli import main
from tests.servers import free_port


def _one_line(capsys, argv):
    assert main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert captured.out == ""
    assert "hunter2" not in captured.err
    return lines[0]


@pytest.mark.parametrize("command", ["report", "shadow"])
def test_unreachable_server_names_db_url_and_hides_the_password(capsys, command):
    pytest.importorskip("psycopg")
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://bot:hunter2@127.0.0.1:{port}/trades"
    line = _one_line(capsys, [command, url])
    assert line.startswith(
        f"exit-brain: db_url postgresql+psycopg://bot:***@127.0.0.1:{port}/trades: "
        "cannot open the database ("
    )
    assert "refused" in line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nosuchdb://bot:hunter2@host/x", "no SQLAlchemy driver for it"),
        ("postgresql+nosuchdriver://bot:hunter2@host/x", "no SQLAlchemy driver for it"),
        ("sqlite:///", "names no database file"),
        ("sqlite:////nonexistent/dir/trades.sqlite", "no such file"),
    ],
    ids=["unknown dialect", "unknown driver", "sqlite without a file", "missing sqlite file"],
)
def test_bad_db_urls_are_one_line_errors(capsys, url, expected):
    pytest.importorskip("freqtrade")
    line = _one_line(capsys, ["shadow", url])
    assert line.startswith("exit-brain: db_url ")
    assert expected in line


def test_the_report_binds_freqtrade_to_a_read_only_connection(tmp_path, capsys):
    pytest.importorskip("freqtrade")
    from freqtrade.persistence import Trade, init_db
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from exit_brain_plugin.adapter.tools.tradedb import opened

    path = tmp_path / "trades.sqlite"
    init_db(f"sqlite:///{path}")
    Trade.session.remove()
    with opened(str(path)) as shown:
        assert shown == f"sqlite:///{path}"
        with pytest.raises(OperationalError, match="readonly"):
            Trade.session.execute(text("DELETE FROM trades"))
    # The bot's own binding is back afterwards.
    assert str(Trade.session.get_bind().url) == f"sqlite:///{path}"
    Trade.session.remove()
