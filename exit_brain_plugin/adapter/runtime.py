"""The brain at work on one strategy: settings in force, states, evaluations and commits.

The mixin holds one :class:`ExitBrainRuntime` (``eb_runtime``) and hands every callback to it.

Rules:

1. One name for the settings in force: :attr:`ExitBrainRuntime.settings` (config.json over
   ``exit_brain_defaults``, overlaid by hyperopt or parameter-file values, adapter/settings.py),
   read again at start, at each bot loop and when a tool asks (hyperopt sets new values before
   each backtest, whose first candle is a bot loop). ``enabled`` and ``mode`` cannot be
   overlaid: they are read from :attr:`base`.
2. The trade's filled orders are the ground truth (docs/behaviour.md §3): before any decision a
   state is loaded, adopted, repaired or rebuilt from them (:meth:`ExitBrainRuntime.state`),
   and every repair says so in an ``[EXIT_BRAIN_STATE]`` line.
3. Every verdict is committed one way (:meth:`ExitBrainRuntime.commit`): its events to the
   sink, then its state to the store.
4. Backtests keep the states, the evaluation at one candle open (``adjust_trade_position``
   and ``custom_exit`` ask the same question) and the guard prices in memory, all dropped when
   a new backtest starts on the same strategy (:meth:`ExitBrainRuntime.new_loop`).
5. A failure here raises: the mixin's one error guard writes it and answers for the host.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from exit_brain_plugin.adapter import booking, logsink, monitoring, recovery, translate
from exit_brain_plugin.adapter import freqtrade_internals as internals
from exit_brain_plugin.adapter import settings as settings_room
from exit_brain_plugin.adapter.metrics import MetricsRecorder
from exit_brain_plugin.adapter.rollout import ModeSink, PositionModes, RoutedStore
from exit_brain_plugin.adapter.store import position_key
from exit_brain_plugin.core import (
    BrainConfig,
    BrainEvent,
    Decision,
    ExitOrder,
    Fill,
    FillKind,
    MarketSnapshot,
    Mode,
    PositionState,
    TpLevel,
    classify_stop,
    evaluate_position,
    legs_from_tag,
)
from exit_brain_plugin.core.adapter_lines import host_adjustment_waits, settings_in_force
from exit_brain_plugin.core.events import initialized
from exit_brain_plugin.core.exit_reasons import classify_exit, stop_kind_from_tag
from exit_brain_plugin.core.parameters import describe


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One evaluation of a position: the decision, the state after it, the tick it saw."""

    decision: Decision
    state: PositionState
    snapshot: MarketSnapshot


class ExitBrainRuntime:
    """Settings, states, caches and commits of the brain on one strategy object."""

    def __init__(self, strategy: Any, base: BrainConfig, *, plan_method: Any = None) -> None:
        """:param strategy: the strategy (its ``dp``, ``config``, parameters and ``stoploss``)
        :param base: the validated settings of config.json (adapter/settings.py)
        :param plan_method: the strategy's own ``exit_brain_plan`` function, or None
        """
        self.strategy = strategy
        self.plan_method = plan_method
        self.base = base
        self.backtest = strategy.config.get("runmode") in internals.OPTIMIZE_MODES
        # Each position runs in the mode it was created with (pair_modes, docs/rollout.md).
        self.modes = PositionModes(base, backtest=self.backtest)
        self.store = RoutedStore(self.modes)
        self.sink = ModeSink(self.modes, quiet=self.backtest and base.mode is not Mode.OBSERVE)
        self.metrics: MetricsRecorder | None = None
        self.guards = translate.GuardPrices()
        # Loss-guard price held before an added entry, per position, until the fill-time stop
        # call reprices it (docs/operations.md, "Added entries").
        self.guard_before_add: dict[str, float] = {}
        #: backtests: the stop price the brain answered a fill-time call with, per position, for
        #: the fill rules to keep after freqtrade re-applies the stop (adapter/backtest.py rule 3)
        self.fill_stops: dict[str, float] = {}
        #: the exit order type the host configured (backtests force limit exits)
        self.host_exit_type = "market"
        self._key: tuple[Any, ...] | None = None
        self._settings = base
        self._evaluations: dict[str, tuple[tuple[Any, ...], Evaluation]] = {}
        self._last_loop: datetime | None = None

    # ------------------------------------------------------------------ settings and caches

    @property
    def settings(self) -> BrainConfig:
        """The settings in force: read again at each bot loop (:meth:`refresh_settings`)."""
        return self._settings

    def refresh_settings(self) -> BrainConfig:
        """Read the parameter values again (hyperopt draws new ones before each backtest)."""
        key = settings_room.overlay_key(self.strategy)
        if key != self._key:
            self._key = key
            self._settings = settings_room.in_force(self.base, key)
        return self._settings

    def use_settings(self, base: BrainConfig) -> None:
        """Run the next backtest with ``base`` (``exit-brain tune``): every cache is dropped."""
        self.base = self._settings = base
        self._key = None
        self.refresh_settings()
        self.clear()
        self._last_loop = None

    def clear(self) -> None:
        """Drop the per-backtest caches."""
        self.store.clear()
        self.sink.clear()
        self.guards.clear()
        self._evaluations.clear()

    def new_loop(self, current_time: datetime) -> None:
        """Start a bot loop: in backtests, a time that goes back starts a new backtest."""
        self.refresh_settings()
        if not self.backtest:
            monitoring.upkeep(self)
            return
        if self.strategy.eb_fill_rules:
            internals.install_fill_rules()
        if internals.is_new_backtest(self._last_loop, current_time):
            self.clear()
        self._last_loop = current_time

    # ------------------------------------------------------------------ start

    def before_host_start(self) -> None:
        """Check the freqtrade settings; backtests with the brain force limit exits."""
        strategy = self.strategy
        settings_room.check_freqtrade_settings(strategy, self.base)
        if self.base.enabled and self.backtest:
            self.host_exit_type = internals.force_limit_exits(strategy)
        else:
            self.host_exit_type = str(strategy.order_types.get("exit", "limit"))

    def after_host_start(self, host_definition: Callable[[str], type]) -> None:
        """Install the backtest mechanics or start monitoring; print the mode and settings.

        :param host_definition: returns the class after the mixin that defines a callback
        """
        strategy = self.strategy
        self.refresh_settings()  # the host's ft_bot_start loaded the parameter file
        if self.backtest:
            internals.install_fill_rules()
            strategy.eb_fill_rules = strategy.eb_fill_rules or self.active()
            if self.base.enabled:
                internals.skip_trade_copies(strategy, host_definition)
        if strategy.config.get("runmode") in internals.TRADING_MODES:
            monitoring.start(self)
        logsink.write(initialized(self.mode_label() + self._pairs_line()))
        # freqtrade loaded the parameter file in the host's ft_bot_start: print what runs.
        overrides = describe(internals.file_values(strategy))
        logsink.write(settings_in_force(self.settings.to_dict(), overrides))

    def mode_label(self) -> str:
        """Return the docs/behaviour.md §7 mode label of this run."""
        return settings_room.mode_label(
            self.base,
            may_act=self.modes.may_act(),
            backtest=self.backtest,
            dry_run=bool(self.strategy.config.get("dry_run", True)),
        )

    def _pairs_line(self) -> str:
        if not self.base.enabled:
            return ""
        return self.modes.describe(settings_room.whitelist(self.strategy))

    # ------------------------------------------------------------------ modes

    def active(self, trade: Any = None) -> bool:
        """Return True when the brain acts on ``trade`` (enabled, its position in ``act``).

        Without a trade: True when new positions run in ``act`` by default.
        """
        if not self.base.enabled:
            return False
        if trade is None:
            return self.base.mode is Mode.ACT
        try:
            return self.mode(trade) is Mode.ACT
        except Exception:
            self.error("the mode lookup", trade)
            return False

    def mode(self, trade: Any) -> Mode:
        """Return the mode of the trade's position: the one it was created with (§9.4)."""
        return self.modes.mode_of(trade)

    def error(self, callback: str, trade: Any) -> None:
        """Write a failed callback at ERROR with its traceback (call from an except block)."""
        self.sink.error(
            callback,
            f"{callback} failed for {getattr(trade, 'pair', '?')} (trade "
            f"{getattr(trade, 'id', '?')}); the position keeps its last stop and the next loop "
            "tries again",
        )

    # ------------------------------------------------------------------ commits

    def commit(
        self,
        trade: Any,
        events: Sequence[BrainEvent],
        state: PositionState | None,
        *,
        persist: bool = True,
    ) -> None:
        """Write ``events`` for the trade's position, then store ``state`` (when given)."""
        self.sink.emit(position_key(trade), events)
        if state is not None:
            self.store.save(trade, state, persist=persist)

    # ------------------------------------------------------------------ state

    def state(self, trade: Any, *, check: bool = True) -> PositionState | None:
        """Return the trade's state: stored, repaired or rebuilt from its orders (recovery.py).

        :param check: compare with the trade's orders and rebuild on disagreement (off where
            freqtrade has not yet booked a fill, e.g. the after-fill stop call in backtests)
        """
        return recovery.load(self, trade, check=check)

    def rebuild(
        self, trade: Any, why: str | None, stored: PositionState | None = None
    ) -> PositionState | None:
        """Rebuild the trade's state from its filled orders, say why, and store it."""
        return recovery.rebuild(self, trade, why, stored)

    # ------------------------------------------------------------------ fills and stops

    def fill_of(self, order: Any, trade: Any, state: PositionState | None) -> Fill:
        """Return the core fill of a filled order; a stop exit names the stop it hit."""
        reason = ""
        is_stop = classify_exit(order.ft_order_tag, order.ft_order_side)[0] is FillKind.STOP
        if is_stop and not translate.is_entry(order, trade):
            reason = stop_kind_from_tag(order.ft_order_tag) or ""
            if state is not None and not reason:
                reason = self.stop_reason(state, trade, float(trade.stop_loss or 0.0))
        return translate.fill_from_order(order, trade, stop_reason=reason)

    def guard_price(self, trade: Any) -> float | None:
        """Return the loss-guard price of the trade's position now (None: guard off)."""
        return self.guards.price(position_key(trade), trade, self.settings)

    def stop_reason(self, state: PositionState, trade: Any, stop_price: float) -> str:
        """Return which stop ``stop_price`` is (``loss_guard``, ``breakeven``, ``tp1``, …)."""
        tolerance = (translate.price_step(trade) or 0.0) * 1.01
        return classify_stop(state, stop_price, self.guard_price(trade), tolerance)

    def exit_price(self, trade: Any, exit_tag: str, proposed_rate: float) -> float:
        """Return the price of one of the brain's exits: exact level prices in backtests."""
        legs = legs_from_tag(exit_tag)
        if not (self.backtest and legs):
            return proposed_rate
        state = self.store.peek(trade) or self.state(trade, check=False)
        return internals.exact_exit_price(trade, state, legs, proposed_rate)

    # ------------------------------------------------------------------ answers

    def exit_tag(self, trade: Any, rate: float, profit: float, host: Any) -> Any:
        """Return the ``custom_exit`` answer: the brain's full close, else the host's."""
        result = self.evaluate(trade, rate, profit)
        tag = translate.full_close_tag(None if result is None else result.decision)
        return host if tag is None else tag

    def adjust(
        self, trade: Any, current_time: datetime, rate: float, profit: float, host: Any
    ) -> Any:
        """Return the ``adjust_trade_position`` answer: a partial exit, a resting level, or the
        host's (observe mode books its decisions and answers the host's)."""
        if trade.amount <= 0:
            return host
        if not self.backtest and trade.has_open_orders:
            return host  # live: never replace a resting order (it would be cancelled)
        mode = self.mode(trade)
        if mode is Mode.OFF:
            return host
        result = self.evaluate(trade, rate, profit, self.plan(trade, current_time))
        if result is None or mode is Mode.OBSERVE:
            return host
        decision = result.decision
        if isinstance(decision, ExitOrder):
            if decision.close_all:
                return host  # custom_exit closes the whole position
            if host is not None:
                # freqtrade takes one position adjustment per loop: the brain's exit goes
                # first and the strategy's own adjustment waits (docs/behaviour.md §4 order).
                stake, host_tag = host if isinstance(host, tuple) else (host, None)
                logsink.write(host_adjustment_waits(trade.pair, stake, host_tag, decision.tag))
            return translate.partial_exit(decision, trade)
        if self.backtest and not internals.stop_first(trade, rate):
            resting = internals.resting_exit(trade, result.state, result.snapshot, self.settings)
            return host if resting is None else resting
        return host

    # ------------------------------------------------------------------ evaluation

    def snapshot(self, trade: Any, rate: float, profit: float) -> MarketSnapshot:
        """Return the tick the core decides on, with the exchange's minimums."""
        strategy = self.strategy
        return translate.market_snapshot(
            trade,
            rate,
            profit,
            market=self._market(trade.pair),
            min_remaining_amount=internals.min_remaining_amount(
                strategy.dp, trade, rate, backtest=self.backtest, stoploss=strategy.stoploss
            ),
        )

    def _market(self, pair: str) -> dict[str, Any] | None:
        try:
            return self.strategy.dp.market(pair) if self.strategy.dp else None
        except Exception:
            return None

    def plan(self, trade: Any, current_time: datetime) -> list[TpLevel] | None:
        """Return the ladder the strategy's ``exit_brain_plan`` supplies now, or None."""
        if self.plan_method is None:
            return None
        strategy, dataframe = self.strategy, None
        if strategy.dp:
            dataframe, _ = strategy.dp.get_analyzed_dataframe(trade.pair, strategy.timeframe)
        levels = self.plan_method(strategy, trade.pair, trade, current_time, dataframe)
        return translate.plan_levels(levels)

    def evaluate(
        self, trade: Any, rate: float, profit: float, plan: Sequence[TpLevel] | None = None
    ) -> Evaluation | None:
        """Evaluate the position at ``rate`` and commit the verdict (None: no position yet)."""
        if not self.backtest:
            return self._evaluate_now(trade, rate, profit, plan)
        # Backtests evaluate twice at the same candle open (adjust_trade_position, then
        # custom_exit); the evaluation is idempotent, so the second reuses the first.
        position = position_key(trade)
        seen = self._evaluations.get(position)
        if seen is not None and seen[0] == self._evaluation_key(trade, rate, profit, plan):
            return seen[1]
        result = self._evaluate_now(trade, rate, profit, plan)
        if result is not None:
            key = self._evaluation_key(trade, rate, profit, plan)
            self._evaluations[position] = (key, result)
        return result

    def _evaluation_key(
        self, trade: Any, rate: float, profit: float, plan: Sequence[TpLevel] | None
    ) -> tuple[Any, ...]:
        stored = self.store.peek(trade)
        return (rate, profit, None if plan is None else tuple(plan), trade.amount, id(stored))

    def _evaluate_now(
        self, trade: Any, rate: float, profit: float, plan: Sequence[TpLevel] | None
    ) -> Evaluation | None:
        state = self.state(trade)
        if state is None:
            return None
        snapshot = self.snapshot(trade, rate, profit)
        verdict = evaluate_position(snapshot, state, self.settings, plan)
        # Only the plan, the high-water mark and the loss-guard latch change here; a backtest
        # keeps the high-water mark in memory until the next fill.
        routine = (
            verdict.state.loss_guard_triggered == state.loss_guard_triggered
            and verdict.state.tp_levels == state.tp_levels
        )
        changed = verdict.state != state
        self.commit(trade, verdict.events, verdict.state if changed else None, persist=not routine)
        new_state = verdict.state
        if self.mode(trade) is Mode.OBSERVE and isinstance(verdict.decision, ExitOrder):
            new_state = booking.book_observed(self, trade, verdict.decision, verdict.state)
        result = Evaluation(decision=verdict.decision, state=new_state, snapshot=snapshot)
        monitoring.record(self, trade, result.state, snapshot)
        return result
