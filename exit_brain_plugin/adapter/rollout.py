"""The mode each position runs in (docs/behaviour.md §9.4), and where its state lives.

A position's mode is resolved once, when the brain first sees it with a filled entry, from
``pair_modes`` and ``mode`` (core/rollout.py), and it is recorded in the trade database:

- ``act``: the state under the custom-data key ``exit_brain``, with ``"mode": "act"``;
- ``observe``: the state under ``exit_brain_observe``, with ``"mode": "observe"``;
- ``off``: no state; one custom-data row ``exit_brain_mode`` = ``"off"``, so that a later
  rollout change (a reload, a restart) does not adopt the position. Nothing else happens to it:
  no stop, no exit, no log line.

A recorded mode is kept until the position closes, whatever ``pair_modes`` or ``mode`` say
later. A state written by an earlier release has no mode: it takes the mode resolved now, once,
and that mode is written back at once. Backtests and hyperopt run every position in ``mode``
(per-pair modes are a rollout tool of a running bot, §9) and read nothing here.
"""

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from exit_brain_plugin.adapter import logsink
from exit_brain_plugin.adapter.logsink import EventSink
from exit_brain_plugin.adapter.store import OBSERVE_KEY, STATE_KEY, StateStore, position_key
from exit_brain_plugin.core import BrainConfig, BrainEvent, Mode, PositionState, StateError
from exit_brain_plugin.core.adapter_lines import mode_adopted
from exit_brain_plugin.core.rollout import describe_pair_modes, resolve_mode


MODE_KEY = "exit_brain_mode"
OBSERVE_SUFFIX = " [OBSERVE: not executed]"
# Open positions whose mode is kept in memory; older ones are read again from the database.
_MAX_POSITIONS = 4096


class PositionModes:
    """Resolve, record and remember the mode of each position."""

    def __init__(self, config: BrainConfig, *, backtest: bool) -> None:
        """:param config: the validated settings (``mode``, ``pair_modes``)
        :param backtest: backtest or hyperopt: every position runs in ``mode``, nothing is read
        """
        self.config = config
        self.backtest = backtest
        self.stores = {
            Mode.ACT: StateStore(STATE_KEY, cache=backtest),
            Mode.OBSERVE: StateStore(OBSERVE_KEY, cache=backtest),
        }
        self._modes: dict[str, Mode] = {}

    def resolve(self, pair: str) -> Mode:
        """Return the mode a new position of ``pair`` would run in now."""
        if self.backtest:
            return self.config.mode
        return resolve_mode(pair, self.config.pair_modes, self.config.mode)

    def describe(self, pairs: Iterable[str]) -> str:
        """Return the mode line's per-pair part, or ``""`` without ``pair_modes``."""
        if self.backtest or not self.config.pair_modes:
            return ""
        return " - " + describe_pair_modes(pairs, self.config.pair_modes, self.config.mode)

    def may_act(self) -> bool:
        """Return True when some new position may run in ``act``."""
        if self.config.mode is Mode.ACT:
            return True
        return not self.backtest and any(entry.mode is Mode.ACT for entry in self.config.pair_modes)

    def known(self, key: str) -> Mode | None:
        """Return the mode of the position ``key`` if already looked up, else None."""
        return self.config.mode if self.backtest else self._modes.get(key)

    def mode_of(self, trade: Any) -> Mode:
        """Return the mode of the trade's position: recorded, else resolved now and recorded.

        A trade without a filled entry has no position yet: its mode is what a position
        created now would get, and nothing is recorded.
        """
        if self.backtest:
            return self.config.mode
        key = position_key(trade)
        mode = self._modes.get(key)
        if mode is not None:
            return mode
        mode = self._recorded(trade)
        if mode is None:
            if not _has_position(trade):
                return self.resolve(trade.pair)
            mode = self._record(trade, self.resolve(trade.pair))
        if len(self._modes) >= _MAX_POSITIONS:
            self._modes.pop(next(iter(self._modes)))
        self._modes[key] = mode
        return mode

    def _recorded(self, trade: Any) -> Mode | None:
        try:
            if trade.get_custom_data(MODE_KEY) == str(Mode.OFF):
                return Mode.OFF
        except (ValueError, TypeError):
            pass  # a foreign row under our key: not an `off` record
        for mode, store in self.stores.items():
            try:
                state = store.load(trade)
            except StateError:
                return mode  # an unreadable state: its key says how the position runs
            if state is not None and state.mode is not None:
                return state.mode
        return None

    def _record(self, trade: Any, mode: Mode) -> Mode:
        # The position has no recorded mode: a new position, one opened while the brain was
        # off or absent, or a state written by an earlier release. Record the mode now, once.
        if mode is Mode.OFF:
            trade.set_custom_data(MODE_KEY, str(Mode.OFF))
            return mode
        store = self.stores[mode]
        state = store.load(trade)
        if state is not None:
            store.save(trade, replace(state, mode=mode))
            logsink.write(mode_adopted(trade.pair, str(mode)))
        # Without a state under its key, the brain creates or rebuilds one (with its mode)
        # in this same callback.
        return mode


def _has_position(trade: Any) -> bool:
    return bool(trade.amount and trade.amount > 0) and any(
        order.ft_order_side == trade.entry_side and (order.filled or 0) > 0
        for order in trade.orders
    )


class RoutedStore:
    """The state store of each trade's mode, with :class:`StateStore`'s interface."""

    def __init__(self, modes: PositionModes) -> None:
        """:param modes: resolves each trade's mode"""
        self.modes = modes
        self.use_cache = modes.backtest

    def _store(self, trade: Any) -> StateStore | None:
        return self.modes.stores.get(self.modes.mode_of(trade))

    def load(self, trade: Any) -> PositionState | None:
        """Return the stored state of the trade's mode (None for an ``off`` position)."""
        store = self._store(trade)
        return None if store is None else store.load(trade)

    def save(self, trade: Any, state: PositionState, *, persist: bool = True) -> None:
        """Store ``state`` under the key of the trade's mode, stamped with that mode."""
        mode = self.modes.mode_of(trade)
        store = self.modes.stores.get(mode)
        if store is None:
            return  # off: the brain writes nothing
        if state.mode is not mode:
            state = replace(state, mode=mode)
        store.save(trade, state, persist=persist)

    def peek(self, trade: Any) -> PositionState | None:
        """Return the cached state (backtests only; None otherwise)."""
        store = self._store(trade) if self.use_cache else None
        return None if store is None else store.peek(trade)

    def clear(self) -> None:
        """Drop the caches (a new backtest started)."""
        for store in self.modes.stores.values():
            store.clear()


class ModeSink(EventSink):
    """An :class:`EventSink` whose lines say ``[OBSERVE: not executed]`` for observe positions."""

    def __init__(self, modes: PositionModes, *, quiet: bool = False) -> None:
        """:param modes: knows each position's mode
        :param quiet: write INFO lines at DEBUG (backtests)
        """
        super().__init__(quiet=quiet)
        self.modes = modes

    def emit(self, position_key: str, events: Iterable[BrainEvent]) -> None:
        """Write each new event, marked when the position only observes."""
        mode = self.modes.known(position_key)
        if mode is Mode.OFF:
            return
        self.suffix = OBSERVE_SUFFIX if mode is Mode.OBSERVE else ""
        self.executed = None if mode is None else mode is Mode.ACT
        super().emit(position_key, events)
