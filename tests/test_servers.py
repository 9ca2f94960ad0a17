"""The real-server helpers themselves: a PostgreSQL cluster and a Prometheus that answer."""

import pytest

from tests.servers import postgres_server, prometheus_server, query_prometheus, require_binary


def test_postgres_server_answers_a_query() -> None:
    psycopg = pytest.importorskip("psycopg")
    with postgres_server() as server:
        url = server.create_database("exit_brain_probe")
        assert url.endswith(f"127.0.0.1:{server.port}/exit_brain_probe")
        with psycopg.connect(
            f"host=127.0.0.1 port={server.port} user=postgres dbname=exit_brain_probe"
        ) as connection:
            row = connection.execute("select 6 * 7").fetchone()
    assert row == (42,)


def test_prometheus_server_scrapes_itself() -> None:
    require_binary("prometheus", "prometheus")
    with prometheus_server(scrape_targets=[]) as server:
        body = query_prometheus(server, "vector(3)")
    assert body["status"] == "success"
    assert body["data"]["result"][0]["value"][1] == "3"
