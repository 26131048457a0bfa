"""The WebSocket over PostgreSQL: a bet placed by another process (as the bot is, in
production) reaches a watcher of the room through the database's change feed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from websockets.asyncio.client import connect

from rooms_adapters.postgres.changes import PostgresRoomChangeFeed
from rooms_adapters.postgres.figures import PostgresPlatformFigures
from rooms_adapters.postgres.price_history import PostgresPriceHistory
from rooms_api.app import create_app
from rooms_api.context import ApiPorts
from rooms_api.health import database_check
from rooms_api.settings import ApiSettings
from rooms_core.money import sol
from tests.api.support import BOT_TOKEN, client_of, serve
from tests.pg import pg_platform

pytestmark = pytest.mark.heavy


async def test_a_bet_from_another_process_reaches_the_websocket(pg_database: str) -> None:
    platform, pg = await pg_platform(pg_database)
    try:
        host = await platform.user()
        room = await platform.room(host)
        bettor = await platform.user()
        deps = platform.deps
        app = create_app(
            deps,
            ApiSettings(bot_token=BOT_TOKEN),
            ApiPorts(
                changes=PostgresRoomChangeFeed(pg, every=0.05),
                prices=PostgresPriceHistory(pg),
                figures=PostgresPlatformFigures(pg),
                events=pg.subscribers,
                checks={"database": database_check(deps)},
            ),
        )
        async with serve(app) as address, connect(f"ws://{address}/ws") as ws:

            async def next_room() -> dict[str, Any]:
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                    if message["type"] == "room":
                        room_message: dict[str, Any] = message["room"]
                        return room_message

            await ws.send(json.dumps({"type": "subscribe", "rooms": [room.id]}))
            assert (await next_room())["yes_pool"]["lamports"] == 0
            other = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.postgres.bettor",
                pg_database,
                str(bettor.id),
                str(room.id),
                "YES",
                str(sol(2)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            _, err = await other.communicate()
            assert other.returncode == 0, err.decode()
            update = await next_room()
            assert update["yes_pool"]["sol"] == "2"
            assert update["yes_bets"] == 1
        async with client_of(app) as client:
            health = await client.get("/health")
            metrics = (await client.get("/metrics")).text
        assert health.status_code == 200
        assert "rooms_bets_total 1.0" in metrics  # read from the database: the other process's
        assert "rooms_process_bets_total 0.0" in metrics  # none placed in this process
    finally:
        await pg.close()


async def test_the_change_feed_reports_a_room_that_closes_then_forgets_it(
    pg_database: str,
) -> None:
    platform, pg = await pg_platform(pg_database)
    feed = PostgresRoomChangeFeed(pg, every=0.02)
    try:
        host = await platform.user()
        room = await platform.room(host)
        async with feed.listen() as changes:
            async with pg.pool.acquire() as connection:  # a hand-made update, as any process
                await connection.execute(
                    "UPDATE rooms SET state = 'VOID', close_reason = 'x', "
                    "closed_at = now() WHERE id = $1",
                    room.id,
                )
            closed = await asyncio.wait_for(anext(changes), timeout=10)
            assert closed.room_ids == {room.id}
            later = await platform.room(host)
            after = await asyncio.wait_for(anext(changes), timeout=10)
            assert after.room_ids == {later.id}  # the closed room is not reported again
    finally:
        await pg.close()


def test_rooms_api_serves_over_postgresql(pg_database: str) -> None:
    import httpx

    from tests.api.test_cli import first_health, free_port, rooms

    port = free_port()
    process = rooms("--port", str(port), "--feeds", "none", "--database-url", pg_database)
    try:
        health = first_health(process, port)
        assert health.status_code == 200, health.text
        assert httpx.get(f"http://127.0.0.1:{port}/api/stats").status_code == 200
        assert "rooms_users" in httpx.get(f"http://127.0.0.1:{port}/metrics").text
    finally:
        process.terminate()
        process.communicate(timeout=20)
