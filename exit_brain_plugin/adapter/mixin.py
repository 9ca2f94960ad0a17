"""ExitBrainMixin: the freqtrade callbacks of the exit brain, and nothing else.

Put it FIRST in your strategy's bases, so that it wraps your strategy's own callbacks::

    class MyStrategyWithBrain(ExitBrainMixin, MyStrategy):
        pass

Rules:

1. Each callback keeps freqtrade's literal signature, asks the host strategy first (through
   ``super()``), then hands the brain's part to the runtime (adapter/runtime.py): snapshot →
   state → core → commit → translate. No arithmetic and no freqtrade mechanics here.
2. One error guard (:meth:`ExitBrainMixin._eb_guarded`) around the brain's part of every
   callback: a failure is one ``[EXIT_BRAIN_EXECUTOR]`` ERROR line with its traceback, and the
   callback answers what the host answered (the stop already in place stays). The one
   exception: a fill-time ``custom_stoploss`` call answers None, since freqtrade lets that
   call loosen the stop and the host's raw answer has not been checked against it.
3. Every attribute the mixin adds starts with ``eb_`` / ``_eb_`` (``exit_brain_`` for the
   class-level settings and the plan hook), so it cannot clash with a host strategy's.

How each decision reaches freqtrade (docs/architecture.md, "The way of a price"):

- a partial take-profit: ``adjust_trade_position`` returns ``(-stake, "exit_brain_tpN")``;
- a full close (loss guard, last level, stop backstop): ``custom_exit`` returns its tag;
- the stop (ratchet and loss-guard price): ``custom_stoploss`` returns the tighter of the
  strategy's stop and the brain's, never looser than the stop freqtrade holds;
- fills: ``order_filled`` is the only place sizes, hits and the ratchet change (booking.py);
- backtests: the next level rests as a limit order at its price (``custom_exit_price``)
  (freqtrade_internals.py, backtest.py);
- stop exits are named by the stop that fired (``should_exit``): ``exit_brain_loss_guard`` at
  the loss-guard price, else ``exit_brain_stop_<kind>`` (initial, breakeven, tp1, …).
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from freqtrade.enums import ExitCheckTuple
from freqtrade.exceptions import ConfigurationError
from freqtrade.strategy import DecimalParameter, IStrategy

from exit_brain_plugin.adapter import booking, settings, stops
from exit_brain_plugin.adapter import freqtrade_internals as internals
from exit_brain_plugin.adapter.metrics import MetricsRecorder
from exit_brain_plugin.adapter.runtime import ExitBrainRuntime
from exit_brain_plugin.core import BrainConfig
from exit_brain_plugin.core.tags import TAG_PREFIX


_Answer = TypeVar("_Answer")


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
    eb_runtime: ExitBrainRuntime

    # Hyperopt space "exitbrain"; outside hyperopt they apply only when a parameter file sets
    # them, so config.json stays the source of truth (adapter/settings.py).
    eb_tp_distance_scale = DecimalParameter(0.5, 2.0, default=1.0, decimals=2, space="exitbrain")
    eb_max_unrealized_loss_pct = DecimalParameter(
        5.0, 25.0, default=12.5, decimals=2, space="exitbrain"
    )
    eb_ratchet_offset = DecimalParameter(0.0, 0.01, default=0.0, decimals=4, space="exitbrain")

    def __init__(self, config: dict[str, Any]) -> None:
        """Validate the settings (a bad ``exit_brain`` value stops the bot here)."""
        super().__init__(config)
        base = settings.parse_settings(self.exit_brain_defaults, config)
        settings.check_bases(type(self), ExitBrainMixin)
        settings.own_parameters(self, base)
        plan = settings.plan_method(type(self), ExitBrainMixin)
        self.eb_runtime = ExitBrainRuntime(self, base, plan_method=plan)
        host_stop = self._eb_host("custom_stoploss")
        self._eb_host_stoploss = host_stop is not IStrategy
        self._eb_host_after_fill = self._eb_host_stoploss and internals.takes_after_fill(host_stop)

    # ------------------------------------------------------------------ for tests and tools

    @property
    def eb_config(self) -> BrainConfig:
        """The settings in force (config.json, overlaid by hyperopt / parameter-file values)."""
        return self.eb_runtime.refresh_settings()

    def eb_settings(self) -> BrainConfig:
        """Return the settings in force (the same as :attr:`eb_config`)."""
        return self.eb_runtime.refresh_settings()

    @property
    def eb_metrics(self) -> MetricsRecorder | None:
        """The metrics recorder of a live or dry-run bot with metrics on, else None."""
        return self.eb_runtime.metrics

    def eb_use_settings(self, section: dict[str, Any]) -> None:
        """Backtest the next run with the ``exit_brain`` section ``section`` (``exit-brain tune``).

        Same as a strategy loaded with that section: the settings are validated and every
        per-run cache is dropped. ``enabled`` and ``mode`` must stay as loaded (they shape
        startup), so a tuner keeps one strategy per value of them.

        :raises ConfigurationError: for a bad value, or a changed ``enabled`` / ``mode``
        """
        base = settings.parse_settings(self.exit_brain_defaults, {"exit_brain": section})
        loaded = self.eb_runtime.base
        if (base.enabled, base.mode) != (loaded.enabled, loaded.mode):
            raise ConfigurationError("eb_use_settings cannot change exit_brain.enabled or mode")
        settings.own_parameters(self, base)
        self.eb_runtime.use_settings(base)

    def exit_brain_plan(
        self, pair: str, trade: Any, current_time: datetime, dataframe: Any
    ) -> Sequence[tuple[float, float]] | None:
        """Override to supply the ladder: ``[(price, fraction), ...]``, or None to keep it.

        Return the whole ladder by level; levels already hit are kept as they were. The brain
        cleans it as docs/behaviour.md §4.2 says (cap, normalisation, wrong-side levels dropped).
        """
        return None

    # ------------------------------------------------------------------ the guard

    def _eb_guarded(
        self, callback: str, trade: Any, host: _Answer, step: Callable[..., _Answer], *args: Any
    ) -> _Answer:
        # The one error guard: the brain's failure is logged and the host's answer stands.
        try:
            return step(*args)
        except Exception:
            self.eb_runtime.error(callback, trade)
            return host

    def _eb_host(self, name: str) -> type:
        # The class after the mixin that defines callback ``name`` (IStrategy: none of the host's).
        return settings.next_definition(type(self), ExitBrainMixin, name)

    # ------------------------------------------------------------------ freqtrade callbacks

    def ft_bot_start(self, **kwargs: Any) -> None:
        """Check the freqtrade settings the brain relies on, then start the strategy."""
        self.eb_runtime.before_host_start()
        super().ft_bot_start(**kwargs)
        self.eb_runtime.after_host_start(self._eb_host)

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Backtests: a new backtest drops the previous one's caches; live: monitoring upkeep."""
        self.eb_runtime.new_loop(current_time)
        super().bot_loop_start(current_time=current_time, **kwargs)

    def order_filled(
        self, pair: str, trade: Any, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Book a fill: create the state at the first entry, update it on every exit."""
        super().order_filled(
            pair=pair, trade=trade, order=order, current_time=current_time, **kwargs
        )
        runtime = self.eb_runtime
        if runtime.base.enabled:
            self._eb_guarded("order_filled", trade, None, booking.book_order, runtime, trade, order)

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
        runtime = self.eb_runtime
        if not runtime.active(trade):
            return host
        # On a fill-time call the host's raw answer may loosen the stop: there, failing
        # answers None (freqtrade keeps the stop it holds).
        fallback = None if after_fill else host
        return self._eb_guarded(
            "custom_stoploss",
            trade,
            fallback,
            stops.answer,
            runtime,
            trade,
            current_rate,
            host,
            after_fill,
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
        runtime = self.eb_runtime
        if not runtime.active(trade):
            return host
        return self._eb_guarded(
            "custom_exit", trade, host, runtime.exit_tag, trade, current_rate, current_profit, host
        )

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
        runtime = self.eb_runtime
        if not runtime.base.enabled:
            return host
        return self._eb_guarded(
            "adjust_trade_position",
            trade,
            host,
            runtime.adjust,
            trade,
            current_time,
            current_exit_rate,
            current_exit_profit,
            host,
        )

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
        runtime = self.eb_runtime
        if exit_tag and exit_tag.startswith(TAG_PREFIX) and runtime.active(trade):
            return self._eb_guarded(
                "custom_exit_price",
                trade,
                proposed_rate,
                runtime.exit_price,
                trade,
                exit_tag,
                proposed_rate,
            )
        if runtime.host_exit_type == "limit":
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
        runtime = self.eb_runtime
        if not exits or not runtime.active(trade):
            return exits
        return self._eb_guarded(
            "should_exit",
            trade,
            exits,
            internals.rename_stop_exits,
            exits,
            lambda: stops.exit_name(runtime, trade),
        )
