"""The ``exit-brain`` command.

- ``exit-brain backtest``: offline backtest of the sample strategy on the shipped data (spot,
  and futures with shorts), freqtrade's report, then the exit-brain summary;
- ``exit-brain report PATH``: the summary of a backtest export (zip/json) or trade database;
- ``exit-brain shadow DB_URL``: observe mode's would-be exits against the actual ones;
- ``exit-brain compare``: the same backtest with the brain on, off, and each feature off;
- ``exit-brain plot EXPORT --pair PAIR``: an HTML chart of a pair's trades (or one trade);
- ``exit-brain ft ARGS``: any freqtrade command, offline (markets from the shipped snapshot);
- ``exit-brain set KEY=VALUE … --config FILE``: change settings of a running bot
  (validated, written atomically with a backup, then freqtrade's ``/api/v1/reload_config``).
- ``exit-brain tune``: walk-forward tuning of the brain's settings on optuna's storage.
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
LADDER_OFF_HELP = (
    "The settings have no switch for the ladder: 'ladder off' puts its levels out of reach "
    "(tp_distances 0.96-0.99, tp_atr_multipliers null), so no take-profit fills and the "
    "ratchet never moves either"
)


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


def _shadow(db_url: str, *, as_json: bool) -> int:
    from exit_brain_plugin.tools.reports.shadow import shadow_report
    from exit_brain_plugin.tools.reports.sources import ReportInputError
    from exit_brain_plugin.tools.tradedb import read_trades

    try:
        shown, trades = read_trades(db_url)
    except ReportInputError as error:
        return _fail(str(error))
    report = shadow_report(shown, trades)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
        return 0
    from exit_brain_plugin.tools.reports.shadow_render import render_shadow

    render_shadow(report)
    return 0


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


def _set(args: argparse.Namespace) -> int:
    from exit_brain_plugin.tools.admin import SetError, run_set

    try:
        lines = run_set(
            args.config,
            args.assignments,
            api_url=args.api_url,
            username=args.username,
            password=args.password,
            reload=not args.no_reload,
        )
    except SetError as error:
        print(f"exit-brain: {error}", file=sys.stderr)
        return error.code
    for line in lines:
        print(f"exit-brain: {line}")
    return 0


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


def _tune(args: argparse.Namespace) -> int:
    from exit_brain_plugin.tools.tune import ProgressLine, TuneError, TuneOptions, render, tune

    options = TuneOptions(
        config_file=args.config,
        strategy=args.strategy,
        timerange=args.timerange,
        folds=args.folds,
        trials=args.trials,
        train_days=args.train_days,
        test_days=args.test_days,
        workers=args.workers,
        storage=args.storage,
        study=args.study,
        loss=args.loss,
        seed=args.seed,
        userdir=args.userdir,
        heartbeat=args.heartbeat,
    )
    try:
        report = tune(options, ProgressLine(args.folds * args.trials, args.loss))
    except TuneError as error:
        return _fail(str(error))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        render(report)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "ft":
        from exit_brain_plugin.tools.offline import run_freqtrade

        return run_freqtrade(list(args.args))
    if args.command == "report":
        return _report(args.path, args.config, as_json=args.json)
    if args.command == "compare":
        return _compare(args)
    if args.command == "plot":
        return _plot(args)
    if args.command == "set":
        return _set(args)
    if args.command == "shadow":
        return _shadow(args.db_url, as_json=args.json)
    if args.command == "tune":
        return _tune(args)
    return _backtest(args)


def _fail(message: str) -> int:
    print(f"exit-brain: {message}", file=sys.stderr)
    return 2


def _read_config(config_path: Path | None) -> dict[str, Any] | None:
    if config_path is None:
        return None
    from exit_brain_plugin.tools.reports.sources import ReportInputError

    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportInputError(f"{config_path}: not a readable JSON config ({error})") from error
    if not isinstance(config, dict):
        raise ReportInputError(f"{config_path}: not a freqtrade config (not a JSON object)")
    return config


def _report(path: str, config_path: Path | None, *, as_json: bool) -> int:
    from exit_brain_plugin.tools.reports.analysis import summarize
    from exit_brain_plugin.tools.reports.sources import ReportInputError, load_any

    try:
        sets = load_any(path, _read_config(config_path))
    except ReportInputError as error:
        return _fail(str(error))
    summaries = [(s.name, summarize(s.trades, s.config)) for s in sets]
    if as_json:
        print(
            json.dumps(
                {
                    name: {**summary.to_json(), **_settings(s)}
                    for (name, summary), s in zip(summaries, sets, strict=True)
                },
                indent=2,
            )
        )
        return 0
    _print(summaries, as_json=False)
    for trade_set in sets:
        settings = ", ".join(f"{k}={v}" for k, v in trade_set.config.to_dict().items())
        print(f"{trade_set.name}: settings replayed ({trade_set.settings_source}): {settings}")
    return 0


def _settings(trade_set: Any) -> dict[str, Any]:
    return {"settings": trade_set.config.to_dict(), "settings_source": trade_set.settings_source}


def _print(summaries: list[tuple[str, Any]], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps({name: summary.to_json() for name, summary in summaries}, indent=2))
        return
    from exit_brain_plugin.tools.reports.render import render_summary

    for name, summary in summaries:
        render_summary(name, summary)


def _compare(args: argparse.Namespace) -> int:
    from exit_brain_plugin.tools.compare import compare_runs, ratchet_effect, run_variants
    from exit_brain_plugin.tools.reports.sources import ReportInputError

    config_file, timerange = MARKETS[args.market]
    config_path = args.config or Path(config_file)
    if not config_path.is_file():
        return _fail(f"{config_path}: no such config file (run from the repository root)")
    try:
        runs, base = run_variants(
            config_file=config_path,
            strategy=args.strategy,
            timerange=args.timerange or (None if args.config else timerange),
            userdir=args.userdir,
            progress=lambda label: print(f"exit-brain: backtesting {label} ...", file=sys.stderr),
        )
    except ReportInputError as error:
        return _fail(str(error))
    rows = compare_runs(runs)
    title = f"{args.strategy} {config_path.name} {base.get('timerange') or ''}".strip()
    if args.json:
        rows_json = [row.to_json() for row in rows]
        effect = ratchet_effect(rows)
        print(json.dumps({"title": title, "rows": rows_json, "ratchet_effect": effect}, indent=2))
        return 0
    from exit_brain_plugin.tools.reports.render import render_comparison

    render_comparison(title, rows, str(base.get("stake_currency", "")))
    print(f"ladder off: {LADDER_OFF_HELP}.")
    effect = ratchet_effect(rows)
    if effect is not None:
        print(
            f"ratchet effect: {effect:+.8g} {base.get('stake_currency', '')} total profit "
            "(brain on - ratchet off)."
        )
    print(
        "fills: every column, brain off included, uses the brain's backtest fill rules "
        "(a stop the candle opens beyond fills at the open)."
    )
    return 0


def _plot(args: argparse.Namespace) -> int:
    from exit_brain_plugin.tools.plot import (
        DEFAULT_DATADIR,
        build_figure,
        load_candles,
        select,
        write_html,
    )
    from exit_brain_plugin.tools.reports.sources import ReportInputError, load_backtest

    try:
        sets = load_backtest(args.export)
        names = [trade_set.name for trade_set in sets]
        chosen = (
            next((s for s in sets if s.name == args.strategy), None) if args.strategy else sets[0]
        )
        if chosen is None:
            return _fail(f"{args.export}: no strategy {args.strategy} (has: {', '.join(names)})")
        request = select(chosen, args.pair, args.trade)
        datadir = args.datadir or Path(chosen.raw_config.get("datadir") or DEFAULT_DATADIR)
        candles = load_candles(request, datadir)
    except ReportInputError as error:
        return _fail(str(error))
    name = args.pair.replace("/", "_").replace(":", "_")
    suffix = f"-trade{args.trade}" if args.trade else ""
    out = args.out or Path("user_data") / "plot" / f"exit-brain-{name}{suffix}.html"
    write_html(build_figure(request, candles), out)
    print(f"exit-brain: wrote {out} ({len(request.trades)} trade(s) of {args.pair})")
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from exit_brain_plugin.tools.offline import run_freqtrade
    from exit_brain_plugin.tools.reports.analysis import summarize
    from exit_brain_plugin.tools.reports.sources import ReportInputError, load_backtest

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
