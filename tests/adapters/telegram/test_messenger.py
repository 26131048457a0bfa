"""The Telegram messenger against the Bot API's real answers, through httpx.MockTransport."""

from __future__ import annotations

import json

import httpx
from returns.result import Failure, Success

from rooms_adapters.telegram.messenger import TelegramMessenger

TOKEN = "123456:ABC-secret-token"
SENT = {
    "ok": True,
    "result": {
        "message_id": 4711,
        "from": {"id": 123456, "is_bot": True, "first_name": "Rooms", "username": "rooms_bot"},
        "chat": {"id": 42, "first_name": "Ada", "type": "private"},
        "date": 1763856000,
        "text": "Deposit credited: 1 SOL.",
    },
}
FLOOD = {
    "ok": False,
    "error_code": 429,
    "description": "Too Many Requests: retry after 7",
    "parameters": {"retry_after": 7},
}
BLOCKED = {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
NO_CHAT = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
BAD_HTML = {
    "ok": False,
    "error_code": 400,
    "description": "Bad Request: can't parse entities: Unsupported start tag",
}


async def send(status: int, body: object) -> tuple[object, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        result = await TelegramMessenger(client, TOKEN).send(42, "Deposit credited: 1 SOL.")
    return result, seen


async def test_a_message_is_sent_as_html_to_the_chat() -> None:
    result, (request,) = await send(200, SENT)
    assert result == Success(None)
    assert request.url.path == f"/bot{TOKEN}/sendMessage"
    payload = json.loads(request.content)
    assert (payload["chat_id"], payload["parse_mode"]) == (42, "HTML")


async def test_flood_control_blocked_users_and_bad_requests() -> None:
    flood, _ = await send(429, FLOOD)
    assert isinstance(flood, Failure)
    assert flood.failure().retry_after == 7
    blocked, _ = await send(403, BLOCKED)
    assert isinstance(blocked, Failure)
    assert blocked.failure().permanent
    no_chat, _ = await send(400, NO_CHAT)
    assert isinstance(no_chat, Failure)
    assert no_chat.failure().permanent
    bad, _ = await send(400, BAD_HTML)
    assert isinstance(bad, Failure)
    assert not bad.failure().permanent  # retried, then given up after the attempts
    down, _ = await send(502, "<html>Bad Gateway</html>")
    assert isinstance(down, Failure)
    assert (down.failure().reason, down.failure().permanent) == ("HTTP 502", False)


async def test_network_errors_are_retryable_and_the_token_stays_hidden() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        messenger = TelegramMessenger(client, TOKEN)
        result = await messenger.send(42, "x")
    assert isinstance(result, Failure)
    assert not result.failure().permanent
    assert TOKEN not in repr(messenger)
    assert TOKEN not in result.failure().reason
