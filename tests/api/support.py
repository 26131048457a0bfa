"""The web API over the in-memory platform, for the API tests: signed initData, an app
with its lifespan, an HTTP client on it (httpx's ASGITransport) and a real server on a
free local port (uvicorn) for WebSocket and browser tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

import httpx
import uvicorn
from fastapi import FastAPI

from rooms_adapters.memory.changes import InMemoryRoomChangeFeed
from rooms_adapters.memory.figures import InMemoryPlatformFigures
from rooms_adapters.memory.price_history import InMemoryPriceHistory
from rooms_adapters.system.metrics import RoomsMetrics
from rooms_api.app import create_app
from rooms_api.auth import sign_init_data
from rooms_api.context import ApiPorts
from rooms_api.health import HealthCheck, database_check, oracle_check
from rooms_api.settings import ApiSettings
from rooms_core.models import User
from rooms_core.services.custody import Custody
from rooms_core.settings import RoomsSettings
from tests.support import SOL, Platform, make_platform

BOT_TOKEN = "123456789:AAF-test_token_for_the_api_tests_0123456"
ADMIN_TELEGRAM_ID = 777


def init_data(telegram_id: int, at: datetime, token: str = BOT_TOKEN, **extra: str) -> str:
    """initData as Telegram signs it for the Mini App, for this Telegram user at ``at``."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": telegram_id, "first_name": "Test", "username": "tester"}),
        "auth_date": str(int(at.timestamp())),
        **extra,
    }
    return sign_init_data(fields, token)


@dataclass
class Api:
    platform: Platform
    history: InMemoryPriceHistory
    metrics: RoomsMetrics
    app: FastAPI

    def headers(self, user: User | int) -> dict[str, str]:
        telegram_id = user if isinstance(user, int) else user.telegram_id
        assert telegram_id is not None
        return {"Authorization": f"tma {init_data(telegram_id, self.platform.clock.now())}"}


def make_api(
    settings: RoomsSettings | None = None,
    checks: Mapping[str, HealthCheck] | None = None,
    custody: Custody | None = None,
    price_seconds: float = 0.05,
) -> Api:
    history = InMemoryPriceHistory()
    platform = make_platform(settings=settings, oracle_record=history.record)
    deps = platform.deps
    ports = ApiPorts(
        changes=InMemoryRoomChangeFeed(platform.store),
        prices=history,
        figures=InMemoryPlatformFigures(platform.store),
        events=platform.store.subscribers,
        checks=checks
        if checks is not None
        else {"database": database_check(deps), "oracle": oracle_check(deps, SOL)},
        custody=custody,
    )
    metrics = RoomsMetrics()
    app = create_app(
        deps,
        ApiSettings(
            bot_token=BOT_TOKEN,
            admin_telegram_ids=frozenset({ADMIN_TELEGRAM_ID}),
            price_seconds=price_seconds,
        ),
        ports,
        metrics,
    )
    return Api(platform, history, metrics, app)


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app (in process), its lifespan running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://rooms.test") as c:
            yield c


@asynccontextmanager
async def serve(app: FastAPI, ws: str = "websockets-sansio") -> AsyncIterator[str]:
    """The app under uvicorn on a free local port; yields ``host:port``."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_config=None,
        lifespan="on",
        ws=ws,
        ws_per_message_deflate=False,  # as `rooms api` serves
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def register(api: Api, telegram_id: int) -> User:
    """A user registered with this Telegram id (as /start does)."""
    from rooms_core.services import users

    registered = await users.register_user(api.platform.deps, telegram_id=telegram_id)
    return registered.unwrap()
