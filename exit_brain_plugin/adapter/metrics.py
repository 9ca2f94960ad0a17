"""Prometheus metrics of a running bot (docs/behaviour.md §9.1) and the exporter that serves them.

One process, one exporter: freqtrade builds a new strategy object on every ``/reload_config``
(worker.py ``_reconfigure``) while the mixin module stays loaded, so the registry, the metrics
and the HTTP server live here, at module level, and a reload finds them running. Only live and
dry-run start it (``ExitBrainMixin.ft_bot_start``); backtests and hyperopt never do.

The counters are fed by :class:`MetricsRecorder`, an observer of the strategy's
:class:`~exit_brain_plugin.adapter.logsink.EventSink`: it counts an event exactly when the sink
writes its log line, so a line and its counter cannot disagree. The gauges of a position are
set at each evaluation and removed when the position closes.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from exit_brain_plugin.adapter import logsink
from exit_brain_plugin.core import BrainEvent, EventKind, MetricsConfig, Mode
from exit_brain_plugin.core.adapter_lines import exporter_stopped, metrics_served


# Series created at 0 up front (see MetricsRecorder.__init__ and position()).
ERROR_CALLBACKS = (
    "custom_exit",
    "custom_stoploss",
    "adjust_trade_position",
    "order_filled",
    "should_exit",
)
REPAIR_REASONS = ("missing", "unreadable", "amount_mismatch")

# Callback time: from ~10 µs (a hold) to a few ms (a state written to the database).
_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5)


class ExporterError(Exception):
    """The exporter could not listen on its address."""


class BrainMetrics:
    """Every metric of docs/behaviour.md §9.1, in a registry of their own.

    Not prometheus_client's global registry.
    """

    def __init__(self) -> None:
        """Create the registry and the metrics."""
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.tp_fills = Counter(
            "exit_brain_take_profit_fills",
            "Take-profit levels filled (a gap over two levels counts both)",
            ("pair", "side", "level"),
            registry=registry,
        )
        self.ratchets = Counter(
            "exit_brain_ratchets",
            "Stop moves after a take-profit fill, by the new stop (breakeven, tp1, ...)",
            ("pair", "side", "to"),
            registry=registry,
        )
        self.loss_guard_fires = Counter(
            "exit_brain_loss_guard_fires",
            "Loss-guard fires (at most once per position)",
            ("pair", "side"),
            registry=registry,
        )
        self.stop_exits = Counter(
            "exit_brain_stop_exits",
            "Positions closed by a stop, by the stop active (initial, breakeven, tp1, ..., "
            "strategy)",
            ("pair", "side", "kind"),
            registry=registry,
        )
        self.errors = Counter(
            "exit_brain_errors",
            "Internal errors of the brain (the [EXIT_BRAIN_EXECUTOR] ERROR lines)",
            ("callback",),
            registry=registry,
        )
        self.state_repairs = Counter(
            "exit_brain_state_repairs",
            "Position states rebuilt from the trade's filled orders",
            ("reason",),
            registry=registry,
        )
        self.open_positions = Gauge(
            "exit_brain_open_positions",
            "Positions the brain manages now, by mode",
            ("mode",),
            registry=registry,
        )
        self.remaining_ratio = Gauge(
            "exit_brain_position_remaining_ratio",
            "Remaining / initial size of each open position",
            ("pair", "side"),
            registry=registry,
        )
        self.pnl_ratio = Gauge(
            "exit_brain_position_unrealized_pnl_ratio",
            "freqtrade's current profit ratio of each open position (fees and leverage in)",
            ("pair", "side"),
            registry=registry,
        )
        self.stop_distance = Gauge(
            "exit_brain_position_stop_distance_ratio",
            "Distance from the price to the stop freqtrade holds, as a fraction of the price "
            "(negative: the price is beyond the stop)",
            ("pair", "side"),
            registry=registry,
        )
        self.evaluation_seconds = Histogram(
            "exit_brain_evaluation_seconds",
            "Time spent in each callback of the brain (the host strategy's own callback it "
            "wraps included)",
            ("callback",),
            buckets=_BUCKETS,
            registry=registry,
        )
        self.max_loss_pct = Gauge(
            "exit_brain_max_unrealized_loss_pct",
            "The loss-guard threshold in force, in PnL %",
            registry=registry,
        )
        self.info = Gauge(
            "exit_brain_info",
            "What runs: the plugin version and the mode",
            ("version", "mode"),
            registry=registry,
        )
        # Open positions: (pair, side, mode) and their gauge children (remaining, PnL, stop);
        # the children are looked up once per position, not on every call.
        self.positions: dict[str, tuple[tuple[str, str, str], tuple[Any, Any, Any]]] = {}
        self.threshold: float | None = None
        for mode in ("act", "observe"):
            self.open_positions.labels(mode=mode).set(0)


@dataclass
class _Exporter:
    host: str
    port: int
    server: Any
    thread: threading.Thread
    reported_dead: bool = False


_lock = threading.Lock()
_metrics: BrainMetrics | None = None
_exporter: _Exporter | None = None


def brain_metrics() -> BrainMetrics:
    """Return this process's metrics (created at the first call)."""
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = BrainMetrics()
        return _metrics


def start_exporter(settings: MetricsConfig) -> None:
    """Serve ``/metrics`` on the configured address; a running exporter there is reused.

    :raises ExporterError: when the address cannot be listened on (e.g. the port is taken)
    """
    global _exporter
    metrics = brain_metrics()
    with _lock:
        running = _exporter
        if running is not None:
            same = (running.host, running.port) == (settings.host, settings.port)
            if same and running.thread.is_alive():
                return  # /reload_config: the server of the previous strategy object serves on
            _exporter = None
            _shutdown(running)
        try:
            server, thread = start_http_server(
                settings.port, addr=settings.host, registry=metrics.registry
            )
        except OSError as error:
            raise ExporterError(
                f"exit_brain.metrics.port: cannot serve metrics on {settings.host}:"
                f"{settings.port} ({error.strerror or error}); choose a free port in "
                "exit_brain.metrics.port, or set exit_brain.metrics.enabled=false"
            ) from error
        thread.name = "exit-brain-metrics"
        _exporter = _Exporter(host=settings.host, port=settings.port, server=server, thread=thread)
    logsink.write(metrics_served(settings.host, settings.port))


def stop_exporter() -> None:
    """Stop the exporter of this process, if one runs, and drop the metrics it served.

    Metrics switched off by a reload start from 0 when switched on again (Prometheus's
    ``increase()`` takes a reset in its stride).
    """
    global _exporter, _metrics
    with _lock:
        running, _exporter = _exporter, None
        _metrics = None
    if running is not None:
        _shutdown(running)


def _shutdown(exporter: _Exporter) -> None:
    if exporter.thread.is_alive():
        exporter.server.shutdown()
    exporter.server.server_close()
    exporter.thread.join(timeout=5)


def exporter_address() -> tuple[str, int] | None:
    """Return the address the exporter serves on, or None when none runs."""
    running = _exporter
    return None if running is None else (running.host, running.port)


def check_exporter() -> bool:
    """Return True when the exporter's thread serves; log one ERROR when it stopped.

    The bot keeps trading either way (§9.1: metrics never stop trading); Prometheus
    sees the target down and the ``ExitBrainExporterDown`` alert fires after 5 minutes.
    """
    running = _exporter
    if running is None:
        return False
    if running.thread.is_alive():
        return True
    if not running.reported_dead:
        running.reported_dead = True
        logsink.write(exporter_stopped(running.host, running.port))
    return False


class MetricsRecorder:
    """The strategy's view of the metrics: counts sink events, sets the position gauges."""

    def __init__(self, metrics: BrainMetrics, *, executed: bool) -> None:
        """:param executed: decisions are executed (``act`` mode); observe mode's virtual
        fills are not counted as fills (errors and repairs are)
        """
        self.metrics = metrics
        self.executed = executed
        # Open positions and the threshold live with the metrics (the process), not with the
        # strategy object: /reload_config's new strategy finds them.
        self._positions = metrics.positions
        # Series start at 0 so that Prometheus's increase() counts their first increment.
        for callback in ERROR_CALLBACKS:
            metrics.errors.labels(callback=callback)
        for reason in REPAIR_REASONS:
            metrics.state_repairs.labels(reason=reason)

    # ------------------------------------------------------------------ counters

    def observe(self, event: BrainEvent, *, executed: bool | None = None) -> None:
        """Count one written event (an EventSink observer).

        :param executed: the position's decisions are executed (its mode is ``act``); None:
            the recorder's default
        """
        kind = event.kind
        if kind is None:
            return
        metrics = self.metrics
        if kind is EventKind.ERROR:
            metrics.errors.labels(callback=event.labels[0]).inc()
        elif kind is EventKind.STATE_REPAIRED:
            metrics.state_repairs.labels(reason=event.labels[0]).inc()
        elif not (self.executed if executed is None else executed):
            return
        elif kind is EventKind.TP_FILLED:
            for level in event.labels:
                metrics.tp_fills.labels(pair=event.pair, side=event.side, level=level).inc()
        elif kind is EventKind.RATCHETED:
            metrics.ratchets.labels(pair=event.pair, side=event.side, to=event.labels[0]).inc()
        elif kind is EventKind.LOSS_GUARD_FIRED:
            metrics.loss_guard_fires.labels(pair=event.pair, side=event.side).inc()
        elif kind is EventKind.STOP_EXIT:
            metrics.stop_exits.labels(pair=event.pair, side=event.side, kind=event.labels[0]).inc()

    # ------------------------------------------------------------------ gauges

    def position(
        self,
        key: str,
        *,
        pair: str,
        side: str,
        mode: str,
        levels: int,
        remaining_ratio: float,
        pnl_ratio: float,
        stop_distance: float | None,
    ) -> None:
        """Set the gauges of one open position (at each evaluation).

        :param levels: the position's take-profit levels (their fill counters start at 0)
        """
        known = self._positions.get(key)
        if known is None or known[0] != (pair, side, mode):
            known = self._open(key, pair, side, mode, levels)
        remaining, pnl, stop = known[1]
        remaining.set(remaining_ratio)
        pnl.set(pnl_ratio)
        if stop_distance is not None:
            stop.set(stop_distance)

    def _open(
        self, key: str, pair: str, side: str, mode: str, levels: int
    ) -> tuple[tuple[str, str, str], tuple[Any, Any, Any]]:
        metrics = self.metrics
        if mode == str(Mode.ACT):
            metrics.loss_guard_fires.labels(pair=pair, side=side)
            for level in range(1, levels + 1):
                metrics.tp_fills.labels(pair=pair, side=side, level=str(level))
            for to in ("breakeven", "tp1"):
                metrics.ratchets.labels(pair=pair, side=side, to=to)
        children = (
            metrics.remaining_ratio.labels(pair=pair, side=side),
            metrics.pnl_ratio.labels(pair=pair, side=side),
            _LazyChild(metrics.stop_distance, pair, side),
        )
        known = ((pair, side, mode), children)
        self._positions[key] = known
        self._count_modes()
        return known

    def close(self, key: str) -> None:
        """Remove the gauges of a position that closed."""
        known = self._positions.pop(key, None)
        if known is None:
            return
        pair, side, _ = known[0]
        for gauge in (self.metrics.remaining_ratio, self.metrics.pnl_ratio):
            _remove(gauge, pair, side)
        _remove(self.metrics.stop_distance, pair, side)
        self._count_modes()

    def keep_only(self, open_keys: Iterable[str]) -> None:
        """Remove the gauges of every position not in ``open_keys`` (closed meanwhile)."""
        for key in set(self._positions) - set(open_keys):
            self.close(key)

    def _count_modes(self) -> None:
        counts = {"act": 0, "observe": 0}
        for (_, _, mode), _ in self._positions.values():
            counts[mode] = counts.get(mode, 0) + 1
        for mode, count in counts.items():
            self.metrics.open_positions.labels(mode=mode).set(count)

    def threshold(self, max_unrealized_loss_pct: float) -> None:
        """Show the loss-guard threshold in force."""
        metrics = self.metrics
        if max_unrealized_loss_pct != metrics.threshold:
            metrics.threshold = max_unrealized_loss_pct
            metrics.max_loss_pct.set(max_unrealized_loss_pct)

    def running(self, version: str, mode: str) -> None:
        """Set ``exit_brain_info`` (one series: the previous mode's is dropped)."""
        self.metrics.info.clear()
        self.metrics.info.labels(version=version, mode=mode).set(1)

    def timed(self, callback: str, method: Callable[..., Any]) -> Callable[..., Any]:
        """Return ``method`` timed into ``exit_brain_evaluation_seconds{callback}``."""
        histogram = self.metrics.evaluation_seconds.labels(callback=callback)
        clock = time.perf_counter

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return method(*args, **kwargs)
            finally:
                histogram.observe(clock() - start)

        # freqtrade decides from the qualname whether to deep-copy the trade
        # (strategy_wrapper.py): keep the wrapped method's.
        timed.__qualname__ = method.__qualname__
        timed.__name__ = method.__name__
        timed.__doc__ = method.__doc__
        return timed


class _LazyChild:
    """A gauge child created at its first value (no stop yet: no series)."""

    def __init__(self, gauge: Gauge, pair: str, side: str) -> None:
        self.gauge, self.pair, self.side = gauge, pair, side
        self.child: Any = None

    def set(self, value: float) -> None:
        if self.child is None:
            self.child = self.gauge.labels(pair=self.pair, side=self.side)
        self.child.set(value)


def _remove(gauge: Gauge, pair: str, side: str) -> None:
    with contextlib.suppress(KeyError):  # never set (e.g. no stop yet)
        gauge.remove(pair, side)
