"""Domain events: facts about state changes, published only when their unit of work commits.

Aggregates collect them (``Room.pull_events``); services hand them to ``uow.emit``. The
outbox (notifications to users) is written in the same unit of work by the services; events
are for in-process subscribers (live updates, metrics) and are lost with the process by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from rooms_core.frozen import quick_init


@dataclass(frozen=True, slots=True)
class RoomCreated:
    room_id: int
    host_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RoomOpened:
    room_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RoomLocked:
    room_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class RoomSettling:
    room_id: int
    at: datetime
    trigger_at: datetime | None  # the observation that hit the target, for instant settlement


@dataclass(frozen=True, slots=True)
class RoomSettled:
    room_id: int
    at: datetime
    outcome: str


@dataclass(frozen=True, slots=True)
class RoomCancelled:
    room_id: int
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class RoomVoided:
    room_id: int
    at: datetime
    reason: str


@quick_init
@dataclass(frozen=True, slots=True)
class BetPlaced:
    bet_id: int
    room_id: int
    user_id: int
    side: str
    stake: int
    at: datetime


@dataclass(frozen=True, slots=True)
class DepositCredited:
    user_id: int
    amount: int
    signature: str
    at: datetime


@dataclass(frozen=True, slots=True)
class WithdrawalChanged:
    withdrawal_id: int
    user_id: int
    state: str
    at: datetime


DomainEvent: TypeAlias = (
    RoomCreated
    | RoomOpened
    | RoomLocked
    | RoomSettling
    | RoomSettled
    | RoomCancelled
    | RoomVoided
    | BetPlaced
    | DepositCredited
    | WithdrawalChanged
)
