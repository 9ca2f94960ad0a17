"""Console tables (rich) for the exit-brain summary and the with/without comparison."""

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from exit_brain_plugin.reports.analysis import Summary, day_colour


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _money(value: float) -> str:
    if value == 0:
        return "0"
    return f"{value:.8f}" if abs(value) < 1e-4 else f"{value:.6g}"


def _stop_label(kind: str) -> str:
    return kind if kind in ("initial", "breakeven", "strategy") else f"{kind.upper()} price"


def render_summary(title: str, summary: Summary, console: Console | None = None) -> None:
    """Print the summary of one trade set as tables."""
    console = console or Console()
    console.rule(f"EXIT BRAIN SUMMARY - {title}")
    overview = Table(title="Positions")
    overview.add_column("What")
    overview.add_column("Value", justify="right")
    positions = str(summary.trades)
    if summary.open_positions:
        positions += f" (+{summary.open_positions} open, not counted)"
    overview.add_row("Positions (closed)", positions)
    overview.add_row("Average PnL per position", f"{summary.avg_profit_pct:.2f}%")
    overview.add_row("Total profit (stake currency)", _money(summary.total_profit_abs))
    overview.add_row("Win rate", _pct(summary.win_rate))
    overview.add_row("Loss-guard fires", str(summary.loss_guard_fires))
    overview.add_row("Profit locked by ratchets", _money(summary.profit_locked_total))
    overview.caption = (
        "Profit locked by ratchets: the PnL each position's last stop move guaranteed on the "
        "amount still open at that moment, fees excluded (exit-brain compare: brain on vs "
        "ratchet off for what the ratchet changed)"
    )
    console.print(overview)

    ladder = Table(title="Take-profit levels")
    ladder.add_column("Level")
    ladder.add_column("Hits", justify="right")
    ladder.add_column("Rate", justify="right")
    ladder.add_column("Rate of", justify="left")
    for index, hits in enumerate(summary.tp_hits):
        base = "positions" if index == 0 else f"TP{index} hits"
        ladder.add_row(f"TP{index + 1}", str(hits), _pct(summary.tp_conditional_rates[index]), base)
    console.print(ladder)

    stops = Table(
        title="Stops", caption="stop exits are named by the stop that was active at the exit"
    )
    stops.add_column("Stop")
    stops.add_column("Ratchet moves to it", justify="right")
    stops.add_column("Stop exits", justify="right")
    stops.add_column("PnL locked on the remaining amount", justify="right")
    kinds = list(summary.stop_exits) + [k for k in summary.ratchets if k not in summary.stop_exits]
    for kind in kinds:
        moves = "-" if kind in ("initial", "strategy") else str(summary.ratchets.get(kind, 0))
        locked = summary.profit_locked.get(kind)
        stops.add_row(
            _stop_label(kind),
            moves,
            str(summary.stop_exits.get(kind, 0)),
            "-" if locked is None else _money(locked),
        )
    console.print(stops)

    days = Table(title="Loss-guard fires per day", caption="green 0-5, yellow 6-10, red > 10")
    days.add_column("Day (UTC)")
    days.add_column("Fires", justify="right")
    for day, fires in sorted(summary.loss_guard_by_day.items()):
        colour = day_colour(fires)
        days.add_row(day, f"[{colour}]{fires} {colour}[/{colour}]")
    if summary.quiet_days or not summary.loss_guard_by_day:
        days.add_row(
            f"{summary.quiet_days} other days" if summary.loss_guard_by_day else "every day",
            "[green]0 green[/green]",
        )
    console.print(days)


def render_comparison(
    title: str, rows: Sequence[Any], stake_currency: str = "", console: Console | None = None
) -> None:
    """Print the with/without comparison: one column per variant, one row per figure."""
    console = console or Console()
    console.rule(f"EXIT BRAIN ON / OFF - {title}")
    table = Table()
    table.add_column("")
    for row in rows:
        table.add_column(row.label, justify="right")
    unit = f" ({stake_currency})" if stake_currency else ""
    lines: list[tuple[str, Any]] = [
        ("Positions", lambda r: str(r.trades)),
        ("Avg PnL / position", lambda r: f"{r.avg_profit_pct:.2f}%"),
        (f"Total profit{unit}", lambda r: _money(r.total_profit_abs)),
        ("Total profit %", lambda r: f"{r.total_profit_pct:.2f}%"),
        (f"Max drawdown{unit}", lambda r: _money(r.max_drawdown_abs)),
        ("Max drawdown %", lambda r: f"{100 * r.max_drawdown_pct:.2f}%"),
        ("Win rate", lambda r: _pct(r.win_rate)),
        ("Guard fires", lambda r: str(r.loss_guard_fires)),
        ("Guard saves", lambda r: "-" if r.saves is None else str(r.saves)),
        (
            f"Loss avoided{unit}",
            lambda r: "-" if r.loss_avoided is None else _money(r.loss_avoided),
        ),
    ]
    for label, cell in lines:
        table.add_row(label, *(cell(row) for row in rows))
    console.print(table)
