"""The freqtrade internals the adapter leans on (adapter/freqtrade_internals.py), checked against
freqtrade itself: each test fails when freqtrade changes the behaviour the room cites."""

import copy
from datetime import UTC, datetime
from types import SimpleNamespace

from freqtrade.data.dataprovider import DataProvider
from freqtrade.enums import ExitCheckTuple, ExitType
from freqtrade.persistence import LocalTrade
from freqtrade.persistence.custom_data import CustomDataWrapper
from freqtrade.resolvers import StrategyResolver
from freqtrade.strategy.strategy_wrapper import strategy_safe_wrapper

from exit_brain_plugin.adapter import freqtrade_internals as internals
from exit_brain_plugin.adapter.store import position_key
from tests.integration.backtest_harness import make_config


def _seen_trade(callback):
    seen = []

    def method(*, trade):
        seen.append(trade)

    wrapped = callback(method)
    trade = SimpleNamespace(pair="ETH/BTC")
    strategy_safe_wrapper(wrapped)(trade=trade)
    return seen[0], trade


def test_strategy_wrapper_passes_the_trade_uncopied_only_under_the_istrategy_qualname():
    # strategy/strategy_wrapper.py: the deep copy is skipped for "IStrategy." qualnames.
    seen, trade = _seen_trade(lambda method: internals.uncopied(method, "custom_exit"))
    assert seen is trade
    seen, trade = _seen_trade(lambda method: method)
    assert seen is not trade


def test_the_dataprovider_keeps_the_exchange_as_a_private_attribute():
    exchange = object()
    assert DataProvider({}, exchange)._exchange is exchange


def test_a_loaded_strategy_has_its_parameter_file_values_by_space():
    strategy = StrategyResolver.load_strategy(copy.deepcopy(make_config()))
    assert isinstance(strategy._ft_params_from_file, dict)
    assert internals.file_values(strategy) == {}


def test_renaming_a_stop_exit_keeps_its_exit_type():
    exits = [
        ExitCheckTuple(exit_type=ExitType.STOP_LOSS),
        ExitCheckTuple(exit_type=ExitType.ROI),
    ]
    renamed = internals.rename_stop_exits(exits, lambda: "exit_brain_stop_breakeven")
    assert renamed[0].exit_type is ExitType.STOP_LOSS
    assert renamed[0].exit_reason == "exit_brain_stop_breakeven"
    assert renamed[1].exit_reason == ExitType.ROI.value


def test_backtests_force_limit_exits_and_remember_the_hosts_type():
    strategy = SimpleNamespace(order_types={"entry": "limit", "exit": "market"})
    assert internals.force_limit_exits(strategy) == "market"
    assert strategy.order_types == {"entry": "limit", "exit": "limit"}


def test_backtest_rows_read_back_through_freqtrade(monkeypatch):
    # persistence/custom_data.py: backtests keep rows in CustomDataWrapper.custom_data (use_db
    # False) and get_custom_data reads that list; a reset starts a new list.
    monkeypatch.setattr(CustomDataWrapper, "use_db", False)
    monkeypatch.setattr(CustomDataWrapper, "custom_data", [])
    rows = internals.BacktestRows()
    first, second = SimpleNamespace(id=1), SimpleNamespace(id=2)
    rows.write(first, "exit_brain", {"tp_hits_count": 1})
    rows.write(second, "exit_brain", {"tp_hits_count": 0})
    rows.write(first, "exit_brain", {"tp_hits_count": 2})  # updated in place, not a second row

    (row,) = CustomDataWrapper.get_custom_data(trade_id=1, key="exit_brain")
    assert (row.cd_type, row.value) == ("dict", {"tp_hits_count": 2})
    assert len(CustomDataWrapper.custom_data) == 2

    CustomDataWrapper.reset_custom_data()  # the next backtest
    assert CustomDataWrapper.get_custom_data(trade_id=1, key="exit_brain") == []
    rows.write(first, "exit_brain", {"tp_hits_count": 3})
    (row,) = CustomDataWrapper.get_custom_data(trade_id=1, key="exit_brain")
    assert row.value == {"tp_hits_count": 3}
    assert len(CustomDataWrapper.custom_data) == 1


def test_a_backtest_trade_keeps_its_position_key_and_a_live_one_is_keyed_afresh():
    # Backtests pass freqtrade's own LocalTrade (id and open date fixed at its opening): its
    # key is kept on it. Any other object (live trades and their copies) is keyed every time.
    opened = datetime(2018, 1, 10, 8, 0, tzinfo=UTC)
    trade = LocalTrade(id=7, pair="ETH/BTC", open_date=opened, amount=1.0, open_rate=0.1)
    expected = f"7:ETH/BTC:{opened.timestamp():.0f}"
    assert position_key(trade) == expected
    assert trade.__dict__["_exit_brain_position_key"] == expected
    assert position_key(copy.deepcopy(trade)) == expected
    live = SimpleNamespace(id=7, pair="ETH/BTC", open_date_utc=opened)
    assert position_key(live) == expected
    live.id = 8  # a key is never stale on an object freqtrade may change
    assert position_key(live).startswith("8:")
