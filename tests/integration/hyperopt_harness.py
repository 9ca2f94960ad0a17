"""Build freqtrade's own HyperOptimizer in-process, and run one epoch of it in a fresh process.

``freqtrade hyperopt -j 2`` sends its ``HyperOptimizer`` (the Backtesting object, the strategy
with the brain, the loss function) to joblib workers: ``generate_optimizer_wrapped`` is
``delayed(wrap_non_picklable_objects(...))``, so the whole object crosses with cloudpickle
(``freqtrade/optimize/hyperopt/hyperopt_optimizer.py``, ``hyperopt.py``
``run_optimizer_parallel``). The worker is a fresh process: nothing the parent process set up
at module level is there.

Run as ``python -m tests.integration.hyperopt_harness BLOB PARAMS_JSON``: loads the pickled
optimizer, runs one epoch with the given parameters and prints :func:`epoch_summary` as JSON.
"""

import json
import sys
from pathlib import Path
from typing import Any

import cloudpickle
from freqtrade.configuration import Configuration
from freqtrade.enums import RunMode
from freqtrade.optimize.hyperopt.hyperopt_optimizer import HyperOptimizer

from exit_brain_plugin.adapter.tools.offline import install_offline_markets


REPO = Path(__file__).resolve().parents[2]
STRATEGY = "ExitBrainSampleStrategy"
TIMERANGE = "20180110-20180114"


def make_hyperopter(tmp_path: Path, monkeypatch: Any) -> HyperOptimizer:
    """Return a prepared HyperOptimizer (data loaded, exchange closed) for the sample strategy."""
    install_offline_markets()
    # The optimizer starts a multiprocessing Manager for worker logging; one epoch in a test
    # process needs none.
    monkeypatch.setattr(HyperOptimizer, "_setup_logging_mp_workaround", lambda self: None)
    args = {
        "config": [str(REPO / "config.json")],
        "user_data_dir": str(REPO / "user_data"),
        "datadir": str(REPO / "user_data" / "data" / "binance"),
        "strategy": STRATEGY,
        "strategy_path": str(REPO / "user_data" / "strategies"),
        "spaces": ["exitbrain"],
        "epochs": 1,
        "hyperopt_jobs": 2,
        "hyperopt_loss": "OnlyProfitHyperOptLoss",
        "hyperopt_min_trades": 1,
        "hyperopt_random_state": 1,
        "timerange": TIMERANGE,
        "export": "none",
        "fee": 0.001,
    }
    config = Configuration(args, RunMode.HYPEROPT).get_config()
    config["exchange"]["pair_whitelist"] = ["ETH/BTC"]
    hyperopter = HyperOptimizer(config, tmp_path / "hyperopt_data.pkl")
    hyperopter.prepare_hyperopt()
    return hyperopter


def epoch_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Return what one epoch decided: the loss and every trade with its exit orders."""
    metrics = result["results_metrics"]
    trades = [
        {
            "open_date": str(trade["open_date"]),
            "close_date": str(trade["close_date"]),
            "exit_reason": trade["exit_reason"],
            "close_rate": trade["close_rate"],
            "profit_abs": round(float(trade["profit_abs"]), 12),
            "exits": [
                [order["ft_order_tag"], order["amount"], order["safe_price"]]
                for order in trade["orders"]
                if not order["ft_is_entry"]
            ],
        }
        for trade in metrics["trades"]
    ]
    return {"loss": round(float(result["loss"]), 12), "trades": trades}


def main(blob_path: str, params_json: str) -> None:
    hyperopter = cloudpickle.loads(Path(blob_path).read_bytes())
    result = hyperopter.generate_optimizer(json.loads(params_json))
    print(json.dumps(epoch_summary(result)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
