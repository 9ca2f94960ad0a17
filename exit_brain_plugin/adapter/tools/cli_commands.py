"""What each ``exit-brain`` subcommand does, given its parsed arguments.

Rules:
1. Each command imports what it needs when it runs, never at module import: ``exit-brain set``
   talks to the bot through freqtrade-client and never imports freqtrade; ``report`` on an
   export needs no freqtrade either.
2. A failure the user can fix prints one line ``exit-brain: <what is wrong>`` on stderr and
   returns exit code 2 (``set`` returns its own codes, see tools/admin.py); no traceback.
3. ``--json`` prints machine-readable output on stdout and nothing else.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from exit_brain_plugin.adapter.tools.cli_parser import LADDER_OFF_HELP, MARKETS


def run_ft(args: argparse.Namespace) -> int:
    """Run a freqtrade command offline (markets from the snapshot); return its exit code."""
    from exit_brain_plugin.adapter.tools.offline import run_freqtrade

    return run_freqtrade(list(args.args))


def run_shadow(db_url: str, *, as_json: bool) -> int:
    """Print the shadow report of a trade database; return the exit code."""
    from exit_brain_plugin.adapter.tools.tradedb import read_trades
    from exit_brain_plugin.reports.shadow import shadow_report
    from exit_brain_plugin.reports.sources import ReportInputError

    try:
        shown, trades = read_trades(db_url)
    except ReportInputError as error:
        return fail(str(error))
    report = shadow_report(shown, trades)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
        return 0
    from exit_brain_plugin.reports.shadow_render import render_shadow

    render_shadow(report)
    return 0


def run_set_command(args: argparse.Namespace) -> int:
    """Change settings of a running bot (tools/admin.py); return the exit code."""
    from exit_brain_plugin.adapter.tools.admin import SetError, run_set

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


def run_tune(args: argparse.Namespace) -> int:
    """Run walk-forward tuning (tools/tune) and print its report; return the exit code."""
    from exit_brain_plugin.adapter.tools.tune import (
        ProgressLine,
        TuneError,
        TuneOptions,
        render,
        tune,
    )

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
        return fail(str(error))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        render(report)
    return 0


def fail(message: str) -> int:
    """Print ``exit-brain: <message>`` on stderr; return exit code 2 (rule 2)."""
    print(f"exit-brain: {message}", file=sys.stderr)
    return 2


def _read_config(config_path: Path | None) -> dict[str, Any] | None:
    if config_path is None:
        return None
    from exit_brain_plugin.reports.sources import ReportInputError

    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportInputError(f"{config_path}: not a readable JSON config ({error})") from error
    if not isinstance(config, dict):
        raise ReportInputError(f"{config_path}: not a freqtrade config (not a JSON object)")
    return config


def run_report(path: str, config_path: Path | None, *, as_json: bool) -> int:
    """Print the summary of an export or trade database; return the exit code."""
    from exit_brain_plugin.reports.analysis import summarize
    from exit_brain_plugin.reports.sources import ReportInputError, load_any

    try:
        sets = load_any(path, _read_config(config_path))
    except ReportInputError as error:
        return fail(str(error))
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
    from exit_brain_plugin.reports.render import render_summary

    for name, summary in summaries:
        render_summary(name, summary)


def run_compare(args: argparse.Namespace) -> int:
    """Backtest the variants side by side (tools/compare.py); return the exit code."""
    from exit_brain_plugin.adapter.tools.compare import compare_runs, ratchet_effect, run_variants
    from exit_brain_plugin.reports.sources import ReportInputError

    config_file, timerange = MARKETS[args.market]
    config_path = args.config or Path(config_file)
    if not config_path.is_file():
        return fail(f"{config_path}: no such config file (run from the repository root)")
    try:
        runs, base = run_variants(
            config_file=config_path,
            strategy=args.strategy,
            timerange=args.timerange or (None if args.config else timerange),
            userdir=args.userdir,
            progress=lambda label: print(f"exit-brain: backtesting {label} ...", file=sys.stderr),
        )
    except ReportInputError as error:
        return fail(str(error))
    rows = compare_runs(runs)
    title = f"{args.strategy} {config_path.name} {base.get('timerange') or ''}".strip()
    if args.json:
        rows_json = [row.to_json() for row in rows]
        effect = ratchet_effect(rows)
        print(json.dumps({"title": title, "rows": rows_json, "ratchet_effect": effect}, indent=2))
        return 0
    from exit_brain_plugin.reports.render import render_comparison

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


def run_plot(args: argparse.Namespace) -> int:
    """Write the HTML chart of a pair's trades (tools/plot.py); return the exit code."""
    from exit_brain_plugin.adapter.tools.plot import (
        DEFAULT_DATADIR,
        build_figure,
        load_candles,
        select,
        write_html,
    )
    from exit_brain_plugin.reports.sources import ReportInputError, load_backtest

    try:
        sets = load_backtest(args.export)
        names = [trade_set.name for trade_set in sets]
        chosen = (
            next((s for s in sets if s.name == args.strategy), None) if args.strategy else sets[0]
        )
        if chosen is None:
            return fail(f"{args.export}: no strategy {args.strategy} (has: {', '.join(names)})")
        request = select(chosen, args.pair, args.trade)
        datadir = args.datadir or Path(chosen.raw_config.get("datadir") or DEFAULT_DATADIR)
        candles = load_candles(request, datadir)
    except ReportInputError as error:
        return fail(str(error))
    name = args.pair.replace("/", "_").replace(":", "_")
    suffix = f"-trade{args.trade}" if args.trade else ""
    out = args.out or Path("user_data") / "plot" / f"exit-brain-{name}{suffix}.html"
    write_html(build_figure(request, candles), out)
    print(f"exit-brain: wrote {out} ({len(request.trades)} trade(s) of {args.pair})")
    return 0


def run_backtest(args: argparse.Namespace) -> int:
    """Backtest the sample offline and print the summary; return the exit code."""
    from exit_brain_plugin.adapter.tools.offline import run_freqtrade
    from exit_brain_plugin.reports.analysis import summarize
    from exit_brain_plugin.reports.sources import ReportInputError, load_backtest

    markets = ["spot", "futures"] if args.market == "both" else [args.market]
    results = Path(args.userdir) / "backtest_results"
    summaries: list[tuple[str, Any]] = []
    for market in markets:
        config_file, timerange = MARKETS[market]
        if not Path(config_file).is_file():
            return fail(f"{config_file} not found: run from the repository root")
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
            return fail(f"freqtrade backtesting ({market}) exited with code {code}")
        try:
            summaries.extend(
                (f"{trade_set.name} ({market})", summarize(trade_set.trades, trade_set.config))
                for trade_set in load_backtest(results)
            )
        except ReportInputError as error:
            return fail(str(error))
    _print(summaries, as_json=args.json)
    return 0
