"""The ``exit-brain`` command: parse the arguments, run the subcommand, return its exit code.

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

import sys
from collections.abc import Sequence

from exit_brain_plugin.adapter.tools import cli_commands as commands
from exit_brain_plugin.adapter.tools.cli_parser import build_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    if args.command == "ft":
        return commands.run_ft(args)
    if args.command == "report":
        return commands.run_report(args.path, args.config, as_json=args.json)
    if args.command == "compare":
        return commands.run_compare(args)
    if args.command == "plot":
        return commands.run_plot(args)
    if args.command == "set":
        return commands.run_set_command(args)
    if args.command == "shadow":
        return commands.run_shadow(args.db_url, as_json=args.json)
    if args.command == "tune":
        return commands.run_tune(args)
    return commands.run_backtest(args)


if __name__ == "__main__":
    sys.exit(main())
