"""Exit Brain: take-profit ladder, ratcheting stop and loss guard for freqtrade strategies.

Importing this package never imports freqtrade: the pure core lives in
:mod:`exit_brain_plugin.core`, the freqtrade adapter (``ExitBrainMixin``) in
:mod:`exit_brain_plugin.adapter`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
