"""The freqtrade adapter: the only part of exit_brain_plugin that imports freqtrade.

``ExitBrainMixin`` is loaded on first use (PEP 562), so that a module of the adapter that does
not need freqtrade (``admin``: ``exit-brain set`` talks to the bot through ``freqtrade-client``)
can be imported without it.
"""

from typing import TYPE_CHECKING, Any


if TYPE_CHECKING:
    from exit_brain_plugin.adapter.mixin import ExitBrainMixin


__all__ = ["ExitBrainMixin"]


def __getattr__(name: str) -> Any:
    if name == "ExitBrainMixin":
        from exit_brain_plugin.adapter.mixin import ExitBrainMixin

        return ExitBrainMixin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
