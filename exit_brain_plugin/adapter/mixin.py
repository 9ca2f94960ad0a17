"""ExitBrainMixin (placeholder while the adapter is written)."""

from freqtrade.strategy import IStrategy


class ExitBrainMixin(IStrategy):  # type: ignore[misc]
    """Placeholder; replaced by the real mixin."""
