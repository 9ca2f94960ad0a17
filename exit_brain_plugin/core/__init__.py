"""The pure core: settings, state, decisions. Stdlib only; never imports freqtrade."""

from exit_brain_plugin.core.brain import create_state, evaluate_position, price_resting_exit
from exit_brain_plugin.core.config import BrainConfig, MetricsConfig, parse_config
from exit_brain_plugin.core.decisions import (
    Decision,
    ExitOrder,
    Fill,
    FillKind,
    Hold,
    StopTarget,
    Verdict,
    fill_kind_of,
)
from exit_brain_plugin.core.enums import (
    EventKind,
    ExitKind,
    Level,
    LogTag,
    Mode,
    RatchetRule,
    Side,
    SizeBasis,
)
from exit_brain_plugin.core.errors import (
    ConfigError,
    ExitBrainError,
    StateError,
)
from exit_brain_plugin.core.events import BrainEvent
from exit_brain_plugin.core.fills import apply_fill, rebuild_state
from exit_brain_plugin.core.snapshot import MarketSnapshot, PositionOpen
from exit_brain_plugin.core.state import (
    SCHEMA_VERSION,
    PositionState,
    RatchetRecord,
    TpLevel,
    from_json_dict,
    to_json_dict,
)
from exit_brain_plugin.core.stops import classify_stop, evaluate_stop
from exit_brain_plugin.core.tags import LOSS_GUARD_TAG, STOP_BACKSTOP_TAG, legs_from_tag, tp_tag


__all__ = [
    "LOSS_GUARD_TAG",
    "SCHEMA_VERSION",
    "STOP_BACKSTOP_TAG",
    "BrainConfig",
    "BrainEvent",
    "ConfigError",
    "Decision",
    "EventKind",
    "ExitBrainError",
    "ExitKind",
    "ExitOrder",
    "Fill",
    "FillKind",
    "Hold",
    "Level",
    "LogTag",
    "MarketSnapshot",
    "MetricsConfig",
    "Mode",
    "PositionOpen",
    "PositionState",
    "RatchetRecord",
    "RatchetRule",
    "Side",
    "SizeBasis",
    "StateError",
    "StopTarget",
    "TpLevel",
    "Verdict",
    "apply_fill",
    "classify_stop",
    "create_state",
    "evaluate_position",
    "evaluate_stop",
    "fill_kind_of",
    "from_json_dict",
    "legs_from_tag",
    "parse_config",
    "price_resting_exit",
    "rebuild_state",
    "to_json_dict",
    "tp_tag",
]
