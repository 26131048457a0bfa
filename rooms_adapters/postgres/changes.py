"""Room changes from PostgreSQL: LISTEN on the channel the ``rooms`` table's triggers
notify at every commit (migration 0008), so a change made by any process reaches this one.

The listener has a connection of its own, outside the pool (a pooled connection must not
keep a LISTEN). If that connection is lost it reconnects, with backoff, and reports
``everything=True`` once back, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from rooms_core.ports.changes import RoomsChanged

CHANNEL = "rooms_changed"
log = logging.getLogger("rooms.changes")


class PostgresRoomChangeFeed:
    def __init__(self, dsn: str, reconnect_after: float = 0.5, longest_wait: float = 10.0) -> None:
        self.dsn = dsn
        self.reconnect_after = reconnect_after
        self.longest_wait = longest_wait

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[RoomsChanged]]:
        pending: set[int] = set()
        missed = False
        ready = asyncio.Event()
        lost = asyncio.Event()

        def on_notify(connection: Any, pid: int, channel: str, payload: str) -> None:
            nonlocal missed
            if payload == "*":
                missed = True
            else:
                pending.update(int(part) for part in payload.split(",") if part.isdigit())
            ready.set()

        def on_lost(connection: Any) -> None:
            lost.set()

        async def connect() -> asyncpg.Connection:
            connection = await asyncpg.connect(
                self.dsn, server_settings={"application_name": "rooms-listen"}
            )
            connection.add_termination_listener(on_lost)
            await connection.add_listener(CHANNEL, on_notify)
            return connection

        connection = await connect()  # the first connection must work: fail loudly

        async def keep_connected() -> None:
            nonlocal connection, missed
            while True:
                await lost.wait()
                lost.clear()
                wait = self.reconnect_after
                while True:
                    try:
                        connection = await connect()
                        break
                    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                        log.warning("room change feed: reconnecting in %.1f s: %s", wait, error)
                        await asyncio.sleep(wait)
                        wait = min(self.longest_wait, wait * 2)
                missed = True
                ready.set()

        async def changes() -> AsyncIterator[RoomsChanged]:
            nonlocal missed
            while True:
                await ready.wait()
                ready.clear()
                batch, everything = frozenset(pending), missed
                pending.clear()
                missed = False
                if batch or everything:
                    yield RoomsChanged(batch, everything)

        keeper = asyncio.create_task(keep_connected())
        try:
            yield changes()
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)
