"""Error types: who is to blame decides how the adapter reacts (STYLE §5.8)."""


class ExitBrainError(Exception):
    """Base of every error the brain raises."""


class ConfigError(ExitBrainError, ValueError):
    """A setting is invalid: the user must fix the ``exit_brain`` section."""


class StateError(ExitBrainError):
    """Persisted state is unreadable: the adapter rebuilds it from the trade's orders."""
