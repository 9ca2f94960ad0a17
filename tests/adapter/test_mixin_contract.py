"""ExitBrainMixin against freqtrade's strategy loader: startup checks and callback contracts."""

import copy
import logging

import pytest
from freqtrade.enums import RunMode
from freqtrade.exceptions import ConfigurationError, OperationalException
from freqtrade.resolvers import StrategyResolver
from freqtrade.strategy import IStrategy

from exit_brain_plugin.adapter import ExitBrainMixin, translate
from tests.integration.backtest_harness import make_config


def _load(config):
    return StrategyResolver.load_strategy(copy.deepcopy(config))


def test_loading_the_sample_strategy_enables_the_after_fill_stop_call():
    strategy = _load(
        make_config(strategy="ExitBrainSampleStrategy", timeframe="5m") | {"strategy_path": None}
    )
    assert strategy._ft_stop_uses_after_fill is True
    assert strategy.use_custom_stoploss is True
    assert strategy.position_adjustment_enable is True


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("use_custom_stoploss", False),
        ("position_adjustment_enable", False),
        ("use_exit_signal", False),
        ("trailing_stop", True),
    ],
    ids=["custom-stoploss-off", "position-adjustment-off", "exit-signal-off", "trailing-on"],
)
def test_startup_refuses_a_config_that_turns_off_what_the_brain_needs(key, value):
    strategy = _load(make_config() | {key: value})
    with pytest.raises(ConfigurationError, match=key):
        strategy.ft_bot_start()


def test_startup_accepts_those_overrides_when_the_brain_is_disabled():
    config = make_config(brain={"enabled": False}) | {"use_custom_stoploss": False}
    _load(config).ft_bot_start()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"tp_profile": [0.25, 1.5, 0.5]}, "exit_brain.tp_profile[1] must be in (0, 1], was 1.5"),
        ({"max_unrealized_loss_pct": 0}, "exit_brain.max_unrealized_loss_pct must be in (0, 100]"),
        ({"tp_distance": [0.01]}, "exit_brain.tp_distance is not a known setting"),
    ],
    ids=["fraction", "threshold", "unknown-key"],
)
def test_invalid_settings_stop_the_strategy_from_loading_with_the_key_named(setting, message):
    with pytest.raises(
        OperationalException,
        match=message.replace("[", r"\[")
        .replace("]", r"\]")
        .replace("(", r"\(")
        .replace(")", r"\)"),
    ):
        _load(make_config(brain=setting))


def test_a_class_hiding_a_brain_callback_is_refused_with_the_fix():
    class Hiding(ExitBrainMixin):
        def populate_indicators(self, dataframe, metadata):
            return dataframe

        def populate_entry_trend(self, dataframe, metadata):
            return dataframe

        def populate_exit_trend(self, dataframe, metadata):
            return dataframe

        def custom_stoploss(
            self, pair, trade, current_time, current_rate, current_profit, after_fill, **kwargs
        ):
            return -0.05

    with pytest.raises(ConfigurationError, match=r"put the mixin first"):
        Hiding(make_config())


def test_mode_line_names_the_backtest(caplog):
    caplog.set_level(logging.INFO, logger="exit_brain")
    _load(make_config()).ft_bot_start()
    assert "[EXIT_BRAIN_EXECUTOR] Initialized in BACKTEST MODE" in caplog.text


def test_the_mixin_is_an_istrategy_so_hyperopt_can_pickle_it():
    assert issubclass(ExitBrainMixin, IStrategy)


class _Trade:
    def __init__(self, *, is_short, leverage, amount=10.0, stake_amount=100.0):
        self.is_short = is_short
        self.leverage = leverage
        self.amount = amount
        self.stake_amount = stake_amount
        self.price_precision = None  # no tick: the stop round-trips exactly
        self.precision_mode = None
        self.precision_mode_price = None


@pytest.mark.parametrize(
    ("is_short", "leverage", "stop", "rate"),
    [(False, 1.0, 95.0, 100.0), (False, 5.0, 99.0, 100.0), (True, 3.0, 104.0, 100.0)],
    ids=["long-1x", "long-5x", "short-3x"],
)
def test_stop_price_round_trips_through_the_custom_stoploss_ratio(is_short, leverage, stop, rate):
    trade = _Trade(is_short=is_short, leverage=leverage)
    ratio = translate.stop_ratio_from_price(stop, rate, trade)
    assert ratio is not None
    assert ratio > 0
    assert translate.stop_price_from_ratio(ratio, rate, trade) == pytest.approx(stop)


def test_a_stop_beyond_the_current_price_gives_no_ratio():
    # freqtrade ignores 0; the brain's backstop in custom_exit closes instead.
    assert translate.stop_ratio_from_price(101.0, 100.0, _Trade(is_short=False, leverage=1)) is None


@pytest.mark.parametrize(
    ("amount", "step", "expected"), [(2.5, 0.001, 2.5), (0.093, 0.001, 0.093), (10.0, 0.1, 10.0)]
)
def test_partial_exit_stake_gives_back_the_amount_after_freqtrade_truncation(
    amount, step, expected
):
    trade = _Trade(is_short=False, leverage=3.0, amount=10.0, stake_amount=33.3333)
    stake = translate.stake_for_amount(amount, trade, step)
    # freqtrade: amount = |stake| × trade.amount / trade.stake_amount, truncated to the step
    back = abs(stake) * trade.amount / trade.stake_amount
    assert int(back / step + 1e-9) * step == pytest.approx(expected)
    if amount >= trade.amount:
        assert stake == -trade.stake_amount


def test_backtests_pass_the_trade_uncopied_to_the_brain_callbacks_only():
    strategy = _load(make_config())
    strategy.ft_bot_start()
    for name in (
        "custom_exit",
        "custom_stoploss",
        "adjust_trade_position",
        "order_filled",
        "custom_exit_price",
    ):
        # strategy_wrapper.py deep-copies the trade unless the qualname starts with IStrategy.
        assert getattr(strategy, name).__qualname__ == f"IStrategy.{name}"


def test_trade_mode_keeps_freqtrades_trade_copy():
    config = make_config() | {"runmode": RunMode.DRY_RUN}
    strategy = _load(config)
    strategy.ft_bot_start()
    assert strategy.custom_exit.__qualname__ == "ExitBrainMixin.custom_exit"
