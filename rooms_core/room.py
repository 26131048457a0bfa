"""The Room aggregate: a binary YES/NO market and its lifecycle.

QUEUING -> OPEN -> LOCKED -> SETTLING -> SETTLED, plus CANCELLED and VOID (see docs/rules.md).
Transition methods return a ``Result``; an illegal transition is an ``IllegalTransition``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, PrivateAttr
from returns.result import Failure, Result, Success

from rooms_core import events
from rooms_core.errors import (
    AlreadySettled,
    IllegalTransition,
    RoomClosedForBets,
    RoomLocked,
)
from rooms_core.events import DomainEvent
from rooms_core.models import Asset, Comparator, Side


class RoomState(StrEnum):
    QUEUING = "QUEUING"
    OPEN = "OPEN"
    LOCKED = "LOCKED"
    SETTLING = "SETTLING"
    SETTLED = "SETTLED"
    CANCELLED = "CANCELLED"
    VOID = "VOID"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_active(self) -> bool:
        return not self.is_terminal


# Results are immutable: one shared Success(None) serves every successful check.
_DONE: Success[None] = Success(None)

TERMINAL_STATES = frozenset({RoomState.SETTLED, RoomState.CANCELLED, RoomState.VOID})

ALLOWED_TRANSITIONS: dict[RoomState, frozenset[RoomState]] = {
    RoomState.QUEUING: frozenset({RoomState.OPEN, RoomState.CANCELLED, RoomState.VOID}),
    RoomState.OPEN: frozenset(
        {RoomState.LOCKED, RoomState.SETTLING, RoomState.CANCELLED, RoomState.VOID}
    ),
    RoomState.LOCKED: frozenset({RoomState.SETTLING, RoomState.VOID}),
    RoomState.SETTLING: frozenset({RoomState.SETTLED, RoomState.VOID}),
    RoomState.SETTLED: frozenset(),
    RoomState.CANCELLED: frozenset(),
    RoomState.VOID: frozenset(),
}

BETTABLE_STATES = frozenset({RoomState.QUEUING, RoomState.OPEN})
# States in which the oracle watches for the target (the seeds' INSTANT_SETTLE).
WATCHED_STATES = frozenset({RoomState.OPEN, RoomState.LOCKED})


class Room(BaseModel):
    """A parimutuel room. Pools count every accepted bet; settlement re-derives the
    counted pools from the bets (late bets are refunded, not counted)."""

    id: int
    host_id: int
    title: str
    asset: Asset
    comparator: Comparator
    target: Decimal
    created_at: datetime
    lock_at: datetime
    settle_at: datetime
    min_players: int = 2
    quorum: int = 1  # oracle sources that must agree for this room's asset
    protocol_fee_bps: int = 200
    host_fee_bps: int = 100
    state: RoomState = RoomState.QUEUING
    yes_pool: int = 0
    no_pool: int = 0
    yes_bets: int = 0
    no_bets: int = 0
    opened_at: datetime | None = None
    settling_since: datetime | None = None
    trigger_at: datetime | None = None  # observation time that triggered instant settlement
    outcome: Side | None = None
    settlement_value: Decimal | None = None
    settlement_sources: tuple[str, ...] = ()
    closed_at: datetime | None = None
    close_reason: str | None = None
    # An immutable default, replaced (never mutated) on each event: no per-instance factory
    # call, which pydantic would inspect on every construction of a room.
    _events: tuple[DomainEvent, ...] = PrivateAttr(default=())

    # ``_events`` is read and written in ``__pydantic_private__`` directly: pydantic's own
    # route for a private attribute (``__getattr__``, then a failed ``hasattr`` on the
    # attribute's descriptor) costs microseconds, and a room saves its events on every bet.

    def _raise(self, event: DomainEvent) -> None:
        # A new tuple each time: copies of a room share private attributes shallowly.
        private = self.__pydantic_private__
        assert private is not None  # a model with private attributes always has the dict
        private["_events"] = (*private["_events"], event)

    def pull_events(self) -> list[DomainEvent]:
        """The events this aggregate raised since the last pull."""
        private = self.__pydantic_private__
        assert private is not None
        events = private["_events"]
        if not events:
            return []
        private["_events"] = ()
        return list(events)

    # --- reading -------------------------------------------------------------------

    @property
    def total_pool(self) -> int:
        return self.yes_pool + self.no_pool

    @property
    def bettors(self) -> int:
        return self.yes_bets + self.no_bets

    @property
    def fee_bps(self) -> int:
        return self.protocol_fee_bps + self.host_fee_bps

    def pool(self, side: Side) -> int:
        return self.yes_pool if side is Side.YES else self.no_pool

    def condition_met(self, value: Decimal) -> bool:
        if self.comparator is Comparator.GTE:
            return value >= self.target
        return value <= self.target

    def question(self) -> str:
        return f"{self.asset} {self.comparator.value} {self.target}"

    # --- bets ----------------------------------------------------------------------

    def check_accepts_bet(self, now: datetime) -> Result[None, RoomClosedForBets | RoomLocked]:
        """Bets are taken while QUEUING or OPEN and strictly before ``lock_at`` by the
        server clock at the moment of writing, whatever the user saw on screen."""
        if self.state not in BETTABLE_STATES:
            if self.state is RoomState.LOCKED:
                return Failure(RoomLocked(self.id, self.lock_at))
            return Failure(RoomClosedForBets(self.id, self.state.value))
        if now >= self.lock_at:
            return Failure(RoomLocked(self.id, self.lock_at))
        return _DONE

    def add_to_pool(self, side: Side, stake: int, now: datetime) -> bool:
        """Count an accepted bet; returns True when this bet opened the room."""
        if side is Side.YES:
            self.yes_pool += stake
            self.yes_bets += 1
        else:
            self.no_pool += stake
            self.no_bets += 1
        if self.state is RoomState.QUEUING and self.bettors >= self.min_players:
            self.state = RoomState.OPEN
            self.opened_at = now
            self._raise(events.RoomOpened(self.id, now))
            return True
        return False

    # --- transitions ---------------------------------------------------------------

    def _move(self, to: RoomState) -> Result[None, IllegalTransition | AlreadySettled]:
        if to not in ALLOWED_TRANSITIONS[self.state]:
            if self.state.is_terminal:
                return Failure(AlreadySettled(self.id, self.state.value))
            return Failure(IllegalTransition(self.id, self.state.value, to.value))
        self.state = to
        return _DONE

    def should_cancel_at_lock(self) -> bool:
        """At ``lock_at`` a room still QUEUING, or with an empty pool, is cancelled."""
        return self.state is RoomState.QUEUING or self.yes_pool == 0 or self.no_pool == 0

    def lock(self, now: datetime) -> Result[None, IllegalTransition | AlreadySettled]:
        result = self._move(RoomState.LOCKED)
        if isinstance(result, Success):
            self._raise(events.RoomLocked(self.id, now))
        return result

    def begin_settling(
        self, now: datetime, trigger_at: datetime | None
    ) -> Result[None, IllegalTransition | AlreadySettled]:
        result = self._move(RoomState.SETTLING)
        if isinstance(result, Success):
            self.settling_since = now
            self.trigger_at = trigger_at
            self._raise(events.RoomSettling(self.id, now, trigger_at))
        return result

    def mark_settled(
        self, outcome: Side, value: Decimal, sources: tuple[str, ...], now: datetime
    ) -> Result[None, IllegalTransition | AlreadySettled]:
        result = self._move(RoomState.SETTLED)
        if isinstance(result, Success):
            self.outcome = outcome
            self.settlement_value = value
            self.settlement_sources = sources
            self.closed_at = now
            self._raise(events.RoomSettled(self.id, now, outcome.value))
        return result

    def cancel(
        self, reason: str, now: datetime
    ) -> Result[None, IllegalTransition | AlreadySettled]:
        result = self._move(RoomState.CANCELLED)
        if isinstance(result, Success):
            self.close_reason = reason
            self.closed_at = now
            self._raise(events.RoomCancelled(self.id, now, reason))
        return result

    def void(self, reason: str, now: datetime) -> Result[None, IllegalTransition | AlreadySettled]:
        result = self._move(RoomState.VOID)
        if isinstance(result, Success):
            self.close_reason = reason
            self.closed_at = now
            self._raise(events.RoomVoided(self.id, now, reason))
        return result
