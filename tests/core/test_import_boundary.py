"""Importing the package and its core never imports freqtrade or pandas (STYLE §5.4)."""

import json
import subprocess
import sys


def _modules_after(statement):
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(json.loads(result.stdout))


def _top_level(modules):
    return {name.split(".")[0] for name in modules}


def test_importing_the_core_pulls_in_neither_freqtrade_nor_pandas():
    loaded = _top_level(_modules_after("import exit_brain_plugin, exit_brain_plugin.core"))
    assert "exit_brain_plugin" in loaded
    assert "freqtrade" not in loaded
    assert "pandas" not in loaded


def test_the_module_check_sees_what_a_subprocess_imports():
    # Guards the test above against passing vacuously (e.g. a subprocess that imports nothing).
    before = _top_level(_modules_after("import exit_brain_plugin.core"))
    after = _top_level(_modules_after("import exit_brain_plugin.core, xml.dom.minidom"))
    assert "xml" not in before
    assert "xml" in after
