"""The WebSocket /ws: a client watches rooms and gets each change (pools, odds, state) and
new prices; many watchers of one room each get every update, in order."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.services import admin
from rooms_core.settings import RoomsSettings
from tests.api.support import make_api, serve
from tests.support import SOL


async def receive(ws: ClientConnection, kind: str) -> dict[str, Any]:
    """The next message of this type (others are skipped)."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        if message["type"] == kind:
            return message


async def test_a_watcher_gets_the_room_then_every_change_of_it() -> None:
    api = make_api(settings=RoomsSettings(admin_user_ids=(1,)))
    p = api.platform
    host = await p.user()
    room, other = await p.room(host), await p.room(host)
    async with serve(api.app) as address, connect(f"ws://{address}/ws") as ws:
        await ws.send(json.dumps({"type": "subscribe", "rooms": [room.id, 999]}))
        snapshot = await receive(ws, "room")
        assert snapshot["room"]["id"] == room.id
        assert snapshot["room"]["yes_pool"]["lamports"] == 0
        assert (await receive(ws, "subscribed")) == {
            "type": "subscribed",
            "rooms": [room.id],
            "unknown": [999],
        }

        await p.bet(await p.user(), other, Side.YES, sol(1))  # not watched: nothing comes
        await p.bet(await p.user(), room, Side.YES, sol(3))
        yes = await receive(ws, "room")
        assert yes["room"]["yes_pool"]["sol"] == "3"
        assert yes["version"] == snapshot["version"] + 1

        await p.bet(await p.user(), room, Side.NO, sol(1))
        opened = await receive(ws, "room")
        assert opened["room"]["state"] == "OPEN"
        assert (opened["room"]["yes_multiple"], opened["room"]["no_multiple"]) == (
            "1.2933",
            "3.8800",
        )

        await admin.void_room(p.deps, admin_id=host.id, room_id=room.id, reason="test")
        voided = await receive(ws, "room")
        assert voided["room"]["state"] == "VOID"

        await ws.send(json.dumps({"type": "ping"}))
        assert await receive(ws, "pong") == {"type": "pong"}
        await ws.send("not json")
        assert (await receive(ws, "error"))["error"] == "BadMessage"
        await ws.send(json.dumps({"type": "subscribe", "rooms": ["x"]}))
        assert (await receive(ws, "error"))["error"] == "BadMessage"


async def test_watchers_get_new_prices_of_their_rooms_asset() -> None:
    api = make_api(price_seconds=0.02)
    p = api.platform
    room = await p.room(await p.user())
    async with serve(api.app) as address, connect(f"ws://{address}/ws") as ws:
        await ws.send(json.dumps({"type": "subscribe", "rooms": [room.id]}))
        await receive(ws, "subscribed")
        p.set_price("151.25")
        await p.deps.oracle.observe(SOL)
        price = await receive(ws, "price")
        assert (price["asset"], price["value"]) == (SOL.key, "151.25")


@pytest.mark.heavy
async def test_a_thousand_watchers_of_one_room_each_get_every_update() -> None:
    watchers, updates = 1000, 5
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    bettors = [await p.user() for _ in range(updates)]
    async with serve(api.app) as address:
        started = time.perf_counter()
        sockets = await asyncio.gather(
            *(connect(f"ws://{address}/ws", open_timeout=30) for _ in range(watchers))
        )
        try:
            for ws in sockets:
                await ws.send(json.dumps({"type": "subscribe", "rooms": [room.id]}))
            firsts = await asyncio.gather(*(receive(ws, "room") for ws in sockets))
            base = firsts[0]["version"]
            for bettor in bettors:
                await p.bet(bettor, room, Side.YES, sol(1))
                await asyncio.sleep(0.05)  # one change at a time, as bets come in

            async def versions(ws: ClientConnection) -> list[int]:
                seen: list[int] = []
                while len(seen) < updates:
                    seen.append((await receive(ws, "room"))["version"])
                return seen

            everyone = await asyncio.gather(*(versions(ws) for ws in sockets))
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))
        elapsed = time.perf_counter() - started
    expected = [base + i for i in range(1, updates + 1)]
    assert all(seen == expected for seen in everyone)
    assert api.app.state.rooms.hub.updates_sent >= watchers * updates
    assert elapsed < 60
