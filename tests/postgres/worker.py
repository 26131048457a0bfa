"""A worker process for the multi-process tests: ``python -m tests.postgres.worker MODE DSN ...``.

Modes:
- ``dispatch DSN``: claim outbox messages (FOR UPDATE SKIP LOCKED), "send" each
  (a short sleep), mark them sent; prints the JSON list of message ids it sent.
- ``due DSN SECONDS PRICE``: with the clock at START + SECONDS and every feed at
  PRICE, scan due rooms and process each; prints JSON [room id, outcome] pairs.
- ``settle-and-hang DSN ROOM_ID SECONDS PRICE``: start settling a room, and in the middle
  (after the ledger post, before the rest is written) print READY and wait to be killed.

Each waiting mode prints READY once connected, then waits for a line on stdin, so that
several workers start their scans together.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.postgres.store import PostgresSettings, PostgresStore
from rooms_adapters.postgres.uow import PostgresUnitOfWork
from rooms_core.services import settlement, workers
from tests.support import START, make_platform


async def _wait_for_go() -> None:
    print("READY", flush=True)
    await asyncio.to_thread(sys.stdin.readline)


async def dispatch(store: PostgresStore) -> list[int]:
    await _wait_for_go()
    sent: list[int] = []
    while True:
        async with PostgresUnitOfWork(store) as uow:
            claimed = await uow.outbox.claim_due(store.clock.now(), 5)
            if not claimed:
                return sent
            for message in claimed:
                await asyncio.sleep(0.002)  # the send
                sent.append(message.id)
                await uow.outbox.mark_sent(message.id, store.clock.now())
            await uow.commit()


async def due(store: PostgresStore, price: str) -> list[tuple[int, str]]:
    platform = make_platform(uow=lambda: PostgresUnitOfWork(store))
    platform.clock.advance_to(store.clock.now())
    platform.set_price(price)
    await _wait_for_go()
    done: list[tuple[int, str]] = []
    while True:  # the engine's scheduler step, until nothing is due
        moved = await workers.schedule_once(platform.deps, limit=3)
        if not moved:
            return done
        done.extend((room_id, str(outcome)) for room_id, outcome in moved.items())


class HangingUnitOfWork(PostgresUnitOfWork):
    """Stops for good right before its first flush that follows a ledger post."""

    async def flush(self) -> None:
        if self.bet_updates:
            print("READY", flush=True)
            await asyncio.sleep(3600)
        await super().flush()


async def settle_and_hang(store: PostgresStore, room_id: int, price: str) -> None:
    platform = make_platform(uow=lambda: HangingUnitOfWork(store))
    platform.clock.advance_to(store.clock.now())
    await settlement.settle_room(
        platform.deps, room_id=room_id, observation=platform.observation(price), instant=False
    )


async def main(argv: list[str]) -> None:
    mode, dsn = argv[0], argv[1]
    clock = VirtualClock(START)
    store = await PostgresStore.connect(PostgresSettings(dsn=dsn, pool_min=1, pool_max=2), clock)
    try:
        if mode == "dispatch":
            print(json.dumps(await dispatch(store)), flush=True)
        elif mode == "due":
            clock.advance_to(START + timedelta(seconds=float(argv[2])))
            print(json.dumps(await due(store, argv[3])), flush=True)
        elif mode == "settle-and-hang":
            clock.advance_to(START + timedelta(seconds=float(argv[3])))
            await settle_and_hang(store, int(argv[2]), argv[4])
        else:
            raise SystemExit(f"unknown mode {mode!r}")
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
