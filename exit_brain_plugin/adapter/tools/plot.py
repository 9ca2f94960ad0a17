"""``exit-brain plot``: an HTML chart (plotly, works offline) of a pair's trades, or of one trade.

What is drawn, per trade (trace names in quotes):

- "candles": the pair's candles from the data directory (freqtrade's data loader);
- "entry": each entry fill, at its price and time;
- "TP1 level", "TP2 level", …: the ladder as the brain priced it at the first entry fill
  (the export's ``exit_brain`` settings and the entry price, rounded to the market's price
  step from the markets snapshot), from the entry to the exit;
- "TP fills": each take-profit fill at its price and time (a gap fill ``tp1+tp2`` is one
  marker);
- "stop": the brain's stop as a step line: the trade's initial stop
  (``initial_stop_loss_abs``) from the entry, then each ratchet move at the fill that caused
  it (breakeven after TP1, TP1's price after TP2 with the ``seed`` rule), to the exit;
- "loss guard": the price at which freqtrade's profit ratio is −``max_unrealized_loss_pct``
  (fees included, funding not), when the guard is enabled;
- "exit": the final exit, at its price and time, labelled with the exit reason.

Trade numbers (``--trade N``) count the pair's trades in the export, from 1, in export order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from exit_brain_plugin.core import LOSS_GUARD_TAG, BrainConfig, Side, legs_from_tag, loss_guard
from exit_brain_plugin.core.pricing import round_favourable
from exit_brain_plugin.reports.records import TradeRecord
from exit_brain_plugin.reports.replay import replay_trade
from exit_brain_plugin.reports.sources import ReportInputError, TradeSet


PAD_CANDLES = 24
DEFAULT_DATADIR = Path("user_data") / "data" / "binance"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlotRequest:
    """What to plot: the trades, their candles' source, the settings they ran with."""

    trades: list[TradeRecord]
    numbers: list[int]
    pair: str
    strategy: str
    timeframe: str
    trading_mode: str
    config: BrainConfig


def select(trade_set: TradeSet, pair: str, number: int | None) -> PlotRequest:
    """Return the trades of ``pair`` (all, or the ``number``-th) of a trade set.

    :raises ReportInputError: for a pair without trades or a number out of range
    """
    of_pair = [trade for trade in trade_set.trades if trade.pair == pair]
    if not of_pair:
        pairs = sorted({trade.pair for trade in trade_set.trades})
        raise ReportInputError(
            f"{trade_set.source}: no trades of {pair} (pairs with trades: {', '.join(pairs)})"
        )
    numbers = list(range(1, len(of_pair) + 1))
    if number is not None:
        if not 1 <= number <= len(of_pair):
            raise ReportInputError(
                f"{trade_set.source}: {pair} has {len(of_pair)} trades; --trade must be 1-"
                f"{len(of_pair)}, was {number}"
            )
        of_pair, numbers = [of_pair[number - 1]], [number]
    timeframe = str(trade_set.result.get("timeframe") or trade_set.raw_config.get("timeframe"))
    mode = str(
        trade_set.result.get("trading_mode") or trade_set.raw_config.get("trading_mode") or "spot"
    )
    return PlotRequest(
        trades=of_pair,
        numbers=numbers,
        pair=pair,
        strategy=trade_set.name,
        timeframe=timeframe,
        trading_mode=mode,
        config=trade_set.config,
    )


def _time(value: str | int | None) -> datetime:
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_candles(request: PlotRequest, datadir: Path) -> Any:
    """Return the candles around the requested trades (freqtrade's data loader)."""
    from freqtrade.data.history import load_pair_history
    from freqtrade.enums import CandleType
    from freqtrade.exchange import timeframe_to_seconds

    futures = request.trading_mode == "futures"
    candles = load_pair_history(
        pair=request.pair,
        timeframe=request.timeframe,
        datadir=datadir,
        data_format="feather",
        candle_type=CandleType.FUTURES if futures else CandleType.SPOT,
    )
    if candles is None or candles.empty:
        raise ReportInputError(
            f"{datadir}: no {request.timeframe} candles for {request.pair} "
            "(pass --datadir with the data the backtest ran on)"
        )
    pad = timedelta(seconds=PAD_CANDLES * timeframe_to_seconds(request.timeframe))
    start = min(_time(trade.open_date) for trade in request.trades) - pad
    end = max(_time(trade.close_date or trade.open_date) for trade in request.trades) + pad
    return candles[(candles["date"] >= start) & (candles["date"] <= end)]


def guard_price(trade: TradeRecord, config: BrainConfig) -> float | None:
    """Return the price where freqtrade's profit ratio is −threshold (fees in, funding out).

    A trade database's stored state holds the price the brain computed (``loss_guard_price``,
    funding in): that one is drawn when present.

    Rounded to the price step the way freqtrade rounds a stop (up for a long, down for a
    short), so that the line is where the guard fills.
    """
    if not (config.enabled and config.loss_guard_enabled):
        return None
    side = Side.SHORT if trade.is_short else Side.LONG
    stored = trade.stored_state.loss_guard_price if trade.stored_state is not None else None
    if stored is not None:  # the price the brain computed (trade databases)
        return round_favourable(side, stored, trade.price_step or None)
    price = loss_guard.guard_price(
        side,
        trade.open_rate,
        config,
        leverage=trade.leverage or 1.0,
        fee_open=trade.fee_open,
        fee_close=trade.fee_close,
    )
    # The brain holds the guard stop on this tick (float noise is no tick: 0.0875 stays).
    return None if price is None else round_favourable(side, price, trade.price_step or None)


class _Lines:
    """Segments of one line trace over several trades (None between them)."""

    def __init__(self) -> None:
        self.x: list[datetime | None] = []
        self.y: list[float | None] = []

    def add(self, points: Sequence[tuple[datetime, float]]) -> None:
        if self.x:
            self.x.append(None)
            self.y.append(None)
        self.x.extend(x for x, _ in points)
        self.y.extend(y for _, y in points)


class _Markers:
    def __init__(self) -> None:
        self.x: list[datetime] = []
        self.y: list[float] = []
        self.text: list[str] = []

    def add(self, x: datetime, y: float, text: str) -> None:
        self.x.append(x)
        self.y.append(y)
        self.text.append(text)


@dataclass
class _Traces:
    """What the trades contribute to the figure, trace by trace."""

    entries: _Markers
    fills: _Markers
    exits: _Markers
    stops: _Lines
    guards: _Lines
    levels: dict[int, _Lines]


def _collect(request: PlotRequest, last_candle: datetime) -> _Traces:
    traces = _Traces(_Markers(), _Markers(), _Markers(), _Lines(), _Lines(), {})
    for trade in request.trades:
        opened = _time(trade.open_date)
        closed = _time(trade.close_date) if trade.close_date else last_candle
        for order in trade.orders:
            at = _time(order.timestamp_ms) if order.timestamp_ms else opened
            label = f"{order.tag or 'order'} {order.amount:g} @ {order.price:g}"
            if order.is_entry:
                traces.entries.add(at, order.price, label)
            elif legs_from_tag(order.tag):
                traces.fills.add(at, order.price, label)
        final = trade.final_exit
        if final is not None and not trade.is_open:
            at = _time(final.timestamp_ms) if final.timestamp_ms else closed
            text = f"{trade.exit_reason} {final.amount:g} @ {final.price:g}"
            traces.exits.add(at, final.price, text)
        replay = replay_trade(trade, request.config)
        if replay is None:
            continue
        for index, level in enumerate(replay.levels, start=1):
            line = traces.levels.setdefault(index, _Lines())
            line.add([(opened, level.price), (closed, level.price)])
        steps = [(_time(when), price) for when, price in replay.stops]
        if steps:
            traces.stops.add([*steps, (closed, steps[-1][1])])
        guard = guard_price(trade, request.config)
        if guard is not None:
            traces.guards.add([(opened, guard), (closed, guard)])
    return traces


def build_figure(request: PlotRequest, candles: Any) -> Any:
    """Return the plotly figure of the requested trades over ``candles``."""
    import plotly.graph_objects as go

    traces = _collect(request, _time(str(candles["date"].max())))
    figure = go.Figure()
    figure.add_trace(
        go.Candlestick(
            x=list(candles["date"]),
            open=list(candles["open"]),
            high=list(candles["high"]),
            low=list(candles["low"]),
            close=list(candles["close"]),
            name="candles",
        )
    )
    lines = [
        (f"TP{index} level", line, {"dash": "dash", "width": 1, "color": "seagreen"})
        for index, line in sorted(traces.levels.items())
    ]
    lines.append(("stop", traces.stops, {"shape": "hv", "color": "crimson", "width": 2}))
    if traces.guards.x:
        lines.append(("loss guard", traces.guards, {"dash": "dot", "color": "darkred"}))
    for name, line, style in lines:
        figure.add_trace(go.Scatter(x=line.x, y=line.y, mode="lines", name=name, line=style))
    long = not request.trades[0].is_short
    markers = [
        ("entry", traces.entries, "triangle-up" if long else "triangle-down", "royalblue"),
        ("TP fills", traces.fills, "star", "gold"),
        ("exit", traces.exits, "x", "black"),
    ]
    for name, points, symbol, colour in markers:
        figure.add_trace(
            go.Scatter(
                x=points.x,
                y=points.y,
                text=points.text,
                mode="markers",
                name=name,
                marker={"symbol": symbol, "size": 12, "color": colour},
                hovertemplate="%{text}<br>%{x}<extra>" + name + "</extra>",
            )
        )
    figure.update_layout(
        title=_title(request),
        xaxis_rangeslider_visible=False,
        hovermode="closest",
        template="plotly_white",
    )
    return figure


def _title(request: PlotRequest) -> str:
    if len(request.trades) == 1:
        trade = request.trades[0]
        side = "SHORT" if trade.is_short else "LONG"
        guard = " (loss guard)" if trade.exit_reason == LOSS_GUARD_TAG else ""
        return (
            f"{request.strategy} {request.pair} trade {request.numbers[0]}: {side} "
            f"{trade.open_date} → {trade.close_date}, {trade.exit_reason}{guard}, "
            f"{100 * trade.profit_ratio:.2f}%"
        )
    return f"{request.strategy} {request.pair}: {len(request.trades)} trades"


def write_html(figure: Any, out: Path) -> Path:
    """Write a self-contained HTML file (plotly.js embedded: opens offline)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(str(out), include_plotlyjs=True, full_html=True)
    return out
