"""``/ws``: live room updates (protocol in docs/api.md). Rooms are public, so no
authentication is needed to watch them."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from rooms_api.context import ws_context
from rooms_api.hub import Connection, serve_connection

router = APIRouter()


@router.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    ctx = ws_context(websocket)
    await websocket.accept()
    connection = Connection(websocket.send_text, ctx.settings.ws_max_queued)

    async def receive() -> str:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            text = (message.get("bytes") or b"").decode("utf-8", "replace")
        return str(text)

    with contextlib.suppress(WebSocketDisconnect):
        await serve_connection(ctx.hub, connection, receive)
