"""A tiny exchange + freqtrade loop around the core, recording every step for the properties.

Rules:

1. One tick loop: :func:`play_tick` is the only place a tick is played. :func:`simulate` plays
   a whole scripted scenario with it; the state machine (``test_trade_machine.py``) plays its
   random ticks with it too, its exits filled later by its own rule.
2. Each tick: freqtrade's stop fires first when the price is beyond the stop it holds;
   otherwise the brain evaluates, its exit is filled (fully, partly, not at all, or rejected)
   and the fill is applied; then freqtrade takes the brain's stop (``evaluate_stop``) unless it
   is already beyond the price, and never loosens it (unless the scenario says freqtrade keeps
   the strategy's stop); then the bot may restart (state JSON round trip).
3. One exchange fill rule: :func:`exit_fill` turns an exit and an outcome into the fill.
"""

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from exit_brain_plugin.core import (
    BrainConfig,
    BrainEvent,
    ExitOrder,
    Fill,
    FillKind,
    MarketSnapshot,
    PositionOpen,
    PositionState,
    Side,
    TpLevel,
    Verdict,
    apply_fill,
    classify_stop,
    create_state,
    evaluate_position,
    evaluate_stop,
    fill_kind_of,
    from_json_dict,
    to_json_dict,
)
from exit_brain_plugin.core.loss_guard import guard_price
from exit_brain_plugin.core.pricing import floor_to_step
from tests.properties.strategies import Exchange, Scenario


def round_trip(state: PositionState) -> PositionState:
    """Return the state as a restarted bot reads it back from the trade's custom data."""
    return from_json_dict(json.loads(json.dumps(to_json_dict(state))))


def price_at(side: Side, entry_price: float, move: float) -> float:
    """Return the price ``move`` (a fraction of the entry) in the trade's favour."""
    return entry_price * (1.0 + move) if side is Side.LONG else entry_price * (1.0 - move)


def is_beyond_stop(side: Side, price: float, stop_price: float) -> bool:
    """Return True when a freqtrade stop at ``stop_price`` fires at ``price``."""
    return price <= stop_price if side is Side.LONG else price >= stop_price


def tighter(side: Side, a: float, b: float) -> float:
    """Return the tighter of two stops."""
    return max(a, b) if side is Side.LONG else min(a, b)


@dataclass(frozen=True, kw_only=True)
class Step:
    """One tick: what the brain saw and decided, and what the exchange did."""

    tick: int
    move: float
    before: PositionState
    snapshot: MarketSnapshot | None  # None: freqtrade's stop fired before the brain ran
    plan: tuple[TpLevel, ...] | None
    verdict: Verdict | None
    fill: Fill | None
    fill_events: tuple[BrainEvent, ...]
    after: PositionState
    held_stop: float | None
    position_amount: float
    position_before: float  # what the exchange held when the brain decided

    @property
    def events(self) -> tuple[BrainEvent, ...]:
        """Return every event of the step: the evaluation's, then the fill's."""
        return (() if self.verdict is None else self.verdict.events) + self.fill_events

    @property
    def order(self) -> ExitOrder | None:
        """Return the exit the brain asked for at this tick, if any."""
        if self.verdict is None or not isinstance(self.verdict.decision, ExitOrder):
            return None
        return self.verdict.decision


@dataclass(kw_only=True)
class Trace:
    """A whole simulated position."""

    scenario: Scenario
    side: Side
    config: BrainConfig
    created: Verdict
    initial_stop: float | None
    loss_guard_price: float | None
    steps: list[Step] = field(default_factory=list)

    @property
    def states(self) -> list[PositionState]:
        """Return the created state and the state after every step."""
        return [self.created.state, *(step.after for step in self.steps)]

    @property
    def total_filled(self) -> float:
        """Return the base amount every exit fill closed."""
        return sum(step.fill.filled_amount for step in self.steps if step.fill is not None)


def loss_guard_price(side: Side, entry_price: float, config: BrainConfig, leverage: float):
    """Return the price at which the model's profit (no fees) reaches the loss-guard threshold."""
    return guard_price(side, entry_price, config, leverage=leverage)


@dataclass(frozen=True, kw_only=True)
class Market:
    """What stays fixed while one position is played: side, entry, exchange, stops, settings."""

    side: Side
    entry_price: float
    leverage: float
    exchange: Exchange
    config: BrainConfig
    initial_stop: float | None
    guard_price: float | None


@dataclass(frozen=True, kw_only=True)
class TickOutcome:
    """What one tick did: the stop fired (``snapshot`` None) or the brain evaluated."""

    state: PositionState
    held_stop: float | None
    position_amount: float
    snapshot: MarketSnapshot | None
    verdict: Verdict | None
    fill: Fill | None
    fill_events: tuple[BrainEvent, ...]

    @property
    def stopped_out(self) -> bool:
        """Return True when freqtrade's stop closed the position before the brain ran."""
        return self.snapshot is None


def snapshot_at(market: Market, *, move: float, held: float | None) -> MarketSnapshot:
    """Return what the brain sees at ``move``: the price, the model's profit, the exchange."""
    return MarketSnapshot(
        price=price_at(market.side, market.entry_price, move),
        current_profit=move * market.leverage,
        amount_step=market.exchange.amount_step,
        min_order_amount=market.exchange.min_order_amount,
        min_remaining_amount=market.exchange.min_remaining_amount,
        exchange_stop_price=held,
    )


def exit_fill(
    order: ExitOrder, outcome: tuple[str, float], position: float, step: float, order_id: str
) -> Fill | None:
    """Return the exchange's fill of ``order``: ``full``, ``partial`` (the share, floored to the
    step), ``zero`` (accepted, nothing filled) or None when it was ``reject``-ed."""
    kind, share = outcome
    if kind == "reject":
        return None
    if kind == "full":
        filled, complete = min(order.amount, position), True
    elif kind == "partial":
        filled, complete = floor_to_step(order.amount * share, step), False
    else:
        filled, complete = 0.0, False
    return Fill(
        kind=fill_kind_of(order.kind),
        filled_amount=filled,
        price=order.price,
        order_id=order_id,
        complete=complete,
        legs=order.legs,
        amount_step=step,
    )


def play_tick(
    market: Market,
    state: PositionState,
    *,
    move: float,
    held: float | None,
    position: float,
    plan: tuple[TpLevel, ...] | None,
    fill_exit: Callable[[ExitOrder], Fill | None],
    holds_brain_stop: bool = True,
    stop_order_id: str = "stop",
) -> TickOutcome:
    """Play one tick as freqtrade and the exchange would: the one tick loop of the properties.

    freqtrade's stop fires first when the price is beyond the stop it holds (a full stop fill);
    otherwise the brain evaluates, ``fill_exit`` says what the exchange did with its exit (None:
    nothing filled yet, or rejected) and the fill is applied; then freqtrade takes the brain's
    stop unless it is already beyond the price, never loosening it (``holds_brain_stop`` False:
    freqtrade keeps the strategy's stop).
    """
    side, config, step = market.side, market.config, market.exchange.amount_step
    price = price_at(side, market.entry_price, move)
    if held is not None and is_beyond_stop(side, price, held):
        reason = classify_stop(state, held, market.guard_price, tolerance=0.0)
        stop = Fill(
            kind=FillKind.LOSS_GUARD if reason == "loss_guard" else FillKind.STOP,
            filled_amount=position,
            price=price,
            order_id=stop_order_id,
            reason=reason,
            amount_step=step,
        )
        stopped = apply_fill(state, stop, config)
        return TickOutcome(
            state=stopped.state,
            held_stop=held,
            position_amount=0.0,
            snapshot=None,
            verdict=None,
            fill=stop,
            fill_events=stopped.events,
        )
    snapshot = snapshot_at(market, move=move, held=held)
    verdict = evaluate_position(snapshot, state, config, plan)
    state = verdict.state
    fill, fill_events = None, ()
    if isinstance(verdict.decision, ExitOrder):
        fill = fill_exit(verdict.decision)
        if fill is not None:
            filled = apply_fill(state, fill, config)
            state, fill_events = filled.state, filled.events
            position -= fill.filled_amount
    target = evaluate_stop(
        state,
        config,
        held_stop_price=held,
        host_stop_price=market.initial_stop,
        loss_guard_price=market.guard_price,
    )
    if holds_brain_stop and target is not None and not is_beyond_stop(side, price, target.price):
        held = target.price if held is None else tighter(side, held, target.price)
    return TickOutcome(
        state=state,
        held_stop=held,
        position_amount=position,
        snapshot=snapshot,
        verdict=verdict,
        fill=fill,
        fill_events=fill_events,
    )


def simulate(
    scenario: Scenario, *, side: Side | None = None, config: BrainConfig | None = None
) -> Trace:
    """Play ``scenario`` (optionally as the other side or with other settings)."""
    side = scenario.side if side is None else side
    config = scenario.config if config is None else config
    entry, exchange = scenario.entry_price, scenario.exchange
    step_amount = exchange.amount_step
    initial_stop = (
        None if scenario.stop_distance is None else price_at(side, entry, -scenario.stop_distance)
    )
    market = Market(
        side=side,
        entry_price=entry,
        leverage=scenario.leverage,
        exchange=exchange,
        config=config,
        initial_stop=initial_stop,
        guard_price=loss_guard_price(side, entry, config, scenario.leverage),
    )
    opening = PositionOpen(
        pair="ETH/USDT",
        side=side,
        entry_price=entry,
        amount=exchange.size,
        initial_stop_price=initial_stop,
    )
    created = create_state(opening, config)
    trace = Trace(
        scenario=scenario,
        side=side,
        config=config,
        created=created,
        initial_stop=initial_stop,
        loss_guard_price=market.guard_price,
    )
    plan = tuple(
        TpLevel(price=price_at(side, entry, distance), fraction=fraction)
        for distance, fraction in scenario.plan
    )
    state, held, position = created.state, initial_stop, exchange.size
    for tick, move in enumerate(scenario.path):
        if state.exit_kind is not None or state.remaining_size <= 0:
            break
        supplied = plan if scenario.plan_from is not None and tick >= scenario.plan_from else None
        outcome = play_tick(
            market,
            state,
            move=move,
            held=held,
            position=position,
            plan=supplied,
            fill_exit=functools.partial(
                _scripted_fill, scenario.outcomes[tick], position, step_amount, f"exit-{tick}"
            ),
            holds_brain_stop=scenario.holds_brain_stop,
            stop_order_id=f"stop-{tick}",
        )
        before, state = state, outcome.state
        position_before = position
        held, position = outcome.held_stop, outcome.position_amount
        if not outcome.stopped_out and scenario.restarts[tick]:
            state = round_trip(state)
        trace.steps.append(
            Step(
                tick=tick,
                move=move,
                before=before,
                snapshot=outcome.snapshot,
                plan=None if outcome.stopped_out else supplied,
                verdict=outcome.verdict,
                fill=outcome.fill,
                fill_events=outcome.fill_events,
                after=state,
                held_stop=held,
                position_amount=position,
                position_before=position_before,
            )
        )
        if outcome.stopped_out:
            break
    return trace


def _scripted_fill(
    outcome: tuple[str, float], position: float, step: float, order_id: str, order: ExitOrder
) -> Fill | None:
    return exit_fill(order, outcome, position, step, order_id)


def without_offset(scenario: Scenario) -> Scenario:
    """Return the scenario with ``ratchet_offset`` 0 (a price offset is not mirror-symmetric)."""
    return replace(scenario, settings={**scenario.settings, "ratchet_offset": 0.0})
