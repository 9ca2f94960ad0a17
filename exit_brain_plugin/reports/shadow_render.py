"""Console tables (rich) for the shadow report (reports/shadow.py)."""

from rich.console import Console
from rich.table import Table

from exit_brain_plugin.reports.render import _money
from exit_brain_plugin.reports.shadow import ModeTotals, PositionShadow, ShadowReport


def _signed(value: float | None) -> str:
    if value is None:
        return "-"
    text = _money(value)
    return f"+{text}" if value > 0 else text


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}%"


def _fills(position: PositionShadow) -> str:
    parts = []
    for fill in position.would_fills:
        what = {
            "take_profit": "+".join(f"TP{leg}" for leg in fill.legs) or fill.tag,
            "loss_guard": "GUARD",
        }.get(fill.kind, f"STOP({fill.reason})")
        parts.append(f"{what} {fill.amount:g}@{fill.price:g}")
    if position.held_at_final_exit:
        parts.append(f"final {position.held_at_final_exit:g}@{position.final_exit_price:g}")
    return ", ".join(parts) or "-"


def _modes_table(report: ShadowReport, console: Console) -> None:
    table = Table(title="Positions per mode (closed; open ones apart)")
    for column in ("Mode", "Positions", "Open", "Actual PnL", "Avg actual PnL %"):
        table.add_column(column, justify="left" if column == "Mode" else "right")
    for mode, totals in report.modes.items():
        table.add_row(
            mode,
            str(totals.positions),
            str(totals.open_positions),
            _money(totals.actual_pnl),
            _pct(totals.actual_avg_pct),
        )
    console.print(table)


def _observe_table(totals: ModeTotals, console: Console) -> None:
    table = Table(title="Observe positions: actual (host exits) vs the brain's would-be exits")
    table.add_column("What")
    table.add_column("Value", justify="right")
    rows = [
        ("Positions compared", str(totals.compared)),
        ("Unpriced (no shadow ledger)", str(totals.unpriced)),
        ("Actual PnL (fees included)", _money(totals.actual_pnl_compared)),
        ("Would-be PnL (fees included)", _money(totals.would_pnl)),
        ("Difference (would - actual)", _signed(totals.difference)),
        ("Avg PnL per position: actual", _pct(totals.actual_avg_pct_compared)),
        ("Avg PnL per position: would-be", _pct(totals.would_avg_pct)),
        (
            "Would have helped (loss avoided / profit added)",
            f"{totals.helped}: {_signed(totals.helped_by)}",
        ),
        ("Would have cost (profit given up)", f"{totals.cost}: {_signed(-totals.cost_by)}"),
        ("Unchanged", str(totals.unchanged)),
        ("Would-be TP hits", _counts(totals.tp_hits)),
        ("Would-be ratchets", _counts(totals.ratchets)),
        (
            "Would-be loss-guard fires / saves",
            f"{totals.loss_guard_fires} / {totals.loss_guard_saves}",
        ),
        ("Loss-guard difference", _signed(totals.loss_guard_difference)),
        ("Would-be stop exits", _counts(totals.stop_exits)),
        ("Would-be profit locked by ratchets (vs initial stop)", _money(totals.profit_locked)),
    ]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {value}" for key, value in counts.items()) or "0"


def _positions_table(report: ShadowReport, console: Console) -> None:
    table = Table(title="Observe positions")
    for column in (
        "Trade",
        "Pair",
        "Side",
        "Actual exit",
        "Brain would have",
        "Actual PnL",
        "Would-be PnL",
        "Difference",
    ):
        table.add_column(
            column, justify="right" if "PnL" in column or column == "Difference" else "left"
        )
    for position in report.positions:
        if position.mode != "observe":
            continue
        table.add_row(
            str(position.trade_id),
            position.pair,
            position.side,
            "open" if position.is_open else position.exit_reason,
            _fills(position) + (f" [{position.note}]" if position.note else ""),
            _money(position.actual_pnl),
            "-" if position.would_pnl is None else _money(position.would_pnl),
            _signed(position.difference),
        )
    console.print(table)


def render_shadow(report: ShadowReport, console: Console | None = None) -> None:
    """Print the shadow report: modes, the observe comparison, then each observe position."""
    console = console or Console()
    console.rule(f"EXIT BRAIN SHADOW REPORT - {report.source}")
    _modes_table(report, console)
    observe = report.modes.get("observe")
    if observe is None:
        console.print("No observe-mode positions in this database: nothing to compare.")
        return
    _observe_table(observe, console)
    _positions_table(report, console)
