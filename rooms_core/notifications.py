"""Recording what happened inside the unit of work that causes it: events and outbox rows."""

from __future__ import annotations

from collections.abc import Iterable
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
    outbox = uow.outbox
    await outbox.add(
        OutboxMessage(await outbox.next_id(), user_id, kind, payload, dedupe_key, at, at)
    )


async def notify_many(
    uow: UnitOfWork,
    notifications: Iterable[tuple[int, NotificationKind, str, dict[str, str | int]]],
    at: datetime,
) -> None:
    """Queue ``(user_id, kind, dedupe_key, payload)`` notifications in order: the same as a
    :func:`notify` for each (settling a room notifies every bettor)."""
    outbox = uow.outbox
    for user_id, kind, dedupe_key, payload in notifications:
        await outbox.add(
            OutboxMessage(await outbox.next_id(), user_id, kind, payload, dedupe_key, at, at)
        )
