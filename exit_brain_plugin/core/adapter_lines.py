"""The adapter's own lines (``[EXIT_BRAIN_EXECUTOR]``, and the mode a restored state adopts).

Rules:

1. Every line the adapter writes about the run or one call (not a decision of the brain) is
   built here, so that docs/behaviour.md §7's line shapes live in the core with the brain's
   (core/events.py) and no adapter module writes a line by hand.
2. Each is written by ``adapter/logsink.write`` when it happens: not de-duplicated per
   position (they are about the run, or about one call).
"""

from collections.abc import Mapping

from exit_brain_plugin.core.enums import Level, LogTag
from exit_brain_plugin.core.events import BrainEvent


def _executor(level: Level, key: str, message: str) -> BrainEvent:
    return BrainEvent(tag=LogTag.EXECUTOR, level=level, key=key, message=message)


def settings_in_force(settings: Mapping[str, object], overrides: str) -> BrainEvent:
    """``Settings: key=value, … (parameters over config.json: …)``, once at start."""
    shown = ", ".join(f"{key}={value}" for key, value in settings.items())
    return _executor(
        Level.INFO, "settings", f"Settings: {shown} (parameters over config.json: {overrides})"
    )


def exit_limit_warning(price_side: str) -> BrainEvent:
    """Live exits as limit orders on the same side of the book would rest instead of filling."""
    return _executor(
        Level.WARNING,
        "exit_limit",
        f"order_types.exit is limit with exit_pricing.price_side={price_side}: take-profit and "
        "loss-guard exits will rest on the book instead of executing at market; set "
        "order_types.exit to market.",
    )


def already_booked(pair: str, order_id: str) -> BrainEvent:
    """A fill freqtrade reported again (a recovery path): never counted twice."""
    return _executor(Level.DEBUG, f"booked:{order_id}", f"{pair}: order {order_id} already booked")


def host_adjustment_waits(pair: str, stake: object, host_tag: object, tag: str) -> BrainEvent:
    """The strategy's own position adjustment waits for the brain's exit sent this loop."""
    return _executor(
        Level.INFO,
        f"host_waits:{tag}",
        f"{pair}: the strategy's position adjustment (stake {stake}, tag {host_tag}) waits for "
        f"{tag} sent this loop; freqtrade asks the strategy again next loop",
    )


def mode_adopted(pair: str, mode: str) -> BrainEvent:
    """A state written by an earlier release (no mode) runs in the mode resolved now."""
    return BrainEvent(
        tag=LogTag.STATE,
        level=Level.INFO,
        key=f"mode_adopted:{mode}",
        message=f"{pair}: state from an earlier release runs in mode={mode} until the position "
        "closes",
    )


def adapter_fault(detail: str, level: Level = Level.WARNING) -> BrainEvent:
    """Something around the decisions failed (a count, a gauge, a message); trading goes on."""
    return _executor(level, f"fault:{detail}", detail)


def metrics_served(host: str, port: int) -> BrainEvent:
    """The metrics exporter started."""
    return _executor(Level.INFO, "metrics", f"Metrics served on http://{host}:{port}/metrics")


def exporter_stopped(host: str, port: int) -> BrainEvent:
    """The metrics exporter's thread died; the bot trades on."""
    return _executor(
        Level.ERROR,
        "exporter_stopped",
        f"The metrics exporter on {host}:{port} stopped; trading goes on without /metrics until "
        "the bot restarts (or /reload_config) - see the exporter's traceback above",
    )


def fill_rules_missing(name: str) -> BrainEvent:
    """freqtrade's Backtesting lacks a method the backtest fill rules wrap."""
    return _executor(
        Level.WARNING,
        f"fill_rules:{name}",
        f"freqtrade's Backtesting has no {name}: the brain's backtest fill rules "
        "(docs/behaviour.md §6) are off; use freqtrade 2026.9",
    )
