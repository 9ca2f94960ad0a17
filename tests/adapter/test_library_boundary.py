"""A bot running the mixin loads none of the toolbox (issue 13: a library, not a toolbox).

The core and the mixin never import ``exit_brain_plugin.adapter.tools``,
``exit_brain_plugin.reports`` nor the toolbox's own
dependencies (rich, plotly, optuna, psycopg). freqtrade itself loads rich (its progress bars,
``freqtrade/util/progress_tracker.py``) and optuna when installed (``freqtrade/strategy/
parameters.py``), so the adapter is judged by what it adds to a plain ``import
freqtrade.strategy``.
"""

import json
import subprocess
import sys


TOOLBOX = (
    "exit_brain_plugin.adapter.tools",
    "exit_brain_plugin.reports",
    "rich",
    "plotly",
    "optuna",
    "psycopg",
)


def _modules_after(statement):
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout))


def _toolbox(modules):
    return sorted(m for m in modules if any(m == t or m.startswith(f"{t}.") for t in TOOLBOX))


def test_the_core_loads_nothing_of_the_toolbox():
    assert _toolbox(_modules_after("import exit_brain_plugin, exit_brain_plugin.core")) == []


def test_the_mixin_adds_nothing_of_the_toolbox_to_what_freqtrade_loads():
    host = _modules_after("import freqtrade.strategy")
    bot = _modules_after(
        "import freqtrade.strategy\n"
        "import exit_brain_plugin.adapter.mixin\n"
        "from exit_brain_plugin.adapter import ExitBrainMixin"
    )
    assert "exit_brain_plugin.adapter.mixin" in bot
    assert _toolbox(bot - host) == []


def test_the_mixin_loads_no_plot_library_at_all():
    bot = _modules_after("import exit_brain_plugin.adapter.mixin")
    assert not [m for m in bot if m == "plotly" or m.startswith("plotly.")]


def test_the_check_sees_a_toolbox_import():
    # Guards the tests above against passing vacuously.
    loaded = _modules_after("import freqtrade.strategy, exit_brain_plugin.adapter.tools.plot")
    assert "exit_brain_plugin.adapter.tools" in _toolbox(loaded)
    assert "exit_brain_plugin.reports" in _toolbox(loaded)
    assert "rich" in _toolbox(loaded)
