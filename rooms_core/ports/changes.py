"""Room changes as they commit, in every process that shares the storage: what live views
(the web API's WebSocket) listen to, so a bet placed through the bot in another process
reaches a browser watching the room."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RoomsChanged:
    """Rooms that changed (pools, state, ...) in one committed unit of work or more, as the
    services change them (each change of a room comes with its domain event)."""

    room_ids: frozenset[int]


class RoomChangeFeed(Protocol):
    def listen(self) -> AbstractAsyncContextManager[AsyncIterator[RoomsChanged]]:
        """Start listening; the iterator yields the rooms changed by the commits after the
        listening began, until the context is left. Changes that come while the listener is
        busy are merged into its next yield; none is lost, none is reported twice."""
