"""Recording notifications in the outbox, inside the unit of work that causes them."""

from __future__ import annotations

from datetime import datetime

from rooms_core.models import NotificationKind, OutboxMessage
from rooms_core.ports.storage import UnitOfWork


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
