"""`rooms api` as a process: serves on in-memory storage by default, never shows the bot
token, and refuses clearly (no traceback) without a token or a usable database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.heavy

TOKEN = "424242:cli-test-token-abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rooms(*args: str, token: str | None = TOKEN) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMS_")}
    if token is not None:
        env["ROOMS_TELEGRAM_TOKEN"] = token
    return subprocess.Popen(
        [sys.executable, "-m", "rooms_cli", "api", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_health(process: subprocess.Popen[str], port: int) -> httpx.Response:
    """`/health` of a `rooms api` process, as soon as it answers (a hang guard of 120 s: a
    loaded machine takes a minute to import what a quiet one imports in 10 s)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
        except httpx.TransportError:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "rooms api did not start"
            time.sleep(0.2)


def test_rooms_api_serves_in_memory_and_never_logs_the_token() -> None:
    port = free_port()
    process = rooms("--port", str(port), "--feeds", "none", "--admin-telegram-ids", "1,2")
    try:
        health = first_health(process, port)
        assert health.status_code == 200
        assert health.json()["checks"]["database"]["ok"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/api/rooms").json()["rooms"] == []
        assert httpx.get(f"http://127.0.0.1:{port}/docs").status_code == 200
        assert "ROOMS" in httpx.get(f"http://127.0.0.1:{port}/app").text
        refused = httpx.get(
            f"http://127.0.0.1:{port}/api/me", headers={"Authorization": f"tma {TOKEN}"}
        )
        assert refused.status_code == 401
    finally:
        process.terminate()
        out, err = process.communicate(timeout=20)
    assert TOKEN not in out + err
    assert '"logger": "rooms.api.request"' in err


def test_rooms_api_without_a_token_says_what_to_set() -> None:
    process = rooms(token=None)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "ROOMS_TELEGRAM_TOKEN" in err
    assert "Traceback" not in err


def test_rooms_api_with_an_unreachable_database_says_so_without_the_password() -> None:
    process = rooms("--database-url", "postgresql://rooms:s3cretpw@127.0.0.1:1/rooms")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert "cannot use the database at postgresql://rooms:***@127.0.0.1:1/rooms" in err
    assert "s3cretpw" not in err
    assert "Traceback" not in err
