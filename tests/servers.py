"""Real servers for the tests: PostgreSQL and Prometheus, started on 127.0.0.1 and stopped again.

Where a user runs a real server, the tests run the real one (Debian's ``postgresql`` and
``prometheus`` packages; the README's test command installs them where it runs as root). Each
server gets a free loopback port and a temporary directory, and every wait is bounded in time.

A missing binary skips the test with a reason naming the Debian package, except under
``CI=true``, where CI must run these tests: there a missing server is a failure.

PostgreSQL refuses to run as root: when the tests run as root, the cluster is created and run as
the ``postgres`` user (``runuser -u postgres -- …``), in a directory that user owns.
"""

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


START_TIMEOUT_SECONDS = 30.0


def in_ci() -> bool:
    """Return True when running under CI (``CI=true``), where no server test may skip."""
    return os.environ.get("CI", "").lower() == "true"


def require_binary(name: str, package: str, candidates: tuple[str, ...] = ()) -> str:
    """Return the path of ``name``; skip (fail under CI) naming the Debian package if missing."""
    found = shutil.which(name)
    if found is None:
        for pattern in candidates:
            matches = sorted(glob.glob(pattern))
            if matches:
                found = matches[-1]
                break
    if found is None:
        message = (
            f"needs `{name}` from the Debian package `{package}` "
            f"(apt-get install {package}; the README's test command installs it as root)"
        )
        if in_ci():
            pytest.fail(f"CI=true: {message}", pytrace=False)
        pytest.skip(message)
    return found


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    """Poll ``check`` every 0.1 s until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


# ----------------------------------------------------------------------------- PostgreSQL


@dataclass(frozen=True)
class PostgresServer:
    """A running temporary PostgreSQL cluster on 127.0.0.1 (superuser ``postgres``, trust)."""

    port: int
    bin_dir: Path

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """Return an SQLAlchemy URL (freqtrade ``db_url``, optuna storage) for ``database``."""
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its SQLAlchemy URL."""
        subprocess.run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return self.url(name)


def _as_postgres(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a temporary PostgreSQL cluster on a free loopback port; stop and delete it after."""
    initdb = require_binary("initdb", "postgresql", ("/usr/lib/postgresql/*/bin/initdb",))
    bin_dir = Path(os.path.realpath(initdb)).parent
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.fail("running as root needs `runuser` (util-linux) to start PostgreSQL")
    root = Path(tempfile.mkdtemp(prefix="exit-brain-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    root.chmod(0o700)
    port = free_port()
    log = root / "server.log"
    pg_ctl = str(bin_dir / "pg_ctl")
    try:
        subprocess.run(
            _as_postgres(
                [
                    initdb,
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            [
                *_as_postgres([pg_ctl, "-D", str(data), "-l", str(log), "-o", options]),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )
        yield PostgresServer(port=port, bin_dir=bin_dir)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(root, ignore_errors=True)


# ----------------------------------------------------------------------------- Prometheus


@dataclass(frozen=True)
class PrometheusServer:
    """A running Prometheus on 127.0.0.1 with its HTTP API at :attr:`url`."""

    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def promtool() -> str:
    """Return the path of ``promtool`` (skip / fail under CI naming the package)."""
    return require_binary("promtool", "prometheus")


@contextlib.contextmanager
def prometheus_server(
    scrape_targets: list[str],
    rule_files: Sequence[Path] = (),
    scrape_interval: str = "1s",
    job: str = "exit_brain",
) -> Iterator[PrometheusServer]:
    """Start Prometheus scraping ``scrape_targets`` (``host:port``) every ``scrape_interval``.

    Rule files are copied into the server's temporary directory; its data dir is deleted after.
    """
    binary = require_binary("prometheus", "prometheus")
    directory = Path(tempfile.mkdtemp(prefix="exit-brain-prom-"))
    copied = []
    for index, rule_file in enumerate(rule_files):
        target = directory / f"rules-{index}.yml"
        shutil.copyfile(rule_file, target)
        copied.append(str(target))
    targets = ", ".join(f"'{target}'" for target in scrape_targets)
    rules = "".join(f"\n  - '{path}'" for path in copied)
    (directory / "prometheus.yml").write_text(
        "global:\n"
        f"  scrape_interval: {scrape_interval}\n"
        f"  evaluation_interval: {scrape_interval}\n"
        + (f"rule_files:{rules}\n" if copied else "")
        + "scrape_configs:\n"
        f"  - job_name: '{job}'\n"
        f"    static_configs:\n      - targets: [{targets}]\n",
        encoding="utf-8",
    )
    port = free_port()
    log = (directory / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={directory / 'prometheus.yml'}",
            f"--storage.tsdb.path={directory / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = PrometheusServer(port=port, directory=directory)
    try:
        wait_for(
            lambda: _http_ok(f"{server.url}/-/ready") or process.poll() is not None, "prometheus"
        )
        if process.poll() is not None:
            raise RuntimeError(
                "prometheus exited: " + (directory / "prometheus.log").read_text("utf-8")[-2000:]
            )
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def query_prometheus(server: PrometheusServer, promql: str, path: str = "query") -> Any:
    """Return the JSON answer of Prometheus's HTTP API (``/api/v1/<path>?query=...``)."""
    url = f"{server.url}/api/v1/{path}?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback only
        return json.load(response)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
