"""``hyperopt -j 2`` pickles the strategy for its workers: the mixin's runtime goes too."""

import copy

import cloudpickle
from freqtrade.resolvers import StrategyResolver

from tests.integration.backtest_harness import make_config


def test_a_started_strategy_pickles_with_its_runtime_and_settings():
    strategy = StrategyResolver.load_strategy(copy.deepcopy(make_config()))
    strategy.ft_bot_start()
    copied = cloudpickle.loads(cloudpickle.dumps(strategy))
    assert copied.eb_runtime.strategy is copied
    assert copied.eb_config == strategy.eb_config
    # the uncopied-trade qualname survives the trip (strategy_wrapper.py)
    assert copied.custom_exit.__qualname__ == "IStrategy.custom_exit"
