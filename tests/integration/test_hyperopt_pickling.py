"""``freqtrade hyperopt -j 2``: the strategy with the brain crosses processes and still decides
the same (docs/behaviour.md §6; FREQTRADE_NOTES §8.13).

Rules this module proves with freqtrade's own ``HyperOptimizer`` (what joblib sends to its
workers, see ``tests/integration/hyperopt_harness.py``):

1. The prepared optimizer, strategy with the brain included, survives cloudpickle (what
   ``wrap_non_picklable_objects`` uses); its strategy alone does too.
2. The unpickled optimizer runs an epoch to the same trades — every exit order's tag, amount
   and price — and the same loss as the original, in this process and in a fresh one (a
   joblib worker has nothing of the parent's module-level set-up).
3. The epoch's parameters reach the brain on both sides: other ``exitbrain`` values give other
   trades, so rule 2 is not a comparison of two runs that ignore them.
"""

import json
import os
import pickle
import subprocess
import sys

import cloudpickle
import pytest

from exit_brain_plugin.adapter import ExitBrainMixin
from tests.integration.hyperopt_harness import REPO, epoch_summary, make_hyperopter


TUNED = {
    "eb_tp_distance_scale": 1.5,
    "eb_max_unrealized_loss_pct": 10.0,
    "eb_ratchet_offset": 0.002,
}
DEFAULTS = {
    "eb_tp_distance_scale": 1.0,
    "eb_max_unrealized_loss_pct": 12.5,
    "eb_ratchet_offset": 0.0,
}


def _roundtrip(thing):
    # cloudpickle writes, the standard unpickler reads, as in a joblib worker.
    return pickle.loads(cloudpickle.dumps(thing))  # noqa: S301 - bytes made on the line itself


def _epoch(hyperopter, params):
    return epoch_summary(hyperopter.generate_optimizer(dict(params)))


def _brain_exits(summary):
    return [tag for trade in summary["trades"] for tag, _, _ in trade["exits"] if tag]


@pytest.fixture
def hyperopter(tmp_path, monkeypatch):
    return make_hyperopter(tmp_path, monkeypatch)


def test_the_strategy_alone_survives_pickling_with_its_brain(hyperopter):
    strategy = hyperopter.backtesting.strategy
    clone = _roundtrip(strategy)
    assert type(clone).__name__ == type(strategy).__name__
    assert isinstance(clone, ExitBrainMixin)  # the mixin crosses by reference
    values = {name: p.value for name, p in clone.enumerate_parameters("exitbrain")}
    assert values == {name: p.value for name, p in strategy.enumerate_parameters("exitbrain")}


def test_the_unpickled_optimizer_decides_the_same_trades_in_this_process(hyperopter):
    clone = _roundtrip(hyperopter)
    original = _epoch(hyperopter, TUNED)
    unpickled = _epoch(clone, TUNED)
    assert any(tag.startswith("exit_brain_tp") for tag in _brain_exits(original))
    assert unpickled == original
    # The parameters reach the brain: the defaults decide other trades.
    assert _epoch(clone, DEFAULTS) != original


def test_a_fresh_process_decides_the_same_trades_as_the_parent(hyperopter, tmp_path):
    blob = tmp_path / "hyperopter.pkl"
    blob.write_bytes(cloudpickle.dumps(hyperopter))  # before any epoch, as hyperopt does
    parent = _epoch(hyperopter, TUNED)
    worker = subprocess.run(
        [sys.executable, "-m", "tests.integration.hyperopt_harness", str(blob), json.dumps(TUNED)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    child = json.loads(worker.stdout.strip().splitlines()[-1])
    assert any(tag.startswith("exit_brain_tp") for tag in _brain_exits(parent))
    assert child == json.loads(json.dumps(parent))
