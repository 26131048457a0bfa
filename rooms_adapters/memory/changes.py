"""Room changes of the in-memory deployment: the store's domain events, which it publishes
after each commit (one process, so in-process events are every change there is)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from rooms_adapters.memory.store import InMemoryStore
from rooms_core.events import DomainEvent
from rooms_core.ports.changes import RoomsChanged


class InMemoryRoomChangeFeed:
    """The :class:`~rooms_core.ports.changes.RoomChangeFeed` over ``store.subscribers``.
    Changes that arrive while the listener is busy are merged into the next yield (a set of
    room ids), so a slow listener costs memory in rooms, never in events."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[AsyncIterator[RoomsChanged]]:
        pending: set[int] = set()
        ready = asyncio.Event()

        def on_event(event: DomainEvent) -> None:
            room_id = getattr(event, "room_id", None)
            if room_id is not None:
                pending.add(room_id)
                ready.set()

        async def changes() -> AsyncIterator[RoomsChanged]:
            while True:
                await ready.wait()
                ready.clear()
                batch = frozenset(pending)
                pending.clear()
                if batch:
                    yield RoomsChanged(batch)

        self.store.subscribers.append(on_event)
        try:
            yield changes()
        finally:
            self.store.subscribers.remove(on_event)
