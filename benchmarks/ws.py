"""Fan-out of live room updates: 1,000 WebSocket clients watch one room, bets move its pools,
and every client must receive every update the API sends, in order.

    ./run python -m benchmarks.ws [--clients 1000] [--updates 200]

Two runs with the same clients (in a separate process, so client and server do not share a
core's time more than they must):

- baseline: a bare ``websockets`` server broadcasting messages of the same size with
  ``websockets.broadcast`` (the library's own fastest path, no app, no ASGI);
- app: ``rooms api``'s app under uvicorn on the in-memory platform; bets placed through the
  services, each commit reaching the hub through the change feed, the room read once and the
  same text queued to every watcher.

Prints messages delivered per second for each and the ratio app / baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve

ROOM_ID = 1
WS = "websockets-sansio"  # as rooms api serves


# --- the clients (a process of their own) -------------------------------------------------


async def run_clients(url: str, clients: int, subscribe: bool) -> None:
    """Connect, watch the room, print READY; on a line of stdin, count messages until the
    line ``<total>`` says how many updates were sent, then print a JSON report."""
    sockets: list[ClientConnection] = []
    for start in range(0, clients, 100):
        sockets += await asyncio.gather(
            *(
                connect(url, open_timeout=60, max_queue=None, compression=None)
                for _ in range(start, min(start + 100, clients))
            )
        )
    last_version = [0] * clients
    received = [0] * clients
    gaps = 0
    first_at: float | None = None
    last_at = 0.0
    expected: int | None = None
    done = asyncio.Event()
    snapshots = asyncio.Event()

    async def read(index: int, ws: ClientConnection) -> None:
        nonlocal gaps, first_at, last_at
        if subscribe:
            await ws.send(json.dumps({"type": "subscribe", "rooms": [ROOM_ID]}))
        async for raw in ws:
            message = json.loads(raw)
            if message.get("type") != "room":
                continue
            version = message["version"]
            if last_version[index] and version != last_version[index] + 1:
                gaps += 1
            if last_version[index]:  # the first is the snapshot on subscribe
                received[index] += 1
                now = time.perf_counter()
                first_at = first_at or now
                last_at = now
            last_version[index] = version
            if all(last_version):
                snapshots.set()
            if expected is not None and all(r >= expected for r in received):
                done.set()

    readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
    await snapshots.wait()
    print("READY", flush=True)
    line = await asyncio.to_thread(sys.stdin.readline)
    expected = int(line)
    if not all(r >= expected for r in received):
        await asyncio.wait_for(done.wait(), timeout=300)
    report = {
        "messages": sum(received),
        "seconds": last_at - (first_at or last_at),
        "every_client_got_every_update": all(r == expected for r in received) and gaps == 0,
        "gaps": gaps,
    }
    print(json.dumps(report), flush=True)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


class Clients:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, url: str, clients: int, subscribe: bool) -> Clients:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks.ws",
            "--clients-of",
            url,
            "--clients",
            str(clients),
            *(["--subscribe"] if subscribe else []),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        clients_ = cls(process)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=300)
        if line.strip() != b"READY":
            raise RuntimeError(f"clients did not start: {line!r}")
        return clients_

    async def finish(self, sent: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"{sent}\n".encode())
        await self.process.stdin.drain()
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=300)
        await self.process.wait()
        report: dict[str, Any] = json.loads(line)
        return report


# --- the baseline: websockets alone ----------------------------------------------------


async def baseline(clients: int, updates: int, text: str) -> dict[str, Any]:
    connected: set[ServerConnection] = set()
    everyone = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        connected.add(ws)
        if len(connected) >= clients:
            everyone.set()
        try:
            async for _ in ws:
                pass
        finally:
            connected.discard(ws)

    # No compression, as the app serves (rooms api: ws_per_message_deflate=False).
    async with serve(handler, "127.0.0.1", 0, max_queue=None, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        url = f"ws://127.0.0.1:{port}/"
        pending = Clients.start(url, clients, subscribe=False)
        starter = asyncio.create_task(pending)
        await everyone.wait()
        broadcast(connected, text)
        running = await starter
        started = time.perf_counter()
        for version in range(2, updates + 2):
            broadcast(connected, text.replace('"version":1', f'"version":{version}', 1))
            await asyncio.sleep(0)  # let the transports write, as a server does between sends
        report = await running.finish(updates)
        report["server_seconds"] = time.perf_counter() - started
        return report


# --- the app -----------------------------------------------------------------------------


async def app_run(clients: int, updates: int) -> tuple[dict[str, Any], str, int]:
    from rooms_core.models import Side
    from rooms_core.money import sol
    from rooms_core.settings import RoomsSettings
    from tests.api.support import make_api
    from tests.api.support import serve as serve_app

    api = make_api(settings=RoomsSettings(min_players=10**6))  # stays QUEUING: only pools move
    p = api.platform
    room = await p.room(await p.user())
    assert room.id == ROOM_ID
    bettors = [await p.user(deposit=sol(1)) for _ in range(updates)]
    hub = api.app.state.rooms.hub
    async with serve_app(api.app, ws=WS) as address:
        running = await Clients.start(f"ws://{address}/ws", clients, subscribe=True)
        sample = hub._last_room[ROOM_ID]
        base = hub.versions[ROOM_ID]
        started = time.perf_counter()
        for bettor in bettors:
            await p.bet(bettor, room, Side.YES, sol("0.1"))
            await asyncio.sleep(0)  # bets arrive one by one, each its own request
        await asyncio.sleep(0.3)  # the hub sends the last change
        # Bets that came faster than the hub read them were merged into one update.
        sent = hub.versions[ROOM_ID] - base
        report = await running.finish(sent)
        report["server_seconds"] = time.perf_counter() - started
        report["bets"] = updates
        report["updates"] = sent
    return report, sample, len(sample)


def rate(report: dict[str, Any]) -> float:
    seconds = max(report["seconds"], 1e-9)
    return float(report["messages"]) / float(seconds)


async def main(clients: int, updates: int) -> None:
    app, sample, size = await app_run(clients, updates)
    base = await baseline(clients, updates, sample)
    print(f"clients: {clients}, message size: {size} bytes")
    print(
        f"baseline (websockets.broadcast, no app): {base['messages']:,} messages in "
        f"{base['seconds']:.2f} s = {rate(base):,.0f} messages/s; "
        f"every client got every message: {base['every_client_got_every_update']}"
    )
    print(
        f"app (bets through the services -> change feed -> hub -> uvicorn): "
        f"{app['bets']} bets, {app['updates']} updates, {app['messages']:,} messages in "
        f"{app['seconds']:.2f} s = {rate(app):,.0f} messages/s; "
        f"every client got every update in order: {app['every_client_got_every_update']}"
    )
    print(f"ratio app / baseline: {rate(app) / rate(base):.2f}")
    if not (app["every_client_got_every_update"] and base["every_client_got_every_update"]):
        raise SystemExit("a client missed an update")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--clients-of", help=argparse.SUPPRESS)
    parser.add_argument("--subscribe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clients_of:
        asyncio.run(run_clients(args.clients_of, args.clients, args.subscribe))
    else:
        asyncio.run(main(args.clients, args.updates))
