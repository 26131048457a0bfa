"""The app factory: everything the API needs comes in as arguments (no module state)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from rooms_adapters.system.metrics import RoomsMetrics
from rooms_api.context import ApiContext, ApiPorts
from rooms_api.errors import install_error_handlers
from rooms_api.hub import HubSettings, RoomHub
from rooms_api.middleware import TraceRequests
from rooms_api.routes import admin, live, me, miniapp, ops, public
from rooms_api.routes.miniapp import STATIC
from rooms_api.settings import ApiSettings
from rooms_core.services.deps import Deps

DESCRIPTION = """REST and live updates of ROOMS, the parimutuel prediction rooms.

Authenticate as a Telegram user with the Mini App's signed initData:
`Authorization: tma <Telegram.WebApp.initData>`. Money is integer lamports
(1 SOL = 10⁹ lamports), each amount also given in SOL as a decimal string. Every error is
`{"error": "<Name>", "message": "..."}`. Live updates: the WebSocket `/ws` (see docs/api.md).
"""


def create_app(
    deps: Deps,
    settings: ApiSettings,
    ports: ApiPorts,
    metrics: RoomsMetrics | None = None,
) -> FastAPI:
    """The API over one deployment's ``deps`` and ``ports``. Its lifespan follows the
    room change feed and the prices (for ``/ws``) and counts the store's events (for
    ``/metrics``); run it under an ASGI server, which runs the lifespan."""
    hub = RoomHub(
        deps,
        ports.prices,
        HubSettings(
            max_rooms_per_connection=settings.ws_max_rooms, price_seconds=settings.price_seconds
        ),
    )
    ctx = ApiContext(deps, settings, ports, hub, metrics or RoomsMetrics())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ports.events.append(ctx.metrics.on_event)
        listening = asyncio.Event()
        tasks = [
            asyncio.create_task(hub.follow(ports.changes, listening), name="room-changes"),
            asyncio.create_task(hub.follow_prices(), name="prices"),
        ]
        # Serve only once the change feed listens: no change is missed after start-up.
        waiting = asyncio.create_task(listening.wait())
        await asyncio.wait([waiting, tasks[0]], return_when=asyncio.FIRST_COMPLETED)
        if tasks[0].done():
            waiting.cancel()
            tasks[1].cancel()
            await tasks[0]  # raises why the feed could not start
        try:
            yield
        finally:
            ports.events.remove(ctx.metrics.on_event)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    app = FastAPI(
        title=f"{settings.title} API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.rooms = ctx
    install_error_handlers(app)
    for router in (public.router, me.router, admin.router, ops.router, live.router, miniapp.router):
        app.include_router(router)
    app.mount("/app/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(TraceRequests)
    return app
