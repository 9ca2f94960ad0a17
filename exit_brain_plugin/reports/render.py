"""Console tables (rich) for the exit-brain summary."""

from rich.console import Console
from rich.table import Table

from exit_brain_plugin.reports.analysis import Summary, day_colour


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def render_summary(title: str, summary: Summary, console: Console | None = None) -> None:
    """Print the summary of one trade set as tables."""
    console = console or Console()
    table = Table(title=f"EXIT BRAIN SUMMARY - {title}", show_lines=False)
    table.add_column("What", justify="left")
    table.add_column("Count", justify="right")
    table.add_column("Rate", justify="right")
    table.add_row("Positions", str(summary.trades), "")
    for index, hits in enumerate(summary.tp_hits):
        label = f"TP{index + 1} hits" + (f" (given TP{index})" if index else "")
        table.add_row(label, str(hits), _pct(summary.tp_conditional_rates[index]))
    for target, count in sorted(summary.ratchets.items(), key=lambda item: item[0] != "breakeven"):
        name = "breakeven" if target == "breakeven" else target.upper() + " price"
        table.add_row(f"Stop ratcheted to {name}", str(count), "")
    table.add_row("Loss-guard fires", str(summary.loss_guard_fires), "")
    for kind, count in sorted(summary.stop_exits.items()):
        table.add_row(f"Stop exits: {kind}", str(count), "")
    table.add_row("Average PnL per position", f"{summary.avg_profit_pct:.2f}%", "")
    table.add_row("Total profit (stake currency)", f"{summary.total_profit_abs:.8f}", "")
    table.add_row("Win rate", "", _pct(summary.win_rate))
    console.print(table)
    if summary.loss_guard_by_day:
        days = Table(title="Loss-guard fires per day (green 0-5, yellow 6-10, red > 10)")
        days.add_column("Day")
        days.add_column("Fires", justify="right")
        for day, fires in sorted(summary.loss_guard_by_day.items()):
            colour = day_colour(fires)
            days.add_row(day, f"[{colour}]{fires}[/{colour}]")
        console.print(days)
