"""`rooms worker` as an operator runs it: against a migrated database, moving rooms on the
wall clock, reporting bad input clearly, and stopping cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.room import RoomState
from tests.pg import pg_platform

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[2]


def rooms(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rooms_cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_the_worker_voids_an_overdue_room_without_prices_and_stops_on_sigterm(
    pg_database: str,
) -> None:
    platform, pg = await pg_platform(pg_database)
    try:
        host, yes, no = [await platform.user() for _ in range(3)]
        room = await platform.room(host)  # on the virtual clock: long overdue in wall time
        await platform.bet(yes, room, Side.YES, sol(1))
        await platform.bet(no, room, Side.NO, sol(2))
        worker = rooms("worker", "--database-url", pg_database, "--feeds", "none", "--poll", "0.2")
        assert worker.stdout is not None
        started = await asyncio.to_thread(worker.stdout.readline)
        assert "rooms worker: started" in started, worker.stderr.read() if worker.stderr else ""
        for _ in range(200):
            if (await platform.get_room(room.id)).state is RoomState.VOID:
                break
            await asyncio.sleep(0.05)
        assert (await platform.get_room(room.id)).state is RoomState.VOID
        assert await platform.balance(yes) == sol(100)  # refunded in full
        worker.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(worker.communicate, timeout=30)
        assert worker.returncode == 0, err
        assert "rooms worker: stopped" in out
        assert "SIGTERM received" in err
        async with pg.pool.acquire() as connection:  # its oracle decisions were kept
            kept = await connection.fetch("SELECT asset, value FROM oracle_decisions")
        assert kept
        assert {(r["asset"], r["value"]) for r in kept} == {(room.asset.key, None)}
    finally:
        await pg.close()


def test_bad_input_gets_a_message_not_a_traceback(pg_database: str) -> None:
    bad_feed = rooms("worker", "--database-url", pg_database, "--feeds", "kraken")
    _, err = bad_feed.communicate(timeout=60)
    assert bad_feed.returncode == 2
    assert "unknown feed(s) kraken" in err
    nowhere = rooms("worker", "--database-url", "postgresql://postgres@127.0.0.1:1/x")
    _, err = nowhere.communicate(timeout=60)
    assert nowhere.returncode == 1
    assert "cannot use the database" in err
    assert "Traceback" not in err


class FakeBotApi:
    """A local Bot API server that accepts sendMessage and remembers what it got."""

    def __init__(self) -> None:
        self.messages: list[tuple[int, str]] = []
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                received.append((body["chat_id"], body["text"]))
                answer = json.dumps({"ok": True, "result": {"message_id": len(received)}})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer.encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


async def test_the_worker_sends_the_outbox_through_the_bot_api_once(pg_database: str) -> None:
    platform, pg = await pg_platform(pg_database)
    bot = FakeBotApi()
    try:
        host, yes, no = [await platform.user() for _ in range(3)]
        room = await platform.room(host)
        await platform.bet(yes, room, Side.YES, sol(1))
        await platform.bet(no, room, Side.NO, sol(2))
        async with platform.deps.uow() as uow:
            queued = await uow.outbox.pending_count()
        assert queued >= 5  # deposits credited, bets confirmed
        worker = rooms("worker", "--database-url", pg_database, "--feeds", "none",
                       "--telegram-token", "42:TEST", "--telegram-api", bot.url)  # fmt: skip
        assert worker.stdout is not None
        assert "notifications on" in await asyncio.to_thread(worker.stdout.readline)
        for _ in range(200):
            async with platform.deps.uow() as uow:
                if await uow.outbox.pending_count() == 0:
                    break
            await asyncio.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(worker.communicate, timeout=30)
        assert worker.returncode == 0, err
        assert len(bot.messages) == len(set(bot.messages))  # none twice
        chats = {chat for chat, _ in bot.messages}
        assert {yes.telegram_id, no.telegram_id} <= chats
        assert any("Bet confirmed" in text for _, text in bot.messages)
    finally:
        bot.close()
        await pg.close()
