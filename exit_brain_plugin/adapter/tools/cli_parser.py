"""What the ``exit-brain`` command line accepts: one argparse parser per subcommand.

Rules:
1. Argument shapes and help texts only: nothing here runs a command or imports beyond the
   stdlib, so that parsing ``exit-brain set`` never loads freqtrade.
2. The defaults are the shipped sample: ``SAMPLE_STRATEGY`` on the shipped data of each market
   (``MARKETS``: config file and timerange).
"""

import argparse
from pathlib import Path
from typing import Any


SAMPLE_STRATEGY = "ExitBrainSampleStrategy"
MARKETS = {
    "spot": ("config.json", "20180110-20180130"),
    "futures": ("config-futures.json", "20211115-20211122"),
}
LADDER_OFF_HELP = (
    "The settings have no switch for the ladder: 'ladder off' puts its levels out of reach "
    "(tp_distances 0.96-0.99, tp_atr_multipliers null), so no take-profit fills and the "
    "ratchet never moves either"
)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the ``exit-brain`` command line (every subcommand)."""
    parser = argparse.ArgumentParser(prog="exit-brain", description="The ``exit-brain`` command.")
    commands = parser.add_subparsers(dest="command", required=True)
    backtest = commands.add_parser(
        "backtest", help="offline backtest of the sample strategy with the exit-brain summary"
    )
    backtest.add_argument("--market", choices=["spot", "futures", "both"], default="both")
    backtest.add_argument("--strategy", default=SAMPLE_STRATEGY)
    backtest.add_argument("--userdir", default="user_data")
    backtest.add_argument("--timerange", help="freqtrade timerange (default: the shipped data)")
    backtest.add_argument("--json", action="store_true", help="print the summary as JSON")
    report = commands.add_parser(
        "report", help="summary of a backtest export (.zip/.json/folder) or a trade database"
    )
    report.add_argument(
        "path", help="export (.zip/.json/folder), or a trade database: file or db_url"
    )
    report.add_argument(
        "--config",
        type=Path,
        help="config.json whose exit_brain section the trades ran with "
        "(trade databases; exports carry their own)",
    )
    report.add_argument("--json", action="store_true", help="print the summary as JSON")
    _compare_parser(commands)
    _plot_parser(commands)
    _set_parser(commands)
    _shadow_parser(commands)
    _tune_parser(commands)
    ft = commands.add_parser("ft", help="run a freqtrade command offline", add_help=False)
    ft.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _compare_parser(commands: Any) -> None:
    compare = commands.add_parser(
        "compare",
        help="backtest with the brain on, off, and each feature off, side by side",
        description="Backtest the same strategy and data (offline) with the brain on, off, "
        "ratchet off, loss guard off and ladder off, and print them side by side. "
        + LADDER_OFF_HELP
        + ". Loss-guard saves: trades the guard closed whose (pair, open_date) trade without "
        "the guard ended lower; loss avoided: the profit difference summed over matched fires.",
    )
    compare.add_argument("--market", choices=["spot", "futures"], default="spot")
    compare.add_argument("--config", type=Path, help="config file (default: the market's)")
    compare.add_argument("--strategy", default=SAMPLE_STRATEGY)
    compare.add_argument("--userdir", type=Path, default=Path("user_data"))
    compare.add_argument("--timerange", help="freqtrade timerange (default: the shipped data)")
    compare.add_argument("--json", action="store_true", help="print the rows as JSON")


def _shadow_parser(commands: Any) -> None:
    shadow = commands.add_parser(
        "shadow",
        help="observe mode's would-be exits against the actual ones, in money",
        description="Per position and per mode (act / observe / off) of a live or dry-run "
        "trade database: actual PnL (the host's exits) against the brain's would-be PnL (its "
        "virtual fills at decision prices, then the actual final exit for the rest), fees "
        "included; would-be TP hits, ratchets and loss-guard fires. See docs/rollout.md.",
    )
    shadow.add_argument(
        "db_url",
        help="freqtrade's db_url: a SQLite file, sqlite:///FILE or "
        "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB",
    )
    shadow.add_argument("--json", action="store_true", help="print the report as JSON")


def _plot_parser(commands: Any) -> None:
    plot = commands.add_parser(
        "plot",
        help="HTML chart of a pair's trades (or one trade) from a backtest export",
        description="Candles, entries, TP levels, each partial fill, the stop stepping at "
        "each ratchet, the loss-guard price and the final exit, as a self-contained HTML file.",
    )
    plot.add_argument("export", type=Path, help="backtest export: .zip, .json or results folder")
    plot.add_argument("--pair", required=True, help="e.g. ETH/BTC or XRP/USDT:USDT")
    plot.add_argument("--trade", type=int, help="the pair's N-th trade in the export (from 1)")
    plot.add_argument("--strategy", help="strategy of the export (default: its first)")
    plot.add_argument(
        "--datadir", type=Path, help="candle data (default: the export's, or user_data/data/…)"
    )
    plot.add_argument("--out", type=Path, help="HTML file (default: user_data/plot/…)")


def _set_parser(commands: Any) -> None:
    setter = commands.add_parser(
        "set",
        help="change exit_brain settings of a running bot and reload it",
        description="Validate KEY=VALUE (keys of the exit_brain section; dotted keys reach "
        "nested ones, e.g. metrics.port=9465; values are JSON, e.g. tp_profile=[0.3,0.3,0.4], "
        "plain text is a string, e.g. mode=observe) with the startup rules, write the config "
        "file atomically keeping FILE.bak, then ask the bot to reload through freqtrade's REST "
        "API. Exit 2: nothing changed; exit 3: the file was written, the bot was not reloaded.",
    )
    setter.add_argument("assignments", nargs="+", metavar="KEY=VALUE")
    setter.add_argument("--config", type=Path, required=True, help="the config file the bot runs")
    setter.add_argument("--api-url", help="default: http://<api_server.listen_ip_address>:<port>")
    setter.add_argument("--username", help="default: api_server.username")
    setter.add_argument(
        "--password",
        help="default: FREQTRADE__API_SERVER__PASSWORD, else api_server.password",
    )
    setter.add_argument(
        "--no-reload", action="store_true", help="write the file only (reload it yourself)"
    )


def _tune_parser(commands: Any) -> None:
    tune = commands.add_parser(
        "tune",
        help="walk-forward tuning of the exit_brain settings (optuna, local or distributed)",
        description="Walk-forward tuning (docs/tuning.md): each fold optimises the brain's "
        "settings on its train window with freqtrade backtests and scores the best on the "
        "unseen test window, against the config's current settings and the brain off.",
    )
    tune.add_argument("--config", type=Path, default=Path("config.json"))
    tune.add_argument("--strategy", default=SAMPLE_STRATEGY)
    tune.add_argument(
        "--timerange",
        default=MARKETS["spot"][1],
        help="YYYYMMDD-YYYYMMDD, end exclusive (default: the shipped spot data)",
    )
    tune.add_argument("--folds", type=int, default=2)
    tune.add_argument("--train-days", type=int, help="default: see docs/tuning.md")
    tune.add_argument("--test-days", type=int, help="default: days / (folds + 1)")
    tune.add_argument("--trials", type=int, default=20, help="complete trials per fold")
    tune.add_argument("--workers", type=int, default=1, help="local worker processes")
    tune.add_argument(
        "--storage", help="optuna storage URL (default: sqlite:///user_data/exit-brain-tune.sqlite)"
    )
    tune.add_argument("--study", help="study name shared by every worker (default: from the args)")
    tune.add_argument("--loss", choices=["sharpe", "profit", "calmar"], default="sharpe")
    tune.add_argument("--seed", type=int, help="reproducible single-worker run")
    tune.add_argument("--userdir", type=Path, default=Path("user_data"))
    tune.add_argument("--heartbeat", type=int, default=10, help=argparse.SUPPRESS)
    tune.add_argument("--json", action="store_true", help="print the report as JSON")
