"""Load and save a position's state in the trade's custom data, under one key.

Live and dry-run, custom data is a table of the trade database, committed on every write: it
survives restarts. Backtests keep it in memory; freqtrade clears it at the start of every
backtest (and every hyperopt epoch). Reading it there is a linear scan over all rows, so
backtests also keep a cache that is dropped whenever a new backtest starts.

freqtrade fixes a custom-data row's type at its first write and decodes every later read with
it (``cd_type``). A row that could not be read (undecodable JSON, a foreign type such as a
string or an int, a write by another tool) is therefore deleted before the repaired state is
written, or the repaired state would be stored as that type and rejected again on every loop.

Backtests write their rows through ``freqtrade_internals.BacktestRows`` (no scan of every row
of every trade per write); a rejected row keeps freqtrade's own delete-and-write.
"""

from typing import Any

from freqtrade.persistence import LocalTrade

from exit_brain_plugin.adapter.freqtrade_internals import BacktestRows
from exit_brain_plugin.core import PositionState, StateError, from_json_dict, to_json_dict


_KEY_ATTRIBUTE = "_exit_brain_position_key"
STATE_KEY = "exit_brain"
OBSERVE_KEY = "exit_brain_observe"


def position_key(trade: Any) -> str:
    """Return a key naming one trade, stable across freqtrade's deep copies of it.

    A backtest's trade (``LocalTrade`` itself, passed uncopied to the brain's callbacks, its
    id and open date fixed when it opens) keeps its key on itself: a dozen lookups per candle.
    """
    if type(trade) is LocalTrade:
        key = trade.__dict__.get(_KEY_ATTRIBUTE)
        if key is None:
            key = f"{trade.id}:{trade.pair}:{trade.open_date_utc.timestamp():.0f}"
            trade.__dict__[_KEY_ATTRIBUTE] = key
        return str(key)
    return f"{trade.id}:{trade.pair}:{trade.open_date_utc.timestamp():.0f}"


class StateStore:
    """Custom-data persistence with an optional in-memory cache (backtests only)."""

    def __init__(self, key: str, *, cache: bool) -> None:
        """:param key: custom-data key
        :param cache: keep states in memory (only where nothing else writes custom data)
        """
        self.key = key
        self.use_cache = cache
        self._cache: dict[str, PositionState] = {}
        # Trades whose stored row was rejected: the next save replaces the row (see above).
        self._rejected: set[str] = set()
        self._rows = BacktestRows() if cache else None

    def load(self, trade: Any) -> PositionState | None:
        """Return the stored state, or None when the trade has none.

        :raises StateError: when what is stored cannot be trusted
        """
        if self.use_cache:
            # Backtests: every state saved since the backtest started is in the cache, and
            # freqtrade's custom data started empty with it; a miss means "no state" (and
            # reading custom data would scan every row of every trade).
            return self._cache.get(position_key(trade))
        try:
            raw = trade.get_custom_data(self.key)
        except (ValueError, TypeError) as error:  # undecodable JSON or a foreign type
            self._rejected.add(position_key(trade))
            raise StateError(f"stored state for {trade.pair} is unreadable: {error}") from error
        if raw is None:
            return None
        try:
            state = from_json_dict(raw)
        except StateError:
            self._rejected.add(position_key(trade))
            raise
        return state

    def save(self, trade: Any, state: PositionState, *, persist: bool = True) -> None:
        """Store ``state`` in the trade's custom data.

        Backtests keep states in the cache and write custom data only when a fill closes the
        position: freqtrade scans all its rows on every write (persistence/custom_data.py),
        and nothing reads them during the backtest. ``persist=False`` also keeps a live write
        back (unused live: there is no cache).
        """
        if self.use_cache:
            self._cache[position_key(trade)] = state
            closing = state.exit_kind is not None or state.remaining_size <= 0
            persist = persist and closing
        if persist or not self.use_cache:
            key = position_key(trade)
            if key in self._rejected:
                trade.delete_custom_data(self.key)  # a new row, of type dict
                self._rejected.discard(key)
            elif self._rows is not None:
                self._rows.write(trade, self.key, to_json_dict(state))
                return
            trade.set_custom_data(self.key, to_json_dict(state))

    def peek(self, trade: Any) -> PositionState | None:
        """Return the cached state without reading custom data (None when not cached)."""
        return self._cache.get(position_key(trade)) if self.use_cache else None

    def clear(self) -> None:
        """Drop the cache (a new backtest started)."""
        self._cache.clear()
        self._rejected.clear()
