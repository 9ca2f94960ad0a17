"""The toolbox: the ``exit-brain`` command line, the offline freqtrade launcher, reports,
compare, plot and tune. Installed with the ``tools`` extra (rich, plotly, optuna, psycopg).

A bot that runs the mixin needs none of it: ``exit_brain_plugin.core`` and
``exit_brain_plugin.adapter`` never import this package.
"""
