"""Another process placing one bet through the services on PostgreSQL:
``python -m tests.postgres.bettor DSN USER_ID ROOM_ID SIDE LAMPORTS``; prints the bet id."""

from __future__ import annotations

import asyncio
import sys

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.postgres.store import PostgresSettings, PostgresStore
from rooms_adapters.postgres.uow import PostgresUnitOfWork
from rooms_core.models import Side
from rooms_core.services import bets
from tests.support import START, make_platform


async def main(dsn: str, user_id: int, room_id: int, side: str, stake: int) -> None:
    store = await PostgresStore.connect(
        PostgresSettings(dsn=dsn, pool_min=1, pool_max=2), VirtualClock(START)
    )
    try:
        platform = make_platform(uow=lambda: PostgresUnitOfWork(store))
        placed = await bets.place_bet(
            platform.deps,
            user_id=user_id,
            room_id=room_id,
            side=Side(side),
            stake=stake,
            idempotency_key=f"other-process-{user_id}",
        )
        print(placed.unwrap().id, flush=True)
    finally:
        await store.close()


if __name__ == "__main__":
    dsn, user_id, room_id, side, stake = sys.argv[1:6]
    asyncio.run(main(dsn, int(user_id), int(room_id), side, int(stake)))
