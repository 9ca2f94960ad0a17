"""A tiny exchange + freqtrade loop around the core, recording every step for the properties.

Each tick: freqtrade's stop fires first when the price is beyond the stop it holds; otherwise
the brain evaluates, its exit is filled (fully, partly, not at all, or rejected) and the fill is
applied; then freqtrade takes the brain's stop (``evaluate_stop``) unless it is already beyond
the price, and never loosens it (unless the scenario says freqtrade keeps the strategy's stop);
then the bot may restart (state JSON round trip).
"""

import json
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
from exit_brain_plugin.core.pricing import floor_to_step
from tests.properties.strategies import Scenario


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
    """Return the price at which the model's profit reaches the loss-guard threshold."""
    move = config.max_unrealized_loss_pct / 100.0 / leverage
    if side is Side.LONG and move >= 1.0:
        return None
    return price_at(side, entry_price, -move)


def _exit_fill(order: ExitOrder, outcome: tuple[str, float], position: float, step, tick):
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
        order_id=f"exit-{tick}",
        complete=complete,
        legs=order.legs,
        amount_step=step,
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
    guard_price = loss_guard_price(side, entry, config, scenario.leverage)
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
        loss_guard_price=guard_price,
    )
    plan = tuple(
        TpLevel(price=price_at(side, entry, distance), fraction=fraction)
        for distance, fraction in scenario.plan
    )
    state, held, position = created.state, initial_stop, exchange.size
    for tick, move in enumerate(scenario.path):
        if state.exit_kind is not None or state.remaining_size <= 0:
            break
        price = price_at(side, entry, move)
        before = state
        if held is not None and is_beyond_stop(side, price, held):
            reason = classify_stop(state, held, guard_price, tolerance=0.0)
            kind = FillKind.LOSS_GUARD if reason == "loss_guard" else FillKind.STOP
            fill = Fill(
                kind=kind,
                filled_amount=position,
                price=price,
                order_id=f"stop-{tick}",
                reason=reason,
                amount_step=step_amount,
            )
            filled = apply_fill(state, fill, config)
            state = filled.state
            position = 0.0
            trace.steps.append(
                Step(
                    tick=tick,
                    move=move,
                    before=before,
                    snapshot=None,
                    plan=None,
                    verdict=None,
                    fill=fill,
                    fill_events=filled.events,
                    after=state,
                    held_stop=held,
                    position_amount=0.0,
                )
            )
            break
        snapshot = MarketSnapshot(
            price=price,
            current_profit=move * scenario.leverage,
            position_amount=position,
            amount_step=step_amount,
            min_order_amount=exchange.min_order_amount,
            min_remaining_amount=exchange.min_remaining_amount,
            exchange_stop_price=held,
            loss_guard_price=guard_price,
        )
        supplied = plan if scenario.plan_from is not None and tick >= scenario.plan_from else None
        verdict = evaluate_position(snapshot, state, config, supplied)
        state = verdict.state
        fill, fill_events = None, ()
        if isinstance(verdict.decision, ExitOrder):
            outcome = scenario.outcomes[tick]
            fill = _exit_fill(verdict.decision, outcome, position, step_amount, tick)
            if fill is not None:
                filled = apply_fill(state, fill, config)
                state, fill_events = filled.state, filled.events
                position -= fill.filled_amount
        target = evaluate_stop(
            state,
            config,
            held_stop_price=held,
            host_stop_price=initial_stop,
            loss_guard_price=guard_price,
        )
        if (
            scenario.holds_brain_stop
            and target is not None
            and not is_beyond_stop(side, price, target.price)
        ):
            held = target.price if held is None else tighter(side, held, target.price)
        if scenario.restarts[tick]:
            state = round_trip(state)
        trace.steps.append(
            Step(
                tick=tick,
                move=move,
                before=before,
                snapshot=snapshot,
                plan=supplied,
                verdict=verdict,
                fill=fill,
                fill_events=fill_events,
                after=state,
                held_stop=held,
                position_amount=position,
            )
        )
    return trace


def without_offset(scenario: Scenario) -> Scenario:
    """Return the scenario with ``ratchet_offset`` 0 (a price offset is not mirror-symmetric)."""
    return replace(scenario, settings={**scenario.settings, "ratchet_offset": 0.0})
