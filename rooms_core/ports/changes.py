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
    services change them (each change of a room comes with its domain event).

    ``everything`` says that changes may have been missed (the feed reconnected, or its
    buffer overflowed): a listener should reload every room it shows."""

    room_ids: frozenset[int]
    everything: bool = False


class RoomChangeFeed(Protocol):
    def listen(self) -> AbstractAsyncContextManager[AsyncIterator[RoomsChanged]]:
        """Start listening; the iterator yields the changes committed after the listening
        began, in commit order, until the context is left. A change committed while the
        listener is away is reported as ``RoomsChanged(..., everything=True)`` once back."""
