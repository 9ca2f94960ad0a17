"""``exit-brain set``: change ``exit_brain`` settings of a running bot (docs/behaviour.md §9.3).

1. Parse ``KEY=VALUE`` pairs. KEY is a key of the ``exit_brain`` section; a dotted KEY reaches
   into a nested object (``metrics.port=9465`` sets ``exit_brain.metrics.port``). VALUE is
   JSON (``5``, ``false``, ``[0.3,0.3,0.4]``, ``null``, ``"act"``); text that is not JSON is a
   string (``mode=observe``).
2. Validate the changed section with the startup rules (:func:`parse_config`). A bad value
   raises :class:`SetError` naming the key and the allowed range; the file is not touched.
3. Write the file atomically (a temporary file in the same directory, then ``os.replace``),
   after keeping the previous version as ``<file>.bak``.
4. Ask the bot to reload through freqtrade's REST API (``POST /api/v1/reload_config``, with
   ``freqtrade-client``), after checking with ``GET /api/v1/show_config`` that the API answers
   for a bot that runs this config (same ``bot_name``, ``strategy``, exchange, trading mode and
   stake currency, for each of them the file sets).

The API password is sent as HTTP basic auth and never printed or logged. This module imports
``freqtrade-client`` (a standalone package), never freqtrade itself, so the command starts fast.
"""

import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from exit_brain_plugin.core.config import SECTION, parse_config
from exit_brain_plugin.core.errors import ConfigError


BACKUP_SUFFIX = ".bak"
API_TIMEOUT_SECONDS = 10.0
# Exit codes: nothing changed (bad input), and file written but the bot not reloaded.
EXIT_UNCHANGED = 2
EXIT_NOT_RELOADED = 3
# show_config fields compared with the file's keys to recognise the bot that runs the file.
IDENTITY = (
    ("bot_name", ("bot_name",)),
    ("strategy", ("strategy",)),
    ("exchange", ("exchange", "name")),
    ("trading_mode", ("trading_mode",)),
    ("stake_currency", ("stake_currency",)),
)


class SetError(Exception):
    """A one-line refusal of ``exit-brain set``, with the process exit code."""

    def __init__(self, message: str, code: int = EXIT_UNCHANGED) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Assignment:
    """One ``KEY=VALUE`` of the command line, parsed."""

    path: tuple[str, ...]
    value: Any

    @property
    def key(self) -> str:
        return ".".join((SECTION, *self.path))


@dataclass(frozen=True, slots=True)
class ApiTarget:
    """Where the bot's REST API is and how to log in (the password is never shown)."""

    url: str
    username: str | None
    password: str | None = None

    def __repr__(self) -> str:
        return f"ApiTarget(url={self.url!r}, username={self.username!r}, password=<hidden>)"


def parse_assignments(items: Sequence[str]) -> list[Assignment]:
    """Return the parsed ``KEY=VALUE`` pairs.

    :raises SetError: on a pair without ``=`` or with an empty key segment
    """
    if not items:
        raise SetError(
            "nothing to set: give at least one KEY=VALUE, e.g. max_unrealized_loss_pct=8"
        )
    assignments = []
    for item in items:
        key, sep, text = item.partition("=")
        path = tuple(key.strip().split("."))
        if path[:1] == (SECTION,):  # "exit_brain.max_unrealized_loss_pct=8" is accepted too
            path = path[1:]
        if not sep or not path or any(not part for part in path):
            raise SetError(
                f"{item!r} is not KEY=VALUE: write e.g. max_unrealized_loss_pct=8, "
                "tp_profile=[0.3,0.3,0.4] or metrics.port=9465"
            )
        assignments.append(Assignment(path=path, value=_parse_value(text)))
    return assignments


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # not JSON: a string, so that mode=observe needs no quotes


def apply_assignments(
    section: Mapping[str, Any], assignments: Sequence[Assignment]
) -> dict[str, Any]:
    """Return a copy of ``section`` with the assignments made (dotted keys create objects).

    :raises SetError: when a dotted key goes through a value that is not an object
    """
    result: dict[str, Any] = json.loads(json.dumps(section))
    for assignment in assignments:
        node = result
        for depth, part in enumerate(assignment.path[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                where = ".".join((SECTION, *assignment.path[: depth + 1]))
                raise SetError(
                    f"{where} is {json.dumps(child)}, not an object: cannot set {assignment.key}; "
                    f"set {where} itself"
                )
            node = child
        node[assignment.path[-1]] = assignment.value
    return result


def _section_value(section: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = section
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return "(unset)"
        node = node[part]
    return node


def read_config(path: Path) -> tuple[str, dict[str, Any]]:
    """Return the file's text and its JSON object.

    :raises SetError: when the file is missing, unreadable, not plain JSON or not an object
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SetError(f"{path}: cannot read the config file ({error.strerror})") from error
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SetError(
            f"{path} is not plain JSON ({error}); freqtrade also accepts comments and trailing "
            "commas, which exit-brain set cannot keep: edit this file by hand and send "
            "/reload_config"
        ) from error
    if not isinstance(data, dict):
        raise SetError(f"{path} is not a freqtrade config (not a JSON object)")
    section = data.get(SECTION, {})
    if not isinstance(section, dict):
        raise SetError(f"{path}: {SECTION} must be an object of settings, was {section!r}")
    return text, data


def render(data: Mapping[str, Any], original: str) -> str:
    """Return ``data`` as JSON with the original file's indentation and final newline."""
    match = re.search(r"^( +|\t+)\S", original, flags=re.MULTILINE)
    indent: int | str = 4
    if match:
        indent = match.group(1) if match.group(1).startswith("\t") else len(match.group(1))
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return text + "\n" if original.endswith("\n") else text


def _write_atomically(path: Path, content: bytes, like: os.stat_result) -> None:
    # A temporary file in the same directory (same file system), flushed to disk, with the
    # original's permissions (config files hold exchange keys), then renamed over the target.
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, like.st_mode & 0o7777)
        # Not root: the file keeps our ownership, as any editor would leave it.
        with contextlib.suppress(PermissionError, AttributeError):
            os.chown(temporary, like.st_uid, like.st_gid)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def backup_path(config_path: Path) -> Path:
    """Return where ``exit-brain set`` keeps the previous version of ``config_path``."""
    return config_path.with_name(config_path.name + BACKUP_SUFFIX)


def write_config(config_path: Path, original: str, new_text: str) -> Path:
    """Keep ``original`` as ``<file>.bak``, then replace the file by ``new_text``; both atomic.

    :return: the backup's path
    """
    if config_path.is_symlink():
        # Replace the file the link points to and keep the link (a rename over the link
        # would turn it into a plain file, e.g. a config linked from a deployment folder).
        config_path = config_path.resolve()
    stat = config_path.stat()
    backup = backup_path(config_path)
    _write_atomically(backup, original.encode("utf-8"), stat)
    _write_atomically(config_path, new_text.encode("utf-8"), stat)
    return backup


def api_target(
    config: Mapping[str, Any], url: str | None, username: str | None, password: str | None
) -> ApiTarget | None:
    """Return the bot's API address and login: the arguments, else ``FREQTRADE__API_SERVER__*``
    environment variables, else the config's ``api_server`` section (``None`` when disabled).

    :raises SetError: on a URL that is not http(s) or that carries credentials
    """
    api = config.get("api_server") or {}
    username = username or os.environ.get("FREQTRADE__API_SERVER__USERNAME") or api.get("username")
    password = password or os.environ.get("FREQTRADE__API_SERVER__PASSWORD") or api.get("password")
    if url is None:
        if not api.get("enabled"):
            return None
        host = str(api.get("listen_ip_address") or "127.0.0.1")
        # A bot listening on every interface is reached on the loopback from the same host.
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        url = f"http://{host}:{api.get('listen_port', 8080)}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SetError(f"--api-url must look like http://127.0.0.1:8080, was {url!r}")
    if parts.username is not None or parts.password is not None:
        # Never echo it: the URL may carry the password.
        raise SetError("--api-url must not carry credentials: use --username and --password")
    return ApiTarget(url=url.rstrip("/"), username=username, password=password)


def _call(target: ApiTarget, client: Any, method: str) -> Any:
    import requests

    try:
        answer = getattr(client, method)()
    except requests.Timeout as error:
        raise SetError(
            f"the freqtrade API at {target.url} did not answer within {API_TIMEOUT_SECONDS:g} s"
        ) from error
    except requests.RequestException as error:
        if isinstance(error, requests.JSONDecodeError):
            raise SetError(
                f"{target.url} answered {method} with something that is not freqtrade's API "
                "(not JSON): check --api-url / api_server.listen_port"
            ) from error
        raise SetError(f"could not reach the freqtrade API at {target.url}") from error
    if answer is None:  # FtRestClient swallows connection errors and returns None
        raise SetError(
            f"could not reach the freqtrade API at {target.url} (connection refused: is the bot "
            "running with api_server enabled there?)"
        )
    if isinstance(answer, dict) and "detail" in answer:
        detail = answer["detail"]
        if detail in ("Unauthorized", "Could not validate credentials"):
            raise SetError(
                f"the freqtrade API at {target.url} refused the credentials (HTTP 401): use the "
                "bot's api_server.username and api_server.password (or --username/--password)"
            )
        raise SetError(f"the freqtrade API at {target.url} refused {method}: {detail}")
    return answer


def _file_value(config: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = config
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def check_identity(target: ApiTarget, shown: Mapping[str, Any], config: Mapping[str, Any]) -> None:
    """Refuse a bot whose ``show_config`` disagrees with the file on a field the file sets.

    :raises SetError: naming the field, the bot's value and the file's
    """
    for field, path in IDENTITY:
        expected = _file_value(config, path)
        if expected is None:
            continue  # the command line or another config file may set it
        running = shown.get(field)
        if running != expected:
            raise SetError(
                f"the freqtrade API at {target.url} answers for a bot that does not run this "
                f"config: its {field} is {running!r}, the file's is {expected!r}; point "
                "--config at the file that bot runs, or --api-url at the bot that runs this file"
            )


def reload_bot(target: ApiTarget, config: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """Check the bot behind ``target`` runs ``config``, then ask it to reload its config.

    :return: the bot's ``show_config`` and its answer to ``reload_config``
    :raises SetError: unreachable API, refused credentials, another bot, refused reload
    """
    from freqtrade_client import FtRestClient  # type: ignore[import-untyped]

    # FtRestClient logs a connection error as a WARNING of its own (no credentials in it);
    # without a handler Python would print it as a second line: the SetError says it.
    client_logger = logging.getLogger("ft_rest_client")
    if not any(isinstance(handler, logging.NullHandler) for handler in client_logger.handlers):
        client_logger.addHandler(logging.NullHandler())

    client = FtRestClient(target.url, target.username, target.password, timeout=API_TIMEOUT_SECONDS)
    try:
        shown = _call(target, client, "show_config")
        if not isinstance(shown, dict) or "strategy" not in shown:
            raise SetError(f"{target.url} answered show_config with {shown!r}: not freqtrade's API")
        check_identity(target, shown, config)
        answer = _call(target, client, "reload_config")
        if not isinstance(answer, dict) or "status" not in answer:
            raise SetError(
                f"the freqtrade API at {target.url} answered reload_config with {answer!r}"
            )
        return shown, answer
    finally:
        client._session.close()


def run_set(
    config_path: Path,
    items: Sequence[str],
    *,
    api_url: str | None = None,
    username: str | None = None,
    password: str | None = None,
    reload: bool = True,
) -> list[str]:
    """Validate, write and reload; return the lines to print.

    :raises SetError: with a one-line message and the exit code (2: nothing changed;
        3: the file was written, the bot was not reloaded)
    """
    assignments = parse_assignments(items)
    original, config = read_config(config_path)
    section = config.get(SECTION) or {}
    changed = apply_assignments(section, assignments)
    try:
        parse_config(changed)
    except ConfigError as error:
        raise SetError(f"{error} ({config_path} unchanged)") from error
    target = api_target(config, api_url, username, password) if reload else None
    new_config = {**config, SECTION: changed}
    backup = write_config(config_path, original, render(new_config, original))
    lines = [
        f"{a.key}: {json.dumps(_section_value(section, a.path))} → {json.dumps(a.value)}"
        for a in assignments
    ]
    lines.append(f"wrote {config_path} (previous version kept as {backup})")
    if not reload:
        lines.append("the bot was not asked to reload (--no-reload)")
        return lines
    written = f"{config_path} was written (backup {backup}) and the bot was NOT reloaded"
    if target is None:
        raise SetError(
            f"{written}: the config has no enabled api_server; pass --api-url (and "
            "--username/--password), or send /reload_config yourself",
            EXIT_NOT_RELOADED,
        )
    try:
        shown, answer = reload_bot(target, config)
    except SetError as error:
        raise SetError(f"{written}: {error}", EXIT_NOT_RELOADED) from None
    lines.append(
        f"bot {shown.get('bot_name')!r} (strategy {shown.get('strategy')}, state "
        f"{shown.get('state')}) at {target.url} answered reload_config: {answer['status']}"
    )
    return lines
