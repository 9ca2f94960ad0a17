"""The ``exit-brain`` command.

- ``exit-brain backtest``: offline backtest of the sample strategy on the shipped data (spot,
  and futures with shorts), freqtrade's report, then the exit-brain summary;
- ``exit-brain report PATH``: the summary of a backtest export (zip/json) or trade database;
- ``exit-brain ft ARGS``: any freqtrade command, offline (markets from the shipped snapshot).
"""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


SAMPLE_STRATEGY = "ExitBrainSampleStrategy"
MARKETS = {
    "spot": ("config.json", "20180110-20180130"),
    "futures": ("config-futures.json", "20211115-20211122"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="exit-brain", description=__doc__.split("\n\n")[0])
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
    report.add_argument("path", type=Path)
    report.add_argument(
        "--config",
        type=Path,
        help="config.json whose exit_brain section the trades ran with "
        "(trade databases; exports carry their own)",
    )
    report.add_argument("--json", action="store_true", help="print the summary as JSON")
    ft = commands.add_parser("ft", help="run a freqtrade command offline", add_help=False)
    ft.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "ft":
        from exit_brain_plugin.adapter.offline import run_freqtrade

        return run_freqtrade(list(args.args))
    if args.command == "report":
        return _report(args.path, args.config, as_json=args.json)
    return _backtest(args)


def _fail(message: str) -> int:
    print(f"exit-brain: {message}", file=sys.stderr)
    return 2


def _report(path: Path, config_path: Path | None, *, as_json: bool) -> int:
    from exit_brain_plugin.reports.analysis import summarize
    from exit_brain_plugin.reports.sources import ReportInputError, load_backtest, load_database

    try:
        config: dict[str, Any] | None = None
        if config_path is not None:
            config = json.loads(config_path.read_text())
        if path.is_file() and path.suffix in (".sqlite", ".db", ".sqlite3"):
            sets = load_database(path, config)
        else:
            sets = load_backtest(path)
    except ReportInputError as error:
        return _fail(str(error))
    except (OSError, ValueError) as error:
        return _fail(f"{config_path}: {error}")
    _print(
        [(trade_set.name, summarize(trade_set.trades, trade_set.config)) for trade_set in sets],
        as_json=as_json,
    )
    return 0


def _print(summaries: list[tuple[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({name: summary.to_json() for name, summary in summaries}, indent=2))
        return
    from exit_brain_plugin.reports.render import render_summary

    for name, summary in summaries:
        render_summary(name, summary)


def _backtest(args: argparse.Namespace) -> int:
    from exit_brain_plugin.adapter.offline import run_freqtrade
    from exit_brain_plugin.reports.analysis import summarize
    from exit_brain_plugin.reports.sources import ReportInputError, load_backtest

    markets = ["spot", "futures"] if args.market == "both" else [args.market]
    results = Path(args.userdir) / "backtest_results"
    summaries: list[tuple[str, Any]] = []
    for market in markets:
        config_file, timerange = MARKETS[market]
        if not Path(config_file).is_file():
            return _fail(f"{config_file} not found: run from the repository root")
        code = run_freqtrade(
            [
                "backtesting",
                "--config",
                config_file,
                "--userdir",
                args.userdir,
                "--strategy",
                args.strategy,
                "--timerange",
                args.timerange or timerange,
                "--cache",
                "none",
                "--export",
                "trades",
            ]
        )
        if code != 0:
            return _fail(f"freqtrade backtesting ({market}) exited with code {code}")
        try:
            summaries.extend(
                (f"{trade_set.name} ({market})", summarize(trade_set.trades, trade_set.config))
                for trade_set in load_backtest(results)
            )
        except ReportInputError as error:
            return _fail(str(error))
    _print(summaries, as_json=args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
