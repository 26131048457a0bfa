"""One line per request in the structured log, each request with its trace id (the
client's ``X-Request-Id`` when it is a plain token, else a new one), returned in the
``X-Trace-Id`` header. Pure ASGI, so the trace id reaches every task of the request."""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rooms_adapters.system.logs import traced

log = logging.getLogger("rooms.api.request")
_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{8,64}$")


class TraceRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        with traced(given if _TOKEN.match(given) else None) as trace_id:
            status = 0
            started = time.perf_counter()

            async def send_traced(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = list(message.get("headers", ()))
                    headers.append((b"x-trace-id", trace_id.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            finally:
                log.info(
                    "%s %s %s",
                    scope.get("method", "WS"),
                    scope["path"],
                    status or "-",
                    extra={
                        "method": scope.get("method", "WEBSOCKET"),
                        "path": scope["path"],
                        "status": status,
                        "ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
