"""Recording what happened inside the unit of work that causes it: events and outbox rows."""

from __future__ import annotations

from datetime import datetime

from rooms_core.models import NotificationKind, OutboxMessage
from rooms_core.ports.storage import UnitOfWork
from rooms_core.room import Room


async def save_room(uow: UnitOfWork, room: Room) -> None:
    """Write back a changed room and emit the events it raised."""
    uow.emit(*room.pull_events())  # first: the stored copy must not carry them
    await uow.rooms.update(room)


async def notify(
    uow: UnitOfWork,
    *,
    user_id: int,
    kind: NotificationKind,
    dedupe_key: str,
    at: datetime,
    **payload: str | int,
) -> None:
    """Queue one notification; ``dedupe_key`` makes a replayed change queue nothing new."""
    await uow.outbox.add(
        OutboxMessage(
            id=await uow.outbox.next_id(),
            user_id=user_id,
            kind=kind,
            payload=payload,
            dedupe_key=dedupe_key,
            created_at=at,
            next_attempt_at=at,
            attempts=0,
            sent_at=None,
            last_error=None,
        )
    )
