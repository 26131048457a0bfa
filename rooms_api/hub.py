"""Live room updates for WebSocket clients: who watches which room, and the fan-out.

When a room changes (the change feed says so, whichever process changed it), the hub reads
the room once, encodes the update once, and hands the same text to every connection that
watches the room. Each connection sends from a queue of its own, in its own task, so a slow
client delays nobody else; when its queue is full, older updates of the same room (or
price of the same asset) are dropped, since every update carries the whole state, and the
newest supersedes the rest. A healthy client therefore gets every update, in order, and
each room's ``version`` increases by one per update, so a client can tell it missed none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from returns.result import Success

from rooms_api.schemas import PricePointOut, RoomOut
from rooms_core.models import Asset
from rooms_core.ports.changes import RoomChangeFeed
from rooms_core.ports.price_history import PriceHistory, PricePoint
from rooms_core.services import queries
from rooms_core.services.deps import Deps

log = logging.getLogger("rooms.api.hub")

Send = Callable[[str], Awaitable[None]]


class Connection:
    """One client: the rooms it watches and its queue of updates to send."""

    def __init__(self, send: Send, max_queued: int = 256) -> None:
        self._send = send
        self.max_queued = max_queued
        self.rooms: set[int] = set()
        self.sent = 0
        self.dropped = 0
        self._queue: deque[tuple[str, str]] = deque()
        self._ready = asyncio.Event()
        self.closed = False

    def offer(self, key: str, text: str) -> None:
        """Queue one update (``key`` names what it is the state of, e.g. ``room:3``)."""
        if self.closed:
            return
        if len(self._queue) >= self.max_queued:
            self._compact()
        self._queue.append((key, text))
        self._ready.set()

    def _compact(self) -> None:
        newest: dict[str, str] = {}
        for key, text in self._queue:
            newest.pop(key, None)
            newest[key] = text
        self.dropped += len(self._queue) - len(newest)
        self._queue = deque(newest.items())
        while len(self._queue) >= self.max_queued:  # more distinct keys than room: oldest go
            self._queue.popleft()
            self.dropped += 1

    async def run(self) -> None:
        """Send queued updates until closed (or the send fails: the client went away)."""
        try:
            while not self.closed:
                await self._ready.wait()
                self._ready.clear()
                while self._queue:
                    _, text = self._queue.popleft()
                    await self._send(text)
                    self.sent += 1
        finally:
            self.closed = True


@dataclass
class HubSettings:
    max_rooms_per_connection: int = 50
    price_seconds: float = 2.0


@dataclass
class RoomHub:
    deps: Deps
    prices: PriceHistory
    settings: HubSettings = field(default_factory=HubSettings)
    watchers: dict[int, set[Connection]] = field(default_factory=dict)
    versions: dict[int, int] = field(default_factory=dict)
    assets: dict[int, Asset] = field(default_factory=dict)  # asset of each watched room
    _last_room: dict[int, str] = field(default_factory=dict)
    _last_price: dict[str, PricePoint] = field(default_factory=dict)
    # One read of a room at a time, so versions follow the order of the states read.
    _reading: dict[int, asyncio.Lock] = field(default_factory=dict)
    updates_sent: int = 0  # updates handed to connections (one per watcher)

    # --- subscriptions ---------------------------------------------------------------

    async def subscribe(self, connection: Connection, room_ids: Iterable[int]) -> list[int]:
        """Watch rooms; each known room's current state is sent at once. Returns the ids
        of the rooms that do not exist (nothing is watched for them)."""
        unknown: list[int] = []
        for room_id in dict.fromkeys(room_ids):
            if room_id in connection.rooms:
                continue
            if len(connection.rooms) >= self.settings.max_rooms_per_connection:
                unknown.append(room_id)
                continue
            text = self._last_room.get(room_id)
            if text is None:
                text = await self._read(room_id)
            if text is None:
                unknown.append(room_id)
                continue
            connection.rooms.add(room_id)
            self.watchers.setdefault(room_id, set()).add(connection)
            connection.offer(f"room:{room_id}", text)
            price = self._last_price.get(self.assets[room_id].key)
            if price is not None:
                connection.offer(
                    f"price:{self.assets[room_id].key}",
                    price_text(self.assets[room_id], price),
                )
        return unknown

    def unsubscribe(self, connection: Connection, room_ids: Iterable[int]) -> None:
        for room_id in room_ids:
            connection.rooms.discard(room_id)
            watchers = self.watchers.get(room_id)
            if watchers is not None:
                watchers.discard(connection)
                if not watchers:
                    self._forget(room_id)

    def drop(self, connection: Connection) -> None:
        """The connection closed: it watches nothing any more."""
        connection.closed = True
        self.unsubscribe(connection, list(connection.rooms))

    def _forget(self, room_id: int) -> None:
        self.watchers.pop(room_id, None)
        self._last_room.pop(room_id, None)
        self._reading.pop(room_id, None)
        self.assets.pop(room_id, None)

    # --- updates ---------------------------------------------------------------------

    async def _read(self, room_id: int) -> str | None:
        """The room's state as an update message (a new version), or None if unknown."""
        lock = self._reading.setdefault(room_id, asyncio.Lock())
        async with lock:
            return await self._read_held(room_id)

    async def _read_held(self, room_id: int) -> str | None:
        view = await queries.room_view(self.deps, room_id=room_id)
        if not isinstance(view, Success):
            self._reading.pop(room_id, None)
            return None
        room = view.unwrap()
        self.assets[room_id] = room.room.asset
        version = self.versions.get(room_id, 0) + 1
        self.versions[room_id] = version
        out = RoomOut.of(room).model_dump(mode="json")
        text = json.dumps({"type": "room", "version": version, "room": out}, separators=(",", ":"))
        self._last_room[room_id] = text
        return text

    async def refresh(self, room_ids: Iterable[int]) -> int:
        """Read each watched room of ``room_ids`` once and send it to its watchers; how many
        rooms were sent."""
        refreshed = 0
        for room_id in room_ids:
            if not self.watchers.get(room_id):
                continue
            text = await self._read(room_id)
            if text is None:
                continue
            key = f"room:{room_id}"
            watchers = self.watchers.get(room_id, ())
            for connection in watchers:
                connection.offer(key, text)
            self.updates_sent += len(watchers)
            refreshed += 1
        return refreshed

    def publish_price(self, asset: Asset, point: PricePoint) -> None:
        """Send a new price of ``asset`` to the watchers of every room on it."""
        previous = self._last_price.get(asset.key)
        if previous == point:
            return
        self._last_price[asset.key] = point
        text = price_text(asset, point)
        key = f"price:{asset.key}"
        sent_to: set[Connection] = set()
        for room_id, room_asset in list(self.assets.items()):
            if room_asset.key == asset.key:
                sent_to.update(self.watchers.get(room_id, ()))
        for connection in sent_to:
            connection.offer(key, text)
        self.updates_sent += len(sent_to)

    # --- loops -----------------------------------------------------------------------

    async def follow(self, changes: RoomChangeFeed, ready: asyncio.Event | None = None) -> None:
        """Send every change of a watched room, until cancelled."""
        async with changes.listen() as feed:
            if ready is not None:
                ready.set()
            async for change in feed:
                try:
                    await self.refresh(sorted(change.room_ids))
                except Exception as error:  # keep following; the next change retries
                    log.warning("room updates: %s: %s", type(error).__name__, error)

    async def follow_prices(self) -> None:
        """Every ``price_seconds``, send the newest accepted price of each watched asset."""
        while True:
            assets = {a.key: a for a in self.assets.values()}
            if assets:
                try:
                    latest = await self.prices.latest(list(assets.values()))
                except Exception as error:
                    log.warning("price updates: %s: %s", type(error).__name__, error)
                    latest = {}
                for key, point in latest.items():
                    self.publish_price(assets[key], point)
            await asyncio.sleep(self.settings.price_seconds)


def price_text(asset: Asset, point: PricePoint) -> str:
    message: dict[str, Any] = {
        "type": "price",
        "asset": asset.key,
        **PricePointOut.of(point).model_dump(mode="json"),
    }
    return json.dumps(message, separators=(",", ":"))


async def serve_connection(
    hub: RoomHub,
    connection: Connection,
    receive: Callable[[], Awaitable[str]],
) -> None:
    """Run one client: its sender, and its requests (``subscribe``/``unsubscribe``/
    ``ping``) until ``receive`` raises (the client disconnected)."""
    sender = asyncio.create_task(connection.run())
    try:
        while not connection.closed:
            receiving = asyncio.ensure_future(receive())
            done, _ = await asyncio.wait({receiving, sender}, return_when=asyncio.FIRST_COMPLETED)
            if receiving not in done:  # the sender ended: the client is gone
                receiving.cancel()
                with contextlib.suppress(BaseException):
                    await receiving
                break
            reply = await handle_request(hub, connection, receiving.result())
            if reply is not None:
                connection.offer("reply", reply)
    finally:
        hub.drop(connection)
        sender.cancel()
        with contextlib.suppress(BaseException):
            await sender


async def handle_request(hub: RoomHub, connection: Connection, text: str) -> str | None:
    """One client message; the reply to send, if any."""
    try:
        message = json.loads(text)
    except ValueError:
        return error_text("BadMessage", "Messages are JSON objects.")
    if not isinstance(message, dict):
        return error_text("BadMessage", "Messages are JSON objects.")
    kind = message.get("type")
    if kind == "ping":
        return json.dumps({"type": "pong"})
    if kind in ("subscribe", "unsubscribe"):
        rooms = message.get("rooms")
        if not isinstance(rooms, list) or not all(
            isinstance(r, int) and not isinstance(r, bool) and 0 < r < 2**62 for r in rooms
        ):
            return error_text("BadMessage", "'rooms' is a list of room ids.")
        if kind == "unsubscribe":
            hub.unsubscribe(connection, rooms)
            return json.dumps({"type": "unsubscribed", "rooms": rooms})
        unknown = await hub.subscribe(connection, rooms)
        return json.dumps(
            {"type": "subscribed", "rooms": sorted(connection.rooms), "unknown": unknown}
        )
    return error_text("BadMessage", "type is one of subscribe, unsubscribe, ping.")


def error_text(name: str, message: str) -> str:
    return json.dumps({"type": "error", "error": name, "message": message})
