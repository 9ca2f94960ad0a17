"""The freqtrade adapter: the only part of exit_brain_plugin that imports freqtrade."""

from exit_brain_plugin.adapter.mixin import ExitBrainMixin


__all__ = ["ExitBrainMixin"]
