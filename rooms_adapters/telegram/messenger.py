"""Sending notifications through the Telegram Bot API's ``sendMessage``.

Telegram's answers map onto the messenger port's ``SendFailed``: 429 carries
``parameters.retry_after`` (flood control: everything waits), 403 means the user blocked the
bot or deleted their account (permanent: never retried), 400 "chat not found" is permanent
too; network errors and 5xx are retried later. The bot token is part of the URL path and is
kept out of every error and repr.
"""

from __future__ import annotations

import httpx
from returns.result import Failure, Result, Success

from rooms_core.ports.messenger import SendFailed

API = "https://api.telegram.org"


class TelegramMessenger:
    def __init__(self, client: httpx.AsyncClient, token: str, api: str = API) -> None:
        self.client = client
        self._url = f"{api.rstrip('/')}/bot{token}/sendMessage"

    def __repr__(self) -> str:
        return "TelegramMessenger(<token hidden>)"

    async def send(self, chat_id: int, text: str) -> Result[None, SendFailed]:
        try:
            response = await self.client.post(
                self._url,
                json={
                    "chat_id": chat_id,
                    "text": text,
                    "parse_mode": "HTML",
                    "link_preview_options": {"is_disabled": True},
                },
            )
        except httpx.TimeoutException:
            return Failure(SendFailed("timeout"))
        except httpx.HTTPError as error:
            return Failure(SendFailed(type(error).__name__))
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code == 200 and body.get("ok") is True:
            return Success(None)
        description = str(body.get("description") or f"HTTP {response.status_code}")[:200]
        code = body.get("error_code", response.status_code)
        if code == 429:
            parameters = body.get("parameters")
            retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
            seconds = float(retry_after) if isinstance(retry_after, int | float) else 1.0
            return Failure(SendFailed(description, retry_after=seconds))
        if code == 403 or (code == 400 and "chat not found" in description.lower()):
            return Failure(SendFailed(description, permanent=True))
        return Failure(SendFailed(description))
