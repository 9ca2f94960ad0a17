"""Sequences of ticks, fills and restarts (RuleBasedStateMachine) against the core.

The machine plays freqtrade and the exchange: ``tick`` moves the price and, with no order
open, plays one tick with the simulator's :func:`~tests.properties.simulator.play_tick` (the
one tick loop of the properties: freqtrade's stop fires, or the brain evaluates and its exit
stays open); ``fill_pending`` fills the open exit with the simulator's ``exit_fill`` — fully,
partly, not at all — or rejects it; ``restart`` reads the state back from JSON. Loss-guard fires
are counted by event kind.
"""

import itertools
import math

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from exit_brain_plugin.core import (
    EventKind,
    ExitKind,
    ExitOrder,
    PositionOpen,
    Side,
    TpLevel,
    apply_fill,
    create_state,
    evaluate_position,
)
from tests.properties.simulator import (
    Market,
    exit_fill,
    loss_guard_price,
    play_tick,
    price_at,
    round_trip,
    snapshot_at,
    tighter,
)
from tests.properties.strategies import FRACTIONS, configs, exchanges


class TradeMachine(RuleBasedStateMachine):
    """One position under random ticks, fills, plans and restarts."""

    @initialize(
        config=configs(),
        exchange=exchanges(),
        side=st.sampled_from(Side),
        leverage=st.sampled_from([1.0, 5.0, 20.0]),
        stop_distance=st.sampled_from([None, 0.02, 0.1]),
    )
    def open_position(self, config, exchange, side, leverage, stop_distance):
        self.config, self.exchange, self.side, self.leverage = config, exchange, side, leverage
        self.entry = 3000.0
        self.initial_stop = (
            None if stop_distance is None else price_at(side, 3000.0, -stop_distance)
        )
        self.guard_price = loss_guard_price(side, self.entry, config, leverage)
        self.market = Market(
            side=side,
            entry_price=self.entry,
            leverage=leverage,
            exchange=exchange,
            config=config,
            initial_stop=self.initial_stop,
            guard_price=self.guard_price,
        )
        opening = PositionOpen(
            pair="ETH/USDT",
            side=side,
            entry_price=self.entry,
            amount=exchange.size,
            initial_stop_price=self.initial_stop,
        )
        self.state = create_state(opening, config).state
        self.position = exchange.size
        self.filled = 0.0
        self.move = 0.0
        self.held = self.initial_stop
        self.pending: ExitOrder | None = None
        self.plan: tuple[TpLevel, ...] | None = None
        self.stops_seen = [self.state.active_sl]
        self.guard_events = 0

    @property
    def closed(self):
        return self.state.exit_kind is not None or self.state.remaining_size <= 0

    def _snapshot(self):
        return snapshot_at(self.market, move=self.move, held=self.held)

    def _apply(self, fill):
        self.state = apply_fill(self.state, fill, self.config).state
        self.position -= fill.filled_amount
        self.filled += fill.filled_amount
        self.stops_seen.append(self.state.active_sl)

    def _rest(self, order):
        self.pending = order  # the exit stays open until fill_pending
        return None

    @rule(
        move=st.floats(-0.04, 0.04).map(lambda x: round(x, 4))
        | st.sampled_from([0.0025, 0.01, 0.02, 0.05, 0.15, -0.01, -0.05])
    )
    def tick(self, move):
        self.move = min(0.5, max(-0.5, round(self.move + move, 4)))
        if self.closed or self.pending is not None:
            return
        outcome = play_tick(
            self.market,
            self.state,
            move=self.move,
            held=self.held,
            position=self.position,
            plan=self.plan,
            fill_exit=self._rest,
        )
        self.state, self.held = outcome.state, outcome.held_stop
        if outcome.stopped_out:
            self.position = outcome.position_amount
            self.filled += outcome.fill.filled_amount
            self.stops_seen.append(self.state.active_sl)
            return
        self.guard_events += sum(
            event.kind is EventKind.LOSS_GUARD_FIRED for event in outcome.verdict.events
        )

    @precondition(lambda self: self.pending is not None)
    @rule(
        outcome=st.sampled_from(["full", "full", "partial", "zero", "reject"]),
        share=st.floats(0.05, 0.95),
    )
    def fill_pending(self, outcome, share):
        order, self.pending = self.pending, None
        fill = exit_fill(order, (outcome, share), self.position, self.exchange.amount_step, "exit")
        if fill is not None:
            self._apply(fill)

    @rule(
        levels=st.lists(
            st.tuples(st.sampled_from([-0.01, 0.005, 0.01, 0.03, 0.1]), FRACTIONS), max_size=5
        )
    )
    def supply_plan(self, levels):
        self.plan = tuple(
            TpLevel(price=price_at(self.side, self.entry, d), fraction=f) for d, f in levels
        )

    @rule()
    def restart(self):
        restored = round_trip(self.state)
        assert restored == self.state
        self.state = restored

    @invariant()
    def stop_never_loosens(self):
        stops = [stop for stop in self.stops_seen if stop is not None]
        for old, new in itertools.pairwise(stops):
            assert math.isclose(new, old) or tighter(self.side, new, old) == new

    @invariant()
    def conservation(self):
        tol = self.exchange.size * 1e-9
        assert self.state.remaining_size >= 0
        assert self.filled <= self.exchange.size + tol
        if self.pending is not None:
            assert self.pending.amount <= self.position + tol

    @invariant()
    def loss_guard_fires_at_most_once(self):
        assert self.guard_events <= 1
        if self.state.loss_guard_triggered:
            assert (self.state.tp_levels, self.state.active_sl) == ((), None)

    @invariant()
    def no_pending_rung_while_flat(self):
        if self.closed:
            verdict = evaluate_position(self._snapshot(), self.state, self.config, self.plan)
            assert not isinstance(verdict.decision, ExitOrder)
        if self.pending is not None and self.pending.kind is ExitKind.TAKE_PROFIT:
            assert self.pending.legs[0] == self.state.tp_hits_count + 1


# Inherits the loaded profile (dev / ci); only the path length is set here.
TradeMachine.TestCase.settings = settings(stateful_step_count=40)
TestTradeMachine = TradeMachine.TestCase
