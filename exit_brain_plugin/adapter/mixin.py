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
  fills at the open; a stop exit at the loss-guard price is reported as
  ``exit_brain_loss_guard`` (``should_exit``).
"""

import copy
import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from freqtrade.enums import ExitCheckTuple, ExitType, RunMode
from freqtrade.exceptions import ConfigurationError
from freqtrade.strategy import DecimalParameter, IStrategy

from exit_brain_plugin.adapter import translate
from exit_brain_plugin.adapter.logsink import EventSink
from exit_brain_plugin.adapter.store import OBSERVE_KEY, STATE_KEY, StateStore, position_key
from exit_brain_plugin.core import (
    LOSS_GUARD_TAG,
    BrainConfig,
    ConfigError,
    Decision,
    ExitKind,
    ExitOrder,
    Fill,
    FillKind,
    MarketSnapshot,
    Mode,
    PositionState,
    StateError,
    TpLevel,
    apply_fill,
    classify_stop,
    create_state,
    evaluate_position,
    evaluate_stop,
    legs_from_tag,
    parse_config,
    price_resting_exit,
    rebuild_state,
)
from exit_brain_plugin.core.events import TAG_PREFIX, initialized, state_note
from exit_brain_plugin.core.pricing import is_level_reached


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
# Hyperoptable settings (space "exitbrain"): parameter name -> setting it overrides.
_PARAMETERS = {
    "eb_tp_distance_scale": "tp_distance_scale",
    "eb_max_unrealized_loss_pct": "max_unrealized_loss_pct",
    "eb_ratchet_offset": "ratchet_offset",
}


class ExitBrainMixin(IStrategy):  # type: ignore[misc]
    """Take-profit ladder, ratcheting stop and loss guard for any freqtrade strategy.

    Settings come from the ``exit_brain`` section of config.json (SPEC §2), over the class
    attribute ``exit_brain_defaults``. A strategy may override :meth:`exit_brain_plan` to
    supply its own ladder.
    """

    # The brain needs these; bot_start refuses a config that turns them off.
    use_custom_stoploss = True
    position_adjustment_enable = True
    use_exit_signal = True

    exit_brain_defaults: ClassVar[dict[str, Any]] = {}
    order_types: dict[str, Any]

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
        self.eb_store = StateStore(OBSERVE_KEY if observe else STATE_KEY, cache=self.eb_is_backtest)
        self.eb_sink = EventSink(
            quiet=self.eb_is_backtest and not observe,
            suffix=" [OBSERVE: not executed]" if observe else "",
        )
        self._eb_last_loop: datetime | None = None
        self._eb_guard_cache: dict[str, tuple[tuple[Any, ...], float | None]] = {}
        self._eb_last_evaluation: dict[str, tuple[tuple[Any, ...], _Evaluation]] = {}
        self._eb_host_exit_type = "market"
        self._eb_host_stoploss = _next_definition(type(self), "custom_stoploss") is not IStrategy

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
        if self.eb_config.enabled and self.eb_is_backtest:
            self._eb_skip_trade_copies()
        logger.info(initialized(self.eb_mode_label()).render())
        logger.info(
            "[EXIT_BRAIN_EXECUTOR] Settings: %s",
            ", ".join(f"{key}={value}" for key, value in self.eb_config.to_dict().items()),
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
        """Refuse a config that turns off what the brain needs (SPEC §6, STYLE §5.6).

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

    def eb_mode_label(self) -> str:
        """Return the SPEC §7 mode label of this run."""
        if self.eb_config.mode is Mode.OBSERVE:
            return "OBSERVE MODE"
        if not self.eb_config.enabled:
            return "DISABLED MODE (exit_brain.enabled=false)"
        if self.eb_is_backtest:
            return "BACKTEST MODE"
        return "SHADOW MODE (dry-run)" if self.config.get("dry_run", True) else "LIVE MODE"

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Detect a new backtest (time went back): drop the caches of the previous one."""
        if self.eb_is_backtest:
            if self._eb_last_loop is not None and current_time <= self._eb_last_loop:
                self.eb_store.clear()
                self.eb_sink.clear()
                self._eb_guard_cache.clear()
                self._eb_last_evaluation.clear()
            self._eb_last_loop = current_time
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
        base = self.eb_base_config.to_dict()
        scale = values.get("eb_tp_distance_scale")
        if scale is not None:
            base["tp_distances"] = [distance * scale for distance in base["tp_distances"]]
            if base["tp_atr_multipliers"] is not None:
                base["tp_atr_multipliers"] = [k * scale for k in base["tp_atr_multipliers"]]
            if max(base["tp_distances"]) >= 1.0:
                base["tp_distances"] = self.eb_base_config.to_dict()["tp_distances"]
        for name in ("eb_max_unrealized_loss_pct", "eb_ratchet_offset"):
            if values.get(name) is not None:
                base[_PARAMETERS[name]] = values[name]
        return parse_config(base)

    # ----------------------------------------------------------------- state

    def eb_active(self) -> bool:
        """Return True when the brain acts on trades (enabled, not observing)."""
        return self.eb_config.enabled and self.eb_config.mode is Mode.ACT

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
            return self._eb_rebuild(trade, None)
        if check and self.eb_active() and not self._eb_agrees(state, trade):
            return self._eb_rebuild(
                trade,
                f"stored remaining_size={state.remaining_size} disagrees with the trade's "
                f"amount {trade.amount}",
            )
        return state

    def _eb_agrees(self, state: PositionState, trade: Any) -> bool:
        if state.exit_kind is not None or not trade.is_open:
            return True
        step = translate.amount_step(trade) or 0.0
        return math.isclose(state.remaining_size, trade.amount, rel_tol=1e-9, abs_tol=step)

    def _eb_rebuild(self, trade: Any, why: str | None) -> PositionState | None:
        # The trade's filled orders are the ground truth (SPEC §3).
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
        )
        fills = [self._eb_fill(order, trade, None) for order in orders if order is not first]
        if self.eb_config.mode is Mode.OBSERVE:
            fills = [fill for fill in fills if fill.kind is FillKind.ENTRY]
        verdict = rebuild_state(opening, fills, self.eb_settings())
        state = verdict.state
        if why is None:
            # No stored state for a trade with fills: the brain was off or absent when it
            # opened, or the row was deleted. A repair, not a normal start: say so (SPEC §3).
            created = [event for event in verdict.events if event.key == "created"]
            self.eb_sink.emit(position_key(trade), created)
        note = state_note(
            trade.pair,
            translate.side_of(trade),
            f"state {'rebuilt' if why else 'created'} from {len(orders)} filled orders"
            + (f": {why}" if why else " (no stored state)")
            + f" - remaining_size={state.remaining_size}, tp_hits_count="
            f"{state.tp_hits_count}, sl_reason={state.sl_reason}",
        )
        self.eb_sink.emit(position_key(trade), (note,))
        self.eb_store.save(trade, state)
        return state

    def _eb_fill(self, order: Any, trade: Any, state: PositionState | None) -> Fill:
        reason = ""
        if not translate.is_entry(order, trade):
            kind, _ = translate.exit_fill_kind(order.ft_order_tag, order.ft_order_side)
            if kind is FillKind.STOP and state is not None:
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
        if self.eb_config.mode is Mode.OBSERVE and isinstance(verdict.decision, ExitOrder):
            new_state = self._eb_observe(trade, verdict.decision, verdict.state)
        return _Evaluation(decision=verdict.decision, state=new_state, snapshot=snapshot)

    def _eb_observe(self, trade: Any, order: ExitOrder, state: PositionState) -> PositionState:
        # Observe mode: nothing is sent; the decision is booked as if it had filled at the
        # decision price, so the shadow ladder and ratchet go on (SPEC §6).
        kind = {
            ExitKind.TAKE_PROFIT: FillKind.TAKE_PROFIT,
            ExitKind.LOSS_GUARD: FillKind.LOSS_GUARD,
        }.get(order.kind, FillKind.STOP)
        fill = Fill(
            kind=kind,
            filled_amount=order.amount,
            price=order.price,
            order_id="observe",
            legs=order.legs,
            reason=order.tag,
            amount_step=translate.amount_step(trade),
        )
        verdict = apply_fill(state, fill, self.eb_settings())
        self.eb_sink.emit(position_key(trade), verdict.events)
        self.eb_store.save(trade, verdict.state)
        return verdict.state

    def _eb_error(self, callback: str, trade: Any) -> None:
        logger.error(
            "[EXIT_BRAIN_EXECUTOR] %s failed for %s (trade %s); the position keeps its last "
            "stop and the next loop tries again",
            callback,
            getattr(trade, "pair", "?"),
            getattr(trade, "id", "?"),
            exc_info=True,  # noqa: LOG014 - called from the except blocks below
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
        key = position_key(trade)
        state = self.eb_store.peek(trade)
        if state is None:
            try:
                state = self.eb_store.load(trade)
            except StateError as error:
                state = self._eb_rebuild(trade, f"stored state rejected ({error})")
                return  # the rebuild replayed this fill too
        if state is None:
            if not translate.is_entry(order, trade):
                return
            opening = translate.opening_from_trade(
                trade,
                amount=float(trade.amount),
                entry_price=float(trade.open_rate),
                stop_price=trade.stop_loss,
                atr=self._eb_atr(trade),
            )
            verdict = create_state(opening, self.eb_settings())
            self.eb_sink.emit(key, verdict.events)
            self.eb_store.save(trade, verdict.state)
            return
        if self.eb_config.mode is Mode.OBSERVE and not translate.is_entry(order, trade):
            return  # observe mode books its own virtual fills
        live_check = not self.eb_is_backtest and self.eb_config.mode is Mode.ACT and trade.is_open
        if live_check and self._eb_agrees(state, trade):
            # Live, freqtrade calls order_filled after booking the fill in trade.amount: a
            # state that already agrees has booked this order (freqtrade's recovery paths run
            # an order through update_trade_state again). Never count a fill twice.
            logger.debug(
                "[EXIT_BRAIN_EXECUTOR] %s: order %s already booked", trade.pair, order.order_id
            )
            return
        fill = self._eb_fill(order, trade, state)
        verdict = apply_fill(state, fill, self.eb_settings())
        self.eb_sink.emit(key, verdict.events)
        if live_check and not self._eb_agrees(verdict.state, trade):
            self._eb_rebuild(
                trade,
                f"after order {order.order_id} remaining_size={verdict.state.remaining_size} "
                f"disagrees with the trade's amount {trade.amount}",
            )
            return
        self.eb_store.save(trade, verdict.state)

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
        """Return the tighter of the strategy's stop and the brain's (ratchet, loss guard)."""
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
            if self._eb_host_stoploss
            else None
        )
        if not self.eb_active():
            return host
        try:
            state = self.eb_state(trade, check=not after_fill)
            if state is None:
                return host
            target = evaluate_stop(
                state,
                self.eb_settings(),
                held_stop_price=float(trade.stop_loss) if trade.stop_loss else None,
                host_stop_price=translate.stop_price_from_ratio(host, current_rate, trade),
                loss_guard_price=self._eb_guard_price(trade),
            )
            if target is None:
                return host
            ratio = translate.stop_ratio_from_price(target.price, current_rate, trade)
            return host if ratio is None else ratio
        except Exception:
            self._eb_error("custom_stoploss", trade)
            return host

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
        if not self.eb_active():
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
            plan = self._eb_plan(trade, current_time)
            result = self._eb_evaluate(trade, current_exit_rate, current_exit_profit, plan)
            if result is None or self.eb_config.mode is Mode.OBSERVE:
                return host
            decision = result.decision
            if isinstance(decision, ExitOrder):
                if decision.close_all:
                    return host  # custom_exit closes the whole position
                return (
                    translate.stake_for_amount(
                        decision.amount, trade, translate.amount_step(trade)
                    ),
                    decision.tag,
                )
            if self.eb_is_backtest:
                return self._eb_resting_exit(trade, result.state, result.snapshot) or host
        except Exception:
            self._eb_error("adjust_trade_position", trade)
        return host

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
        if type(self).exit_brain_plan is ExitBrainMixin.exit_brain_plan:
            return None
        dataframe = None
        if self.dp:
            dataframe, _ = self.dp.get_analyzed_dataframe(trade.pair, self.timeframe)
        levels = self.exit_brain_plan(trade.pair, trade, current_time, dataframe)
        if levels is None:
            return None
        return [TpLevel(price=float(price), fraction=float(fraction)) for price, fraction in levels]

    def exit_brain_plan(
        self, pair: str, trade: Any, current_time: datetime, dataframe: Any
    ) -> Sequence[tuple[float, float]] | None:
        """Override to supply the ladder: ``[(price, fraction), ...]``, or None to keep it.

        Return the whole ladder by level; levels already hit are kept as they were. The brain
        cleans it as SPEC §4.2 says (cap, normalisation, wrong-side levels dropped).
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
        if exit_tag and exit_tag.startswith(TAG_PREFIX) and self.eb_active():
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
        """Report a stop exit at the loss-guard price as ``exit_brain_loss_guard`` (SPEC §6)."""
        exits: list[ExitCheckTuple] = super().should_exit(trade, rate, current_time, **kwargs)
        if not exits or not self.eb_active():
            return exits
        for index, check in enumerate(exits):
            if check.exit_type in (ExitType.STOP_LOSS, ExitType.TRAILING_STOP_LOSS):
                try:
                    state = self.eb_store.peek(trade) or self.eb_state(trade, check=False)
                    if (
                        state is not None
                        and self._eb_stop_reason(state, trade, float(trade.stop_loss))
                        == "loss_guard"
                    ):
                        exits[index] = ExitCheckTuple(
                            exit_type=check.exit_type, exit_reason=LOSS_GUARD_TAG
                        )
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


def _next_definition(cls: type, name: str) -> type:
    """Return the first class after ExitBrainMixin in ``cls``'s MRO that defines ``name``."""
    mro = cls.__mro__
    start = mro.index(ExitBrainMixin) + 1
    return next(klass for klass in mro[start:] if name in vars(klass))
