"""The toolbox: the ``exit-brain`` command line, the offline freqtrade launcher, compare, plot,
tune, ``exit-brain set`` and the trade-database reader; its reports are
``exit_brain_plugin.reports``. Installed with the ``tools`` extra (rich, plotly, optuna,
psycopg).

It is a sub-package of the adapter because it drives freqtrade, and only the adapter imports
freqtrade. A bot that runs the mixin needs none of it: ``exit_brain_plugin.core`` and the
mixin's modules never import this sub-package (tests/adapter/test_library_boundary.py).
"""
