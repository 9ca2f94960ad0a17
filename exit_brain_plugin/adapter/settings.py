"""The brain's settings as a strategy runs them: merge, overlay, startup checks and labels.

Rules:

1. One source of truth: ``exit_brain_defaults`` (the strategy's class attribute) overlaid by
   config.json's ``exit_brain`` section, validated by ``core.parse_config``. A bad value stops
   the strategy from loading (``ConfigurationError`` naming the key, the value and the range).
2. The settings in force are those, overlaid by the hyperopt space ``exitbrain`` while
   hyperopt draws it, or by the strategy's parameter file when it sets a value; never by a
   parameter's default (config.json stays the source of truth).
3. Startup refuses what the brain cannot work with (a config turning off its callbacks,
   freqtrade's trailing stop, a class hiding the mixin's callbacks) with the fix in the
   message; it warns about what only degrades it.
4. Nothing here is called per candle except :func:`overlay_key` (a tuple of three values).
"""

import copy
import logging
from collections.abc import Iterable
from typing import Any

from freqtrade.exceptions import ConfigurationError

from exit_brain_plugin.adapter import freqtrade_internals as internals
from exit_brain_plugin.adapter import logsink
from exit_brain_plugin.core import BrainConfig, ConfigError, Mode, parse_config
from exit_brain_plugin.core.adapter_lines import exit_limit_warning
from exit_brain_plugin.core.parameters import apply_parameters


logger = logging.getLogger("exit_brain")

#: Hyperoptable settings (space "exitbrain"): parameter name -> setting it overrides.
PARAMETERS = {
    "eb_tp_distance_scale": "tp_distance_scale",
    "eb_max_unrealized_loss_pct": "max_unrealized_loss_pct",
    "eb_ratchet_offset": "ratchet_offset",
}
#: Callbacks the brain must own: a class placed before the mixin in the bases would hide them.
OWNED = (
    "custom_exit",
    "custom_stoploss",
    "adjust_trade_position",
    "order_filled",
    "custom_exit_price",
    "should_exit",
    "bot_loop_start",
    "ft_bot_start",
)


def parse_settings(defaults: dict[str, Any], config: dict[str, Any]) -> BrainConfig:
    """Return the validated settings: ``defaults`` overlaid by config.json's ``exit_brain``.

    :raises ConfigurationError: naming the key, the bad value and the allowed range
    """
    section = config.get("exit_brain", {})
    if section is not None and not isinstance(section, dict):
        raise ConfigurationError(f"exit_brain must be an object of settings, was {section!r}")
    merged = {**defaults, **(section or {})}
    try:
        return parse_config(merged)
    except ConfigError as error:
        raise ConfigurationError(f"Invalid exit_brain setting: {error}") from error


def own_parameters(strategy: Any, base: BrainConfig) -> None:
    """Give ``strategy`` its own copies of the parameters, with the config's values as defaults.

    Parameter objects are class attributes shared by every strategy using the mixin.
    """
    defaults = {
        "eb_tp_distance_scale": 1.0,
        "eb_max_unrealized_loss_pct": base.max_unrealized_loss_pct,
        "eb_ratchet_offset": base.ratchet_offset,
    }
    for name, value in defaults.items():
        parameter = copy.deepcopy(getattr(type(strategy), name))
        parameter.low = min(parameter.low, value)
        parameter.high = max(parameter.high, value)
        parameter.value = value
        setattr(strategy, name, parameter)


def overlay_key(strategy: Any) -> tuple[Any, ...]:
    """Return the parameter values that override config.json now (None: not overridden)."""
    from_file = internals.file_values(strategy)
    return tuple(
        parameter.value if (parameter.in_space or name in from_file) else None
        for name, parameter in ((name, getattr(strategy, name)) for name in PARAMETERS)
    )


def in_force(base: BrainConfig, key: tuple[Any, ...]) -> BrainConfig:
    """Return ``base`` with the overriding values of :func:`overlay_key` applied."""
    return apply_parameters(base, dict(zip(PARAMETERS, key, strict=True)))


def next_definition(cls: type, mixin: type, name: str) -> type:
    """Return the first class after ``mixin`` in ``cls``'s MRO that defines ``name``."""
    mro = cls.__mro__
    start = mro.index(mixin) + 1
    return next(klass for klass in mro[start:] if name in vars(klass))


def plan_method(cls: type, mixin: type) -> Any:
    """Return the strategy's own ``exit_brain_plan`` function (None when only the mixin's).

    Wherever it is defined: in the leaf class, or in the host class the mixin is put before
    (``class S(ExitBrainMixin, Host)``), whose method the mixin's default would otherwise hide.
    """
    for klass in cls.__mro__:
        if klass is not mixin and "exit_brain_plan" in vars(klass):
            return vars(klass)["exit_brain_plan"]
    return None


def check_bases(cls: type, mixin: type) -> None:
    """Refuse a class that puts a definition of a brain callback before the mixin.

    :raises ConfigurationError: naming the class, the callback and the fix
    """
    mro = cls.__mro__
    mixin_at = mro.index(mixin)
    for name in OWNED:
        owner = next(klass for klass in mro if name in vars(klass))
        if mro.index(owner) < mixin_at:
            raise ConfigurationError(
                f"{owner.__name__}.{name} hides ExitBrainMixin.{name}: put the mixin first, "
                f"e.g. `class {cls.__name__}(ExitBrainMixin, YourStrategy)`, and keep "
                f"your own {name} in YourStrategy (the brain calls it through super())."
            )


def check_freqtrade_settings(strategy: Any, settings: BrainConfig) -> None:
    """Refuse a config that turns off what the brain needs (docs/behaviour.md §6, STYLE §5.6).

    :raises ConfigurationError: naming the setting and the fix
    """
    if not settings.enabled:
        return
    required = {
        "use_custom_stoploss": strategy.use_custom_stoploss,
        "position_adjustment_enable": strategy.position_adjustment_enable,
        "use_exit_signal": strategy.use_exit_signal,
    }
    for name, value in required.items():
        if value is not True:
            raise ConfigurationError(
                f"Exit Brain needs {name}=true, but the config or strategy sets it to "
                f"{value!r}. Remove the override, or set exit_brain.enabled=false."
            )
    if strategy.trailing_stop:
        raise ConfigurationError(
            "Exit Brain ratchets the stop itself and cannot share it with freqtrade's "
            "trailing_stop: set trailing_stop=false, or exit_brain.enabled=false."
        )
    config = strategy.config
    if config.get("runmode") in internals.TRADING_MODES and strategy.order_types.get("exit") == (
        "limit"
    ):
        side = config.get("exit_pricing", {}).get("price_side", "same")
        if side != "other":
            logsink.write(exit_limit_warning(str(side)))


def mode_label(settings: BrainConfig, *, may_act: bool, backtest: bool, dry_run: bool) -> str:
    """Return the docs/behaviour.md §7 mode label of a run."""
    if settings.mode is Mode.OBSERVE and not may_act:
        return "OBSERVE MODE"
    if not settings.enabled:
        return "DISABLED MODE (exit_brain.enabled=false)"
    if backtest:
        return "BACKTEST MODE"
    return "SHADOW MODE (dry-run)" if dry_run else "LIVE MODE"


def whitelist(strategy: Any) -> Iterable[str]:
    """Return the pairs the bot trades (the mode line's per-pair part)."""
    try:
        return list(strategy.dp.current_whitelist()) if strategy.dp else []
    except Exception:
        return list(strategy.config.get("exchange", {}).get("pair_whitelist", []))
