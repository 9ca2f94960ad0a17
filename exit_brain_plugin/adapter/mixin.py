"""ExitBrainMixin: the freqtrade adapter of the exit brain.

Put it FIRST in your strategy's bases, so that it wraps your strategy's own callbacks::

    class MyStrategyWithBrain(ExitBrainMixin, MyStrategy):
        pass

Each callback does the same five steps (STYLE §5.1): build the snapshot, load the state, call
the core, save the state and write its events, translate the decision. How each decision
reaches freqtrade (FREQTRADE_NOTES.md):

- a partial take-profit: ``adjust_trade_position`` returns ``(-stake, "exit_brain_tpN")``;
- a full close (loss guard, last level, stop backstop): ``custom_exit`` returns its tag;
- the stop (ratchet and loss-guard price): ``custom_stoploss`` returns the tighter of the
  strategy's stop and the brain's, never looser than the stop freqtrade holds;
- fills: ``order_filled`` is the only place sizes, hits and the ratchet change;
- backtests: the next level rests as a limit order at its price (``custom_exit_price``) so that
  a level touched inside a candle fills at exactly that price, and a candle opening beyond it
  fills at the open; a stop the candle opens beyond fills at the open and a tick-edge fill
  happens on its candle (``adapter/backtest.py``);
- stop exits are named by the stop that fired (``should_exit``): ``exit_brain_loss_guard`` at
  the loss-guard price, else ``exit_brain_stop_<kind>`` (initial, breakeven, tp1, …).
"""

import copy
import functools
import inspect
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from freqtrade.enums import ExitCheckTuple, ExitType, RunMode
from freqtrade.exceptions import ConfigurationError
from freqtrade.strategy import DecimalParameter, IStrategy, Trade

from exit_brain_plugin import __version__
from exit_brain_plugin.adapter import booking, metrics, notify, stops, translate
from exit_brain_plugin.adapter.notify import Notifier
from exit_brain_plugin.adapter.rollout import ModeSink, PositionModes, RoutedStore
from exit_brain_plugin.adapter.shadow import append_fill, ledger_fills, virtual_fill
from exit_brain_plugin.adapter.store import position_key
from exit_brain_plugin.core import (
    LOSS_GUARD_TAG,
    BrainConfig,
    ConfigError,
    Decision,
    ExitOrder,
    Fill,
    FillKind,
    Level,
    MarketSnapshot,
    Mode,
    PositionState,
    StateError,
    TpLevel,
    apply_fill,
    classify_stop,
    create_state,
    evaluate_position,
    fill_kind_of,
    legs_from_tag,
    parse_config,
    price_resting_exit,
    rebuild_state,
)
from exit_brain_plugin.core.brain import plan_of, settings_for
from exit_brain_plugin.core.events import TAG_PREFIX, initialized, state_note, state_repaired
from exit_brain_plugin.core.exit_reasons import is_stop_reason, stop_kind_from_tag, stop_tag
from exit_brain_plugin.core.parameters import apply_parameters, describe
from exit_brain_plugin.core.pricing import is_level_reached, is_stop_breached


logger = logging.getLogger("exit_brain")


@dataclass(frozen=True, slots=True)
class _Evaluation:
    decision: Decision
    state: PositionState
    snapshot: MarketSnapshot


# Callbacks the brain must own: a class placed before the mixin in the bases would hide them.
_OWNED = (
    "custom_exit",
    "custom_stoploss",
    "adjust_trade_position",
    "order_filled",
    "custom_exit_price",
    "should_exit",
    "bot_loop_start",
    "ft_bot_start",
)
# Callbacks whose trade copy backtests skip when the host does not implement them.
_UNCOPIED = (
    "custom_exit",
    "custom_stoploss",
    "adjust_trade_position",
    "order_filled",
    "custom_exit_price",
)
_OPTIMIZE_MODES = (RunMode.BACKTEST, RunMode.HYPEROPT)
_TRADING_MODES = (RunMode.LIVE, RunMode.DRY_RUN)
# Callbacks timed into exit_brain_evaluation_seconds (live and dry-run, metrics on).
_TIMED = ("custom_exit", "custom_stoploss", "adjust_trade_position", "order_filled")
# Hyperoptable settings (space "exitbrain"): parameter name -> setting it overrides.
_PARAMETERS = {
    "eb_tp_distance_scale": "tp_distance_scale",
    "eb_max_unrealized_loss_pct": "max_unrealized_loss_pct",
    "eb_ratchet_offset": "ratchet_offset",
}


class ExitBrainMixin(IStrategy):  # type: ignore[misc]
    """Take-profit ladder, ratcheting stop and loss guard for any freqtrade strategy.

    Settings come from the ``exit_brain`` section of config.json (docs/behaviour.md §2),
    over the class attribute ``exit_brain_defaults``. A strategy may override
    :meth:`exit_brain_plan` to supply its own ladder.
    """

    # The brain needs these; bot_start refuses a config that turns them off.
    use_custom_stoploss = True
    position_adjustment_enable = True
    use_exit_signal = True

    exit_brain_defaults: ClassVar[dict[str, Any]] = {}
    order_types: dict[str, Any]
    #: Backtests: freqtrade fills under the brain's fill rules (adapter/backtest.py). Set at
    #: start when the brain acts; ``exit-brain compare`` sets it for its "brain off" run.
    eb_fill_rules: bool = False

    # Hyperopt space "exitbrain"; outside hyperopt they apply only when a parameter file sets
    # them, so config.json stays the source of truth.
    eb_tp_distance_scale = DecimalParameter(0.5, 2.0, default=1.0, decimals=2, space="exitbrain")
    eb_max_unrealized_loss_pct = DecimalParameter(
        5.0, 25.0, default=12.5, decimals=2, space="exitbrain"
    )
    eb_ratchet_offset = DecimalParameter(0.0, 0.01, default=0.0, decimals=4, space="exitbrain")

    def __init__(self, config: dict[str, Any]) -> None:
        """Validate the settings (a bad ``exit_brain`` value stops the bot here)."""
        super().__init__(config)
        self.eb_base_config = self.eb_parse_settings(config)
        self.eb_config = self.eb_base_config
        self._eb_param_key: tuple[Any, ...] | None = None
        self._eb_check_bases()
        self._eb_own_parameters()
        runmode = config.get("runmode")
        self.eb_is_backtest = runmode in _OPTIMIZE_MODES
        observe = self.eb_config.mode is Mode.OBSERVE
        # Each position runs in the mode it was created with (pair_modes, docs/rollout.md).
        self.eb_modes = PositionModes(self.eb_config, backtest=self.eb_is_backtest)
        self.eb_store = RoutedStore(self.eb_modes)
        self.eb_sink = ModeSink(self.eb_modes, quiet=self.eb_is_backtest and not observe)
        self._eb_last_loop: datetime | None = None
        self._eb_guard_cache: dict[str, tuple[tuple[Any, ...], float | None]] = {}
        self._eb_last_evaluation: dict[str, tuple[tuple[Any, ...], _Evaluation]] = {}
        self._eb_host_exit_type = "market"
        self._eb_host_stoploss = _next_definition(type(self), "custom_stoploss") is not IStrategy
        # freqtrade asks a strategy for a fill-time stop only when its custom_stoploss names
        # after_fill (strategy_resolver.py); the mixin names it, so a host that does not is
        # never asked on those calls, as without the mixin (its answer could loosen the stop).
        self._eb_host_after_fill = (
            self._eb_host_stoploss
            and "after_fill"
            in (
                inspect.signature(
                    vars(_next_definition(type(self), "custom_stoploss"))["custom_stoploss"]
                )
            ).parameters
        )
        # Loss-guard price held before an added entry, per position, until the fill-time stop
        # call reprices it (docs/operations.md, "Added entries").
        self._eb_guard_before_add: dict[str, float] = {}
        self.eb_metrics: metrics.MetricsRecorder | None = None

    # ----------------------------------------------------------------- settings and startup

    def eb_parse_settings(self, config: dict[str, Any]) -> BrainConfig:
        """Return the validated settings: ``exit_brain_defaults`` overlaid by config.json.

        :raises ConfigurationError: naming the key, the bad value and the allowed range
        """
        section = config.get("exit_brain", {})
        if section is not None and not isinstance(section, dict):
            raise ConfigurationError(f"exit_brain must be an object of settings, was {section!r}")
        merged = {**self.exit_brain_defaults, **(section or {})}
        try:
            return parse_config(merged)
        except ConfigError as error:
            raise ConfigurationError(f"Invalid exit_brain setting: {error}") from error

    def _eb_check_bases(self) -> None:
        mro = type(self).__mro__
        mixin_at = mro.index(ExitBrainMixin)
        for name in _OWNED:
            owner = next(klass for klass in mro if name in vars(klass))
            if mro.index(owner) < mixin_at:
                raise ConfigurationError(
                    f"{owner.__name__}.{name} hides ExitBrainMixin.{name}: put the mixin first, "
                    f"e.g. `class {type(self).__name__}(ExitBrainMixin, YourStrategy)`, and keep "
                    f"your own {name} in YourStrategy (the brain calls it through super())."
                )

    def _eb_own_parameters(self) -> None:
        # Parameter objects are class attributes shared by every strategy using the mixin:
        # give this instance its own copies, with the config's values as defaults.
        config = self.eb_base_config
        defaults = {
            "eb_tp_distance_scale": 1.0,
            "eb_max_unrealized_loss_pct": config.max_unrealized_loss_pct,
            "eb_ratchet_offset": config.ratchet_offset,
        }
        for name, value in defaults.items():
            parameter = copy.deepcopy(getattr(type(self), name))
            parameter.low = min(parameter.low, value)
            parameter.high = max(parameter.high, value)
            parameter.value = value
            setattr(self, name, parameter)

    def ft_bot_start(self, **kwargs: Any) -> None:
        """Check the freqtrade settings the brain relies on, then start the strategy."""
        self.eb_check_freqtrade_settings()
        if self.eb_config.enabled and self.eb_is_backtest:
            # Backtests fill brain exits at exact prices through custom_exit_price, which
            # freqtrade calls only for limit exits; other exits keep the configured behaviour
            # (custom_exit_price returns the proposed rate for them).
            self._eb_host_exit_type = self.order_types.get("exit", "limit")
            self.order_types = {**self.order_types, "exit": "limit"}
        else:
            self._eb_host_exit_type = self.order_types.get("exit", "limit")
        super().ft_bot_start(**kwargs)
        if self.eb_is_backtest:
            from exit_brain_plugin.adapter import backtest

            backtest.install()
            self.eb_fill_rules = self.eb_fill_rules or self.eb_active()
        if self.eb_config.enabled and self.eb_is_backtest:
            self._eb_skip_trade_copies()
        if self.config.get("runmode") in _TRADING_MODES:
            self._eb_start_monitoring()
        logger.info(initialized(self.eb_mode_label() + self._eb_pairs_line()).render())
        # freqtrade loaded the parameter file in super().ft_bot_start: print what runs.
        logger.info(
            "[EXIT_BRAIN_EXECUTOR] Settings: %s (parameters over config.json: %s)",
            ", ".join(f"{key}={value}" for key, value in self.eb_settings().to_dict().items()),
            describe(self._eb_file_values()),
        )

    def _eb_start_monitoring(self) -> None:
        # Live and dry-run only (docs/behaviour.md §9): metrics and notifications
        # (docs/monitoring.md).
        config = self.eb_config
        executed = config.mode is Mode.ACT
        dp = getattr(self, "dp", None)  # set by freqtrade's bot; absent on a bare strategy
        if config.notifications and config.enabled and dp is not None:

            def send(message: str) -> None:
                dp.send_msg(message, always_send=True)

            self.eb_sink.observers.append(Notifier(send, executed=executed).observe)
            try:
                notify.seed_fires(*self._eb_guard_fires_today())
            except Exception:  # a count for the messages must never stop the bot
                logger.warning(
                    "[EXIT_BRAIN_EXECUTOR] could not count today's loss-guard fires from the "
                    "trade database; the day's count starts at 0",
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
        self.eb_metrics = recorder
        self.eb_sink.observers.append(recorder.observe)
        recorder.running(__version__, str(config.mode) if config.enabled else "disabled")
        recorder.threshold(self.eb_settings().max_unrealized_loss_pct)
        for name in _TIMED:
            setattr(self, name, recorder.timed(name, getattr(self, name)))

    def _eb_guard_fires_today(self) -> tuple[date, int]:
        # Positions the guard closed today (UTC), from the trade database: a restart does not
        # announce the day's yellow or red band a second time.
        today = datetime.now(UTC).date()
        midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        closed = Trade.get_trades_proxy(is_open=False, close_date=midnight)
        return today, sum(1 for trade in closed if trade.exit_reason == LOSS_GUARD_TAG)

    def _eb_monitor_loop(self) -> None:
        # Each bot loop: drop the gauges of positions closed meanwhile, watch the exporter.
        recorder = self.eb_metrics
        if recorder is None:
            return
        try:
            recorder.keep_only(position_key(trade) for trade in Trade.get_open_trades())
            metrics.check_exporter()
        except Exception:  # metrics must never stop trading (nor the host's bot_loop_start)
            logger.warning("[EXIT_BRAIN_EXECUTOR] metrics upkeep failed", exc_info=True)

    def _eb_record_position(self, trade: Any, result: _Evaluation) -> None:
        recorder = self.eb_metrics
        if recorder is None:
            return
        state, snapshot = result.state, result.snapshot
        recorder.threshold(self.eb_settings().max_unrealized_loss_pct)
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
            mode=str(self.eb_mode(trade)),
            levels=len(state.tp_levels),
            remaining_ratio=state.remaining_size / state.initial_size if state.initial_size else 0,
            pnl_ratio=snapshot.current_profit,
            stop_distance=distance,
        )

    def _eb_skip_trade_copies(self) -> None:
        # freqtrade deep-copies the trade for every call of a callback the strategy implements
        # (strategy_wrapper.py: skipped when the method's qualname starts with "IStrategy."),
        # about 70 % of a backtest's time (docs/performance.md). The brain never changes the
        # trade, so in backtests and hyperopt (never live) the callbacks the host strategy
        # does not implement itself get that qualname. A host callback keeps its copy.
        for name in _UNCOPIED:
            if _next_definition(type(self), name) is IStrategy:
                setattr(self, name, _uncopied(getattr(self, name), name))

    def eb_check_freqtrade_settings(self) -> None:
        """Refuse a config that turns off what the brain needs (docs/behaviour.md §6, STYLE §5.6).

        :raises ConfigurationError: naming the setting and the fix
        """
        if not self.eb_config.enabled:
            return
        required = {
            "use_custom_stoploss": self.use_custom_stoploss,
            "position_adjustment_enable": self.position_adjustment_enable,
            "use_exit_signal": self.use_exit_signal,
        }
        for name, value in required.items():
            if value is not True:
                raise ConfigurationError(
                    f"Exit Brain needs {name}=true, but the config or strategy sets it to "
                    f"{value!r}. Remove the override, or set exit_brain.enabled=false."
                )
        if self.trailing_stop:
            raise ConfigurationError(
                "Exit Brain ratchets the stop itself and cannot share it with freqtrade's "
                "trailing_stop: set trailing_stop=false, or exit_brain.enabled=false."
            )
        runmode = self.config.get("runmode")
        if runmode in (RunMode.LIVE, RunMode.DRY_RUN) and self.order_types.get("exit") == "limit":
            side = self.config.get("exit_pricing", {}).get("price_side", "same")
            if side != "other":
                logger.warning(
                    "[EXIT_BRAIN_EXECUTOR] order_types.exit is limit with exit_pricing."
                    "price_side=%s: take-profit and loss-guard exits will rest on the book "
                    "instead of executing at market; set order_types.exit to market.",
                    side,
                )

    def _eb_pairs_line(self) -> str:
        if not self.eb_config.enabled:
            return ""
        try:
            pairs = self.dp.current_whitelist() if self.dp else []
        except Exception:
            pairs = self.config.get("exchange", {}).get("pair_whitelist", [])
        return self.eb_modes.describe(pairs)

    def eb_mode_label(self) -> str:
        """Return the docs/behaviour.md §7 mode label of this run."""
        if self.eb_config.mode is Mode.OBSERVE and not self.eb_modes.may_act():
            return "OBSERVE MODE"
        if not self.eb_config.enabled:
            return "DISABLED MODE (exit_brain.enabled=false)"
        if self.eb_is_backtest:
            return "BACKTEST MODE"
        return "SHADOW MODE (dry-run)" if self.config.get("dry_run", True) else "LIVE MODE"

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Detect a new backtest (time went back): drop the caches of the previous one."""
        if self.eb_is_backtest:
            if self.eb_fill_rules:
                # A hyperopt worker (-j 2) is a new process: the parent's ft_bot_start
                # installed the fill rules there only.
                from exit_brain_plugin.adapter import backtest

                backtest.install()
            if self._eb_last_loop is not None and current_time <= self._eb_last_loop:
                self.eb_store.clear()
                self.eb_sink.clear()
                self._eb_guard_cache.clear()
                self._eb_last_evaluation.clear()
            self._eb_last_loop = current_time
        else:
            self._eb_monitor_loop()
        super().bot_loop_start(current_time=current_time, **kwargs)

    def eb_use_settings(self, section: dict[str, Any]) -> None:
        """Backtest the next run with the ``exit_brain`` section ``section`` (``exit-brain tune``).

        Same as a strategy loaded with that section: the settings are validated and every
        per-run cache is dropped. ``enabled`` and ``mode`` must stay as loaded (they shape
        startup), so a tuner keeps one strategy per value of them.

        :raises ConfigurationError: for a bad value, or a changed ``enabled`` / ``mode``
        """
        settings = self.eb_parse_settings({"exit_brain": section})
        if (settings.enabled, settings.mode) != (self.eb_base_config.enabled, self.eb_config.mode):
            raise ConfigurationError("eb_use_settings cannot change exit_brain.enabled or mode")
        self.eb_base_config = self.eb_config = settings
        self._eb_param_key = None
        self._eb_own_parameters()
        self.eb_store.clear()
        self.eb_sink.clear()
        self._eb_guard_cache.clear()
        self._eb_last_evaluation.clear()
        self._eb_last_loop = None

    def eb_settings(self) -> BrainConfig:
        """Return the settings in force: config.json, or hyperopt / parameter-file values."""
        key = tuple(
            parameter.value if (parameter.in_space or name in self._eb_file_values()) else None
            for name, parameter in ((name, getattr(self, name)) for name in _PARAMETERS)
        )
        if key != self._eb_param_key:
            self._eb_param_key = key
            self.eb_config = self._eb_apply_parameters(dict(zip(_PARAMETERS, key, strict=True)))
        return self.eb_config

    def _eb_file_values(self) -> dict[str, Any]:
        return dict(getattr(self, "_ft_params_from_file", {}).get("exitbrain", {}) or {})

    def _eb_apply_parameters(self, values: dict[str, Any]) -> BrainConfig:
        return apply_parameters(self.eb_base_config, values)

    # ----------------------------------------------------------------- state

    def eb_active(self, trade: Any = None) -> bool:
        """Return True when the brain acts on ``trade`` (enabled, its position in ``act``).

        Without a trade: True when new positions run in ``act`` by default.
        """
        if not self.eb_config.enabled:
            return False
        if trade is None:
            return self.eb_config.mode is Mode.ACT
        try:
            return self.eb_mode(trade) is Mode.ACT
        except Exception:
            self._eb_error("the mode lookup", trade)
            return False

    def eb_mode(self, trade: Any) -> Mode:
        """Return the mode of the trade's position: the one it was created with (§9.4)."""
        return self.eb_modes.mode_of(trade)

    def eb_state(self, trade: Any, *, check: bool = True) -> PositionState | None:
        """Return the trade's state: stored, repaired or rebuilt from its orders.

        :param check: compare with the trade's amount and rebuild on disagreement (off where
            freqtrade has not yet booked a fill, e.g. the after-fill stop call in backtests)
        """
        try:
            state = self.eb_store.load(trade)
        except StateError as error:
            return self._eb_rebuild(trade, f"stored state rejected ({error})")
        if state is None:
            if not translate.filled_orders(trade) or trade.amount <= 0:
                return None
            if self.eb_mode(trade) is Mode.OBSERVE and not self.eb_is_backtest:
                shadow = self._eb_shadow_from_act(trade)
                if shadow is not None:
                    return shadow
            return self._eb_rebuild(trade, None)
        if not (check and self.eb_active(trade)):
            return state
        if self.eb_is_backtest:
            if not self._eb_agrees(state, trade):
                return self._eb_rebuild(
                    trade,
                    f"stored remaining_size={state.remaining_size} disagrees with the trade's "
                    f"amount {trade.amount}",
                    stored=state,
                )
            return state
        why = booking.disagreement(state, trade)
        if why is not None:
            return self._eb_rebuild(trade, why, stored=state)
        return self._eb_adopt(trade, state)

    def _eb_shadow_from_act(self, trade: Any) -> PositionState | None:
        # A position the brain acted on, now run in observe mode (a state written by a
        # release that kept no mode): the shadow starts from the position as it is, its
        # acting state, when that agrees with the orders; otherwise from the orders.
        try:
            acted = self.eb_modes.stores[Mode.ACT].load(trade)  # live: uncached
        except StateError:
            return None
        if acted is None or booking.disagreement(acted, trade) is not None:
            return None
        shadow = replace(acted, plan=acted.plan or plan_of(self.eb_settings()))
        self.eb_store.save(trade, shadow)
        note = state_note(
            trade.pair,
            translate.side_of(trade),
            f"observe mode: shadow starts from the position as the brain left it - "
            f"remaining_size={shadow.remaining_size}, tp_hits_count={shadow.tp_hits_count}, "
            f"sl_reason={shadow.sl_reason}",
            Level.INFO,
        )
        self.eb_sink.emit(position_key(trade), (note,))
        return shadow

    def _eb_adopt(self, trade: Any, state: PositionState) -> PositionState:
        # A row written before plans and booked orders were stored (it agrees with the
        # orders): fix the plan settings in force now and the orders it holds, once.
        if state.plan is not None and state.booked_orders is not None:
            return state
        adopted = replace(
            state,
            plan=state.plan or plan_of(self.eb_settings()),
            booked_orders=(
                booking.booked_ids(trade) if state.booked_orders is None else state.booked_orders
            ),
        )
        self.eb_store.save(trade, adopted)
        return adopted

    def _eb_agrees(self, state: PositionState, trade: Any) -> bool:
        if state.exit_kind is not None or not trade.is_open:
            return True
        step = translate.amount_step(trade) or 0.0
        return math.isclose(state.remaining_size, trade.amount, rel_tol=1e-9, abs_tol=step)

    def _eb_rebuild(
        self, trade: Any, why: str | None, stored: PositionState | None = None
    ) -> PositionState | None:
        # The trade's filled orders are the ground truth (docs/behaviour.md §3); the plan is
        # the one the position was created with when a stored state still says it.
        orders = translate.filled_orders(trade)
        entries = [order for order in orders if translate.is_entry(order, trade)]
        if not entries:
            return None
        first = entries[0]
        opening = translate.opening_from_trade(
            trade,
            amount=translate.booked_amount(first),
            entry_price=float(first.safe_price),
            stop_price=trade.initial_stop_loss or trade.stop_loss,
            atr=None,
            order_id=str(first.order_id),
        )
        fills = [self._eb_fill(order, trade, None) for order in orders if order is not first]
        if self.eb_mode(trade) is Mode.OBSERVE:
            # The shadow starts from the position as it is: the brain's own orders (sent
            # while it acted) count, then observe mode's own virtual fills (its shadow
            # ledger); the host's exits do not reduce what it would hold.
            shadow = (FillKind.ENTRY, FillKind.TAKE_PROFIT, FillKind.LOSS_GUARD)
            fills = [fill for fill in fills if fill.kind in shadow]
            fills += ledger_fills(trade, translate.amount_step(trade))
        settings, levels = self.eb_settings(), None
        if stored is not None and stored.plan is not None:
            settings, levels = settings_for(stored, settings), stored.tp_levels
        verdict = rebuild_state(opening, fills, settings, levels)
        state = verdict.state
        if why is None:
            # No stored state for a trade with fills: the brain was off or absent when it
            # opened, or the row was deleted. A repair, not a normal start: say so
            # (docs/behaviour.md §3).
            created = [event for event in verdict.events if event.key == "created"]
            self.eb_sink.emit(position_key(trade), created)
        if why is None:
            reason = "missing"
        else:
            reason = "unreadable" if why.startswith("stored state rejected") else "amount_mismatch"
        note = state_repaired(
            trade.pair,
            translate.side_of(trade),
            f"state {'rebuilt' if why else 'created'} from {len(orders)} filled orders"
            + (f": {why}" if why else " (no stored state)")
            + f" - remaining_size={state.remaining_size}, tp_hits_count="
            f"{state.tp_hits_count}, sl_reason={state.sl_reason}",
            reason,
        )
        self.eb_sink.emit(position_key(trade), (note,))
        self.eb_store.save(trade, state)
        return state

    def _eb_fill(self, order: Any, trade: Any, state: PositionState | None) -> Fill:
        reason = ""
        if not translate.is_entry(order, trade):
            kind, _ = translate.exit_fill_kind(order.ft_order_tag, order.ft_order_side)
            if kind is FillKind.STOP:
                reason = stop_kind_from_tag(order.ft_order_tag) or ""
            if kind is FillKind.STOP and state is not None and not reason:
                reason = self._eb_stop_reason(state, trade, float(trade.stop_loss or 0.0))
        return translate.fill_from_order(order, trade, stop_reason=reason)

    def _eb_stop_reason(self, state: PositionState, trade: Any, stop_price: float) -> str:
        tolerance = (translate.price_step(trade) or 0.0) * 1.01
        return classify_stop(state, stop_price, self._eb_guard_price(trade), tolerance)

    def _eb_guard_price(self, trade: Any) -> float | None:
        config = self.eb_config
        if not config.loss_guard_enabled or trade.amount <= 0:
            return None
        # calc_close_rate_for_roi is exact decimal arithmetic, the dearest part of a call:
        # compute it again only when something it depends on changed.
        inputs = (
            trade.open_rate,
            trade.amount,
            trade.leverage,
            trade.funding_fees,
            config.max_unrealized_loss_pct,
        )
        position = position_key(trade)
        cached = self._eb_guard_cache.get(position)
        if cached is not None and cached[0] == inputs:
            return cached[1]
        rate = float(trade.calc_close_rate_for_roi(-config.max_unrealized_loss_pct / 100.0))
        price = rate if math.isfinite(rate) and rate > 0 else None
        self._eb_guard_cache[position] = (inputs, price)
        return price

    def _eb_snapshot(self, trade: Any, rate: float, profit: float) -> MarketSnapshot:
        market = self._eb_market(trade.pair)
        limits = market.get("limits", {}) if market else {}
        min_amount = float((limits.get("amount") or {}).get("min") or 0.0)
        min_cost = float((limits.get("cost") or {}).get("min") or 0.0)
        min_order = max(min_amount, min_cost / rate if rate > 0 else 0.0)
        return MarketSnapshot(
            price=float(rate),
            current_profit=float(profit),
            position_amount=float(trade.amount),
            amount_step=translate.amount_step(trade),
            min_order_amount=min_order,
            min_remaining_amount=self._eb_min_remaining(trade, rate),
            exchange_stop_price=float(trade.stop_loss) if trade.stop_loss else None,
            loss_guard_price=self._eb_guard_price(trade),
        )

    def _eb_market(self, pair: str) -> dict[str, Any] | None:
        try:
            return self.dp.market(pair) if self.dp else None
        except Exception:
            return None

    def _eb_min_remaining(self, trade: Any, rate: float) -> float:
        # freqtrade refuses a partial exit leaving less than this stake (freqtradebot.py
        # check_and_call_adjust_trade_position; optimize/backtesting.py uses stoploss -0.1 and
        # leverage 1). The same exchange function gives the same threshold.
        exchange = getattr(self.dp, "_exchange", None) if self.dp else None
        if exchange is None or rate <= 0:
            return 0.0
        try:
            if self.eb_is_backtest:
                stake = exchange.get_min_pair_stake_amount(trade.pair, rate, -0.1)
            else:
                stake = exchange.get_min_pair_stake_amount(
                    trade.pair, rate, self.stoploss, trade.leverage
                )
        except Exception:
            return 0.0
        return float(stake) / rate if stake else 0.0

    def _eb_evaluate(
        self, trade: Any, rate: float, profit: float, plan: Sequence[TpLevel] | None = None
    ) -> _Evaluation | None:
        if not self.eb_is_backtest:
            return self._eb_evaluate_now(trade, rate, profit, plan)
        # Backtests evaluate twice at the same candle open (adjust_trade_position, then
        # custom_exit); the evaluation is idempotent, so the second reuses the first.
        position = position_key(trade)
        seen = self._eb_last_evaluation.get(position)
        if seen is not None and seen[0] == self._eb_evaluation_key(trade, rate, profit, plan):
            return seen[1]
        result = self._eb_evaluate_now(trade, rate, profit, plan)
        if result is not None:
            key = self._eb_evaluation_key(trade, rate, profit, plan)
            self._eb_last_evaluation[position] = (key, result)
        return result

    def _eb_evaluation_key(
        self, trade: Any, rate: float, profit: float, plan: Sequence[TpLevel] | None
    ) -> tuple[Any, ...]:
        stored = self.eb_store.peek(trade)
        return (rate, profit, None if plan is None else tuple(plan), trade.amount, id(stored))

    def _eb_evaluate_now(
        self, trade: Any, rate: float, profit: float, plan: Sequence[TpLevel] | None
    ) -> _Evaluation | None:
        state = self.eb_state(trade)
        if state is None:
            return None
        snapshot = self._eb_snapshot(trade, rate, profit)
        verdict = evaluate_position(snapshot, state, self.eb_settings(), plan)
        self.eb_sink.emit(position_key(trade), verdict.events)
        if verdict.state != state:
            # Only the plan, the high-water mark and the loss-guard latch change here; a
            # backtest keeps the high-water mark in memory until the next fill.
            routine = (
                verdict.state.loss_guard_triggered == state.loss_guard_triggered
                and verdict.state.tp_levels == state.tp_levels
            )
            self.eb_store.save(trade, verdict.state, persist=not routine)
        new_state = verdict.state
        if self.eb_mode(trade) is Mode.OBSERVE and isinstance(verdict.decision, ExitOrder):
            new_state = self._eb_observe(trade, verdict.decision, verdict.state)
        result = _Evaluation(decision=verdict.decision, state=new_state, snapshot=snapshot)
        if self.eb_metrics is not None:
            try:
                self._eb_record_position(trade, result)
            except Exception:  # a gauge must never change the decision
                logger.warning("[EXIT_BRAIN_EXECUTOR] could not set position gauges", exc_info=True)
        return result

    def _eb_observe(self, trade: Any, order: ExitOrder, state: PositionState) -> PositionState:
        # Observe mode: nothing is sent; the decision is booked as if it had filled at the
        # decision price, so the shadow ladder and ratchet go on (docs/behaviour.md §6).
        kind = fill_kind_of(order.kind)
        fill = Fill(
            kind=kind,
            filled_amount=order.amount,
            price=order.price,
            order_id="observe",
            legs=order.legs,
            # a stop exit records the stop it hit (stop:breakeven), as in act mode
            reason=state.sl_reason if kind is FillKind.STOP else order.tag,
            amount_step=translate.amount_step(trade),
        )
        verdict = apply_fill(state, fill, self.eb_settings())
        self.eb_sink.emit(position_key(trade), verdict.events)
        self.eb_store.save(trade, verdict.state)
        if not self.eb_is_backtest:  # the shadow report's ledger (adapter/shadow.py)
            append_fill(trade, virtual_fill(order, state.sl_reason, datetime.now(UTC)))
        return verdict.state

    def _eb_error(self, callback: str, trade: Any) -> None:
        # Called from the except blocks below: the line carries the traceback.
        self.eb_sink.error(
            callback,
            f"{callback} failed for {getattr(trade, 'pair', '?')} (trade "
            f"{getattr(trade, 'id', '?')}); the position keeps its last stop and the next loop "
            "tries again",
        )

    # ----------------------------------------------------------------- freqtrade callbacks

    def order_filled(
        self, pair: str, trade: Any, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Book a fill: create the state at the first entry, update it on every exit."""
        super().order_filled(
            pair=pair, trade=trade, order=order, current_time=current_time, **kwargs
        )
        if not self.eb_config.enabled:
            return
        try:
            self._eb_order_filled(trade, order)
        except Exception:
            self._eb_error("order_filled", trade)

    def _eb_order_filled(self, trade: Any, order: Any) -> None:
        mode = self.eb_mode(trade)
        if mode is Mode.OFF:
            return  # pair_modes: the brain leaves this position alone
        state = self.eb_store.peek(trade)
        if state is None:
            try:
                state = self.eb_store.load(trade)
            except StateError as error:
                state = self._eb_rebuild(trade, f"stored state rejected ({error})")
                return  # the rebuild replayed this fill too
        if state is None:
            if translate.is_entry(order, trade):
                self._eb_open_position(trade, order)
            return
        if mode is Mode.OBSERVE and not translate.is_entry(order, trade):
            return  # observe mode books its own virtual fills
        live_check = not self.eb_is_backtest and mode is Mode.ACT and trade.is_open
        if self._eb_already_booked(trade, order, state, live_check=live_check):
            return
        self._eb_book_fill(trade, order, state, live_check=live_check)

    def _eb_book_fill(
        self, trade: Any, order: Any, state: PositionState, *, live_check: bool
    ) -> None:
        key = position_key(trade)
        if translate.is_entry(order, trade):
            self._eb_note_added_entry(trade, state)
        fill = self._eb_fill(order, trade, state)
        verdict = apply_fill(state, fill, self.eb_settings())
        self.eb_sink.emit(key, verdict.events)
        if live_check and not booking.amounts_agree(verdict.state, trade):
            self._eb_rebuild(
                trade,
                f"after order {order.order_id} remaining_size={verdict.state.remaining_size} "
                f"disagrees with the trade's amount {trade.amount}",
                stored=state,
            )
            return
        self.eb_store.save(trade, verdict.state)
        if self.eb_metrics is not None and verdict.state.exit_kind is not None:
            self.eb_metrics.close(key)

    def _eb_already_booked(
        self, trade: Any, order: Any, state: PositionState, *, live_check: bool
    ) -> bool:
        # freqtrade's recovery paths run an order through update_trade_state again: never
        # count a fill twice. Booking is by order identity; a row written before booked
        # orders were stored falls back to the amount check once.
        booked = (
            booking.is_booked(state, order)
            if state.booked_orders is not None
            else live_check and self._eb_agrees(state, trade)
        )
        if booked:
            logger.debug(
                "[EXIT_BRAIN_EXECUTOR] %s: order %s already booked", trade.pair, order.order_id
            )
        return booked

    def _eb_open_position(self, trade: Any, order: Any) -> None:
        # The first entry fill: the position's state is created with its plan (and mode).
        opening = translate.opening_from_trade(
            trade,
            amount=float(trade.amount),
            entry_price=float(trade.open_rate),
            stop_price=trade.stop_loss,
            atr=self._eb_atr(trade),
            order_id=str(order.order_id),
        )
        verdict = create_state(opening, self.eb_settings())
        self.eb_sink.emit(position_key(trade), verdict.events)
        self.eb_store.save(trade, verdict.state)

    def _eb_note_added_entry(self, trade: Any, state: PositionState) -> None:
        # An added entry (DCA) reprices the loss guard on the new average entry (PnL % of the
        # whole position, docs/behaviour.md §1). Remember the guard price in force before it,
        # so that the fill-time stop call can tell the brain's own guard stop (repriced) from
        # a stop it must never loosen (a ratchet, the strategy's).
        if state.loss_guard_triggered or state.sl_reason != "initial":
            return
        cached = self._eb_guard_cache.get(position_key(trade))
        if cached is not None and cached[1] is not None:
            self._eb_guard_before_add[position_key(trade)] = cached[1]

    def _eb_atr(self, trade: Any) -> float | None:
        if self.eb_config.tp_atr_multipliers is None or not self.dp:
            return None
        dataframe, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        if dataframe is None or dataframe.empty or "atr" not in dataframe.columns:
            return None
        value = float(dataframe["atr"].iloc[-1])
        return value if math.isfinite(value) and value > 0 else None

    def custom_stoploss(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        """Return the tighter of the strategy's stop and the brain's (ratchet, loss guard).

        Never a stop looser than the one freqtrade holds, whatever the strategy answers and
        whenever it is asked (fill-time calls may move a stop either way); the one exception is
        the brain's own loss-guard stop after an added entry, repriced on the new average entry.
        """
        ask_host = self._eb_host_stoploss and (not after_fill or self._eb_host_after_fill)
        host = (
            super().custom_stoploss(
                pair=pair,
                trade=trade,
                current_time=current_time,
                current_rate=current_rate,
                current_profit=current_profit,
                after_fill=after_fill,
                **kwargs,
            )
            if ask_host
            else None
        )
        if not self.eb_active(trade):
            return host
        try:
            return self._eb_stop(trade, current_rate, host, after_fill=after_fill)
        except Exception:
            self._eb_error("custom_stoploss", trade)
            return None

    def _eb_stop(
        self, trade: Any, current_rate: float, host: float | None, *, after_fill: bool
    ) -> float | None:
        key = position_key(trade)
        before_add = self._eb_guard_before_add.pop(key, None) if after_fill else None
        state = self.eb_state(trade, check=not after_fill)
        return stops.stop_answer(
            trade,
            state,
            self.eb_settings(),
            current_rate=current_rate,
            host=host,
            loss_guard_price=None if state is None else self._eb_guard_price(trade),
            guard_before_add=before_add,
        )

    def custom_exit(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | bool | None:
        """Close the whole position for the loss guard, a last level or the stop backstop."""
        host = super().custom_exit(
            pair=pair,
            trade=trade,
            current_time=current_time,
            current_rate=current_rate,
            current_profit=current_profit,
            **kwargs,
        )
        if not self.eb_active(trade):
            return host
        try:
            result = self._eb_evaluate(trade, current_rate, current_profit)
        except Exception:
            self._eb_error("custom_exit", trade)
            return host
        decision = None if result is None else result.decision
        if isinstance(decision, ExitOrder) and decision.close_all:
            return decision.tag
        return host

    def adjust_trade_position(
        self,
        trade: Any,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        min_stake: float | None,
        max_stake: float,
        current_entry_rate: float,
        current_exit_rate: float,
        current_entry_profit: float,
        current_exit_profit: float,
        **kwargs: Any,
    ) -> Any:
        """Send partial take-profit exits (and, in observe mode, book every decision)."""
        host = super().adjust_trade_position(
            trade=trade,
            current_time=current_time,
            current_rate=current_rate,
            current_profit=current_profit,
            min_stake=min_stake,
            max_stake=max_stake,
            current_entry_rate=current_entry_rate,
            current_exit_rate=current_exit_rate,
            current_entry_profit=current_entry_profit,
            current_exit_profit=current_exit_profit,
            **kwargs,
        )
        if not self.eb_config.enabled or trade.amount <= 0:
            return host
        if not self.eb_is_backtest and trade.has_open_orders:
            return host  # live: never replace a resting order (it would be cancelled)
        try:
            mode = self.eb_mode(trade)
            if mode is Mode.OFF:
                return host
            plan = self._eb_plan(trade, current_time)
            result = self._eb_evaluate(trade, current_exit_rate, current_exit_profit, plan)
            if result is None or mode is Mode.OBSERVE:
                return host
            decision = result.decision
            if isinstance(decision, ExitOrder):
                if decision.close_all:
                    return host  # custom_exit closes the whole position
                if host is not None:
                    self._eb_note_host_adjustment(trade, host, decision.tag)
                return (
                    translate.stake_for_amount(
                        decision.amount, trade, translate.amount_step(trade)
                    ),
                    decision.tag,
                )
            if self.eb_is_backtest and not self._eb_stop_first(trade, current_exit_rate):
                return self._eb_resting_exit(trade, result.state, result.snapshot) or host
        except Exception:
            self._eb_error("adjust_trade_position", trade)
        return host

    def _eb_stop_first(self, trade: Any, rate: float) -> bool:
        # Backtests: a candle that opens at or beyond the stop closes the position at that open
        # (adapter/backtest.py), and a full close already sent waits for its fill: resting a
        # take-profit now would fill it on this candle first and cancel that close.
        if trade.stop_loss and is_stop_breached(
            translate.side_of(trade), float(rate), float(trade.stop_loss)
        ):
            return True
        return any(
            order.ft_order_side == trade.exit_side and is_stop_reason(order.ft_order_tag)
            for order in trade.open_orders
        )

    def _eb_note_host_adjustment(self, trade: Any, host: Any, tag: str) -> None:
        # freqtrade takes one position adjustment per loop: the brain's exit goes first and
        # the strategy's own adjustment (an added entry, its own exit) waits
        # (docs/behaviour.md §4 order).
        stake, host_tag = host if isinstance(host, tuple) else (host, None)
        logger.info(
            "[EXIT_BRAIN_EXECUTOR] %s: the strategy's position adjustment (stake %s, tag %s) "
            "waits for %s sent this loop; freqtrade asks the strategy again next loop",
            trade.pair,
            stake,
            host_tag,
            tag,
        )

    def _eb_resting_exit(
        self, trade: Any, state: PositionState, snapshot: MarketSnapshot
    ) -> tuple[float, str] | None:
        # Backtests: rest the next level as a limit order at its price (custom_exit_price).
        order = price_resting_exit(snapshot, state, self.eb_settings())
        if order is None:
            return None
        amount = float(trade.amount) if order.close_all else order.amount
        if _is_resting(trade, order.tag, amount, order.level_price):
            return None  # already resting: asking again would only re-price the same order
        if order.close_all:
            return -float(trade.stake_amount), order.tag
        return translate.stake_for_amount(amount, trade, translate.amount_step(trade)), order.tag

    def _eb_plan(self, trade: Any, current_time: datetime) -> Sequence[TpLevel] | None:
        # The strategy's exit_brain_plan, wherever it is defined: in the leaf class, or in the
        # host class the mixin is put before (`class S(ExitBrainMixin, Host)`), whose method
        # the mixin's own default would otherwise hide.
        method = _plan_method(type(self))
        if method is None:
            return None
        dataframe = None
        if self.dp:
            dataframe, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        levels = method(self, trade.pair, trade, current_time, dataframe)
        if levels is None:
            return None
        return [TpLevel(price=float(price), fraction=float(fraction)) for price, fraction in levels]

    def exit_brain_plan(
        self, pair: str, trade: Any, current_time: datetime, dataframe: Any
    ) -> Sequence[tuple[float, float]] | None:
        """Override to supply the ladder: ``[(price, fraction), ...]``, or None to keep it.

        Return the whole ladder by level; levels already hit are kept as they were. The brain
        cleans it as docs/behaviour.md §4.2 says (cap, normalisation, wrong-side levels dropped).
        """
        return None

    def custom_exit_price(
        self,
        pair: str,
        trade: Any,
        current_time: datetime,
        proposed_rate: float,
        current_profit: float,
        exit_tag: str | None,
        **kwargs: Any,
    ) -> float:
        """Price the brain's exits: the level price for a resting backtest order, else market."""
        if exit_tag and exit_tag.startswith(TAG_PREFIX) and self.eb_active(trade):
            legs = legs_from_tag(exit_tag)
            if self.eb_is_backtest and legs:
                state = self.eb_store.peek(trade) or self.eb_state(trade, check=False)
                if state is not None and legs[-1] <= len(state.tp_levels):
                    level = state.tp_levels[legs[-1] - 1].price
                    side = translate.side_of(trade)
                    if not is_level_reached(side, proposed_rate, level):
                        return level
            return proposed_rate
        if self._eb_host_exit_type == "limit":
            return float(
                super().custom_exit_price(
                    pair=pair,
                    trade=trade,
                    current_time=current_time,
                    proposed_rate=proposed_rate,
                    current_profit=current_profit,
                    exit_tag=exit_tag,
                    **kwargs,
                )
                or proposed_rate
            )
        return proposed_rate

    def should_exit(
        self, trade: Any, rate: float, current_time: datetime, **kwargs: Any
    ) -> list[ExitCheckTuple]:
        """Name a stop exit by the stop that fired (docs/behaviour.md §6).

        ``exit_brain_loss_guard`` at the loss-guard price, else ``exit_brain_stop_<kind>``
        (``initial``, ``breakeven``, ``tp1``, …, ``strategy``), so that freqtrade's exit-reason
        table, FreqUI and Telegram say which stop fired.
        """
        exits: list[ExitCheckTuple] = super().should_exit(trade, rate, current_time, **kwargs)
        if not exits or not self.eb_active(trade):
            return exits
        for index, check in enumerate(exits):
            if check.exit_type in (ExitType.STOP_LOSS, ExitType.TRAILING_STOP_LOSS):
                try:
                    state = self.eb_store.peek(trade) or self.eb_state(trade, check=False)
                    if state is None:
                        continue
                    kind = self._eb_stop_reason(state, trade, float(trade.stop_loss))
                    reason = LOSS_GUARD_TAG if kind == "loss_guard" else stop_tag(kind)
                    exits[index] = ExitCheckTuple(exit_type=check.exit_type, exit_reason=reason)
                except Exception:
                    self._eb_error("should_exit", trade)
        return exits


def _uncopied(method: Any, name: str) -> Any:
    """Return ``method`` under a qualname for which freqtrade passes the trade uncopied."""

    @functools.wraps(method)
    def callback(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    callback.__qualname__ = f"IStrategy.{name}"
    return callback


def _is_resting(trade: Any, tag: str, amount: float, price: float | None) -> bool:
    """Return True when the trade's open exit order already is this one."""
    for order in trade.open_orders:
        if order.ft_order_side != trade.exit_side or order.ft_order_tag != tag:
            continue
        same_price = price is None or math.isclose(order.ft_price, price, rel_tol=1e-9)
        if same_price and math.isclose(order.safe_amount, amount, rel_tol=1e-9):
            return True
    return False


def _plan_method(cls: type) -> Any:
    """Return the strategy's own ``exit_brain_plan`` function (None when only the mixin's)."""
    for klass in cls.__mro__:
        if klass is not ExitBrainMixin and "exit_brain_plan" in vars(klass):
            return vars(klass)["exit_brain_plan"]
    return None


def _next_definition(cls: type, name: str) -> type:
    """Return the first class after ExitBrainMixin in ``cls``'s MRO that defines ``name``."""
    mro = cls.__mro__
    start = mro.index(ExitBrainMixin) + 1
    return next(klass for klass in mro[start:] if name in vars(klass))
