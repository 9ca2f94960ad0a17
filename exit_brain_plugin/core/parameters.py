"""The strategy parameters that override config.json (hyperopt space ``exitbrain``).

After ``freqtrade hyperopt … --spaces exitbrain`` freqtrade writes the best values to the
strategy's parameter file (``<Strategy>.json`` next to the strategy, ``params.exitbrain``), and
every later backtest or bot start loads them over config.json. The mixin and the reports apply
them with this one function, so that the settings a report replays, a plot draws and the
``Settings:`` line prints are the settings that ran (docs/operations.md lists them).

Rules:
P1. ``eb_tp_distance_scale`` multiplies every ``tp_distances`` (and ``tp_atr_multipliers``);
    a scaled ladder reaching a distance of 1.0 or more keeps config.json's distances.
P2. ``eb_max_unrealized_loss_pct`` replaces ``max_unrealized_loss_pct``.
P3. ``eb_ratchet_offset`` replaces ``ratchet_offset``.
P4. A parameter absent (None) leaves config.json's value.
P5. An ``eb_ratchet_offset`` the ladder cannot take (the ratcheted stop would pass the level just
    filled, a startup error in config.json) runs as 0: hyperopt draws the offset and the scale
    independently, and such an epoch runs without the offset rather than failing.
"""

from collections.abc import Mapping
from typing import Any

from exit_brain_plugin.core.config import BrainConfig, parse_config
from exit_brain_plugin.core.errors import ConfigError


SPACE = "exitbrain"
#: Parameter name -> the setting it overrides (the scale multiplies the distances).
PARAMETERS = {
    "eb_tp_distance_scale": "tp_distances",
    "eb_max_unrealized_loss_pct": "max_unrealized_loss_pct",
    "eb_ratchet_offset": "ratchet_offset",
}


def apply_parameters(base: BrainConfig, values: Mapping[str, Any]) -> BrainConfig:
    """Return ``base`` with the parameter values in force (P1-P4).

    :param values: parameter name -> value (or None); unknown names are ignored
    :raises ConfigError: when a value makes the settings invalid
    """
    settings = base.to_dict()
    scale = values.get("eb_tp_distance_scale")
    if scale is not None:
        scaled = [distance * float(scale) for distance in settings["tp_distances"]]
        if max(scaled) < 1.0:
            settings["tp_distances"] = scaled
            if settings["tp_atr_multipliers"] is not None:
                settings["tp_atr_multipliers"] = [
                    k * float(scale) for k in settings["tp_atr_multipliers"]
                ]
    for name in ("eb_max_unrealized_loss_pct", "eb_ratchet_offset"):
        if values.get(name) is not None:
            settings[PARAMETERS[name]] = float(values[name])
    try:
        return parse_config(settings)
    except ConfigError:
        if values.get("eb_ratchet_offset") is None:
            raise
        settings["ratchet_offset"] = 0.0  # P5
        return parse_config(settings)


def parameters_from_file(content: Any) -> dict[str, Any]:
    """Return the ``exitbrain`` values of a freqtrade strategy parameter file ({} if none)."""
    if not isinstance(content, Mapping):
        return {}
    params = content.get("params")
    space = params.get(SPACE) if isinstance(params, Mapping) else None
    if not isinstance(space, Mapping):
        return {}
    return {name: space[name] for name in PARAMETERS if space.get(name) is not None}


def describe(values: Mapping[str, Any]) -> str:
    """Return ``name=value, …`` of the parameters in force, or ``none``."""
    shown = [f"{name}={values[name]}" for name in PARAMETERS if values.get(name) is not None]
    return ", ".join(shown) or "none"
