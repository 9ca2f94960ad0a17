"""Monitoring of a running bot: metrics, notifications and their upkeep (docs/monitoring.md).

Rules:

1. Live and dry-run only (docs/behaviour.md §9): backtests and hyperopt never start it.
2. Monitoring never stops trading and never changes a decision: a failed count, gauge or
   message is one ``[EXIT_BRAIN_EXECUTOR]`` WARNING and trading goes on. The one exception is
   at start: an exporter that cannot serve its port stops the bot with the fix (fail fast).
3. Counters are fed by the event sink's observers, so a counter and its log line never
   disagree (adapter/logsink.py); the gauges are set from each evaluation.
"""

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from freqtrade.exceptions import ConfigurationError
from freqtrade.strategy import Trade

from exit_brain_plugin import __version__
from exit_brain_plugin.adapter import logsink, metrics, notify
from exit_brain_plugin.adapter.notify import Notifier
from exit_brain_plugin.adapter.store import position_key
from exit_brain_plugin.core import LOSS_GUARD_TAG, MarketSnapshot, Mode, PositionState
from exit_brain_plugin.core.adapter_lines import adapter_fault


if TYPE_CHECKING:
    from exit_brain_plugin.adapter.runtime import ExitBrainRuntime

#: Callbacks timed into exit_brain_evaluation_seconds (live and dry-run, metrics on).
TIMED = ("custom_exit", "custom_stoploss", "adjust_trade_position", "order_filled")


def start(runtime: "ExitBrainRuntime") -> None:
    """Start notifications and metrics for the strategy's bot (live and dry-run).

    :raises ConfigurationError: when the metrics exporter cannot serve its port
    """
    strategy, config = runtime.strategy, runtime.base
    executed = config.mode is Mode.ACT
    dp = getattr(strategy, "dp", None)  # set by freqtrade's bot; absent on a bare strategy
    if config.notifications and config.enabled and dp is not None:

        def send(message: str) -> None:
            dp.send_msg(message, always_send=True)

        runtime.sink.observers.append(Notifier(send, executed=executed).observe)
        try:
            notify.seed_fires(*_guard_fires_today())
        except Exception:  # a count for the messages must never stop the bot
            logsink.write(
                adapter_fault(
                    "could not count today's loss-guard fires from the trade database; the "
                    "day's count starts at 0"
                ),
                exc_info=True,
            )
    if not config.metrics.enabled:
        metrics.stop_exporter()
        return
    try:
        metrics.start_exporter(config.metrics)
    except metrics.ExporterError as error:
        raise ConfigurationError(str(error)) from error
    recorder = metrics.MetricsRecorder(metrics.brain_metrics(), executed=executed)
    runtime.metrics = recorder
    runtime.sink.observers.append(recorder.observe)
    recorder.running(__version__, str(config.mode) if config.enabled else "disabled")
    recorder.threshold(runtime.settings.max_unrealized_loss_pct)
    for name in TIMED:
        setattr(strategy, name, recorder.timed(name, getattr(strategy, name)))


def _guard_fires_today() -> tuple[date, int]:
    # Positions the guard closed today (UTC), from the trade database: a restart does not
    # announce the day's yellow or red band a second time.
    today = datetime.now(UTC).date()
    midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
    closed = Trade.get_trades_proxy(is_open=False, close_date=midnight)
    return today, sum(1 for trade in closed if trade.exit_reason == LOSS_GUARD_TAG)


def upkeep(runtime: "ExitBrainRuntime") -> None:
    """Each bot loop: drop the gauges of positions closed meanwhile, watch the exporter."""
    recorder = runtime.metrics
    if recorder is None:
        return
    try:
        recorder.keep_only(position_key(trade) for trade in Trade.get_open_trades())
        metrics.check_exporter()
    except Exception:  # metrics must never stop trading (nor the host's bot_loop_start)
        logsink.write(adapter_fault("metrics upkeep failed"), exc_info=True)


def record(
    runtime: "ExitBrainRuntime", trade: Any, state: PositionState, snapshot: MarketSnapshot
) -> None:
    """Set the position's gauges from one evaluation (no-op without metrics)."""
    recorder = runtime.metrics
    if recorder is None:
        return
    try:
        _record(runtime, recorder, trade, state, snapshot)
    except Exception:  # a gauge must never change the decision
        logsink.write(adapter_fault("could not set position gauges"), exc_info=True)


def _record(
    runtime: "ExitBrainRuntime",
    recorder: metrics.MetricsRecorder,
    trade: Any,
    state: PositionState,
    snapshot: MarketSnapshot,
) -> None:
    recorder.threshold(runtime.settings.max_unrealized_loss_pct)
    key = position_key(trade)
    if state.exit_kind is not None or state.remaining_size <= 0:
        recorder.close(key)
        return
    stop = snapshot.exchange_stop_price
    distance = None
    if stop is not None and snapshot.price > 0:
        distance = (snapshot.price - stop) / snapshot.price
        distance = -distance if trade.is_short else distance
    recorder.position(
        key,
        pair=state.pair,
        side=state.side.value,
        mode=str(runtime.mode(trade)),
        levels=len(state.tp_levels),
        remaining_ratio=state.remaining_size / state.initial_size if state.initial_size else 0,
        pnl_ratio=snapshot.current_profit,
        stop_distance=distance,
    )
