"""Records messages instead of sending them."""

from __future__ import annotations

from returns.result import Failure, Result, Success

from rooms_core.ports.messenger import SendFailed


class InMemoryMessenger:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []
        self.blocked_chats: set[int] = set()

    async def send(self, chat_id: int, text: str) -> Result[None, SendFailed]:
        if chat_id in self.blocked_chats:
            return Failure(SendFailed("blocked", permanent=True))
        self.sent.append((chat_id, text))
        return Success(None)
