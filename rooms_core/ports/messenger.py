"""Messaging: delivering a rendered notification to a user's chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from returns.result import Result

from rooms_core.errors import DomainError


@dataclass(frozen=True, slots=True)
class SendFailed(DomainError):
    """The messenger refused or failed; ``retry_after`` seconds when it asked us to wait."""

    reason: str
    retry_after: float | None = None
    permanent: bool = False  # e.g. the user blocked the bot: do not retry


class Messenger(Protocol):
    async def send(self, chat_id: int, text: str) -> Result[None, SendFailed]:
        """Send a text (HTML) message to a chat."""
