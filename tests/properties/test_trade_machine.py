"""Sequences of ticks, fills and restarts (RuleBasedStateMachine) against the core.

The machine plays freqtrade and the exchange: ``tick`` moves the price and, with no order
open, lets freqtrade's stop fire or the brain evaluate; ``fill_pending`` fills the open exit
fully, partly, not at all or rejects it; ``restart`` reads the state back from JSON.
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
    ExitKind,
    ExitOrder,
    Fill,
    FillKind,
    MarketSnapshot,
    PositionOpen,
    Side,
    TpLevel,
    apply_fill,
    classify_stop,
    create_state,
    evaluate_position,
    evaluate_stop,
    fill_kind_of,
)
from exit_brain_plugin.core.pricing import floor_to_step
from tests.properties.simulator import (
    is_beyond_stop,
    loss_guard_price,
    price_at,
    round_trip,
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
        return MarketSnapshot(
            price=price_at(self.side, self.entry, self.move),
            current_profit=self.move * self.leverage,
            position_amount=self.position,
            amount_step=self.exchange.amount_step,
            min_order_amount=self.exchange.min_order_amount,
            min_remaining_amount=self.exchange.min_remaining_amount,
            exchange_stop_price=self.held,
            loss_guard_price=self.guard_price,
        )

    def _apply(self, fill):
        self.state = apply_fill(self.state, fill, self.config).state
        self.position -= fill.filled_amount
        self.filled += fill.filled_amount
        self.stops_seen.append(self.state.active_sl)

    def _stop_out(self, price):
        reason = classify_stop(self.state, self.held, self.guard_price, tolerance=0.0)
        kind = FillKind.LOSS_GUARD if reason == "loss_guard" else FillKind.STOP
        self._apply(
            Fill(
                kind=kind, filled_amount=self.position, price=price, order_id="stop", reason=reason
            )
        )

    @rule(
        move=st.floats(-0.04, 0.04).map(lambda x: round(x, 4))
        | st.sampled_from([0.0025, 0.01, 0.02, 0.05, 0.15, -0.01, -0.05])
    )
    def tick(self, move):
        self.move = min(0.5, max(-0.5, round(self.move + move, 4)))
        price = price_at(self.side, self.entry, self.move)
        if self.closed or self.pending is not None:
            return
        if self.held is not None and is_beyond_stop(self.side, price, self.held):
            self._stop_out(price)
            return
        verdict = evaluate_position(self._snapshot(), self.state, self.config, self.plan)
        self.guard_events += sum("LOSS GUARD TRIGGERED" in e.message for e in verdict.events)
        self.state = verdict.state
        if isinstance(verdict.decision, ExitOrder):
            self.pending = verdict.decision
        target = evaluate_stop(
            self.state,
            self.config,
            held_stop_price=self.held,
            host_stop_price=self.initial_stop,
            loss_guard_price=self.guard_price,
        )
        if target is not None and not is_beyond_stop(self.side, price, target.price):
            self.held = (
                target.price if self.held is None else tighter(self.side, self.held, target.price)
            )

    @precondition(lambda self: self.pending is not None)
    @rule(
        outcome=st.sampled_from(["full", "full", "partial", "zero", "reject"]),
        share=st.floats(0.05, 0.95),
    )
    def fill_pending(self, outcome, share):
        order, self.pending = self.pending, None
        if outcome == "reject":
            return
        step = self.exchange.amount_step
        filled = {
            "full": min(order.amount, self.position),
            "partial": floor_to_step(order.amount * share, step),
            "zero": 0.0,
        }[outcome]
        self._apply(
            Fill(
                kind=fill_kind_of(order.kind),
                filled_amount=filled,
                price=order.price,
                order_id="exit",
                complete=outcome == "full",
                legs=order.legs,
                amount_step=step,
            )
        )

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
