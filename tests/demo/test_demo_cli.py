"""`rooms demo` as a process: it prints where to go, serves the chat page and the web API
there, and stops cleanly on Ctrl-C (SIGINT)."""

from __future__ import annotations

import asyncio
import re
import signal
import sys

import httpx
import pytest

pytestmark = pytest.mark.heavy


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


async def test_rooms_demo_prints_its_urls_serves_them_and_stops() -> None:
    # Started as a script's background job is (SIGINT inherited ignored): Ctrl-C must still
    # stop it. (Python's own KeyboardInterrupt never fires then; a CI run hung on that.)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rooms_cli", "demo", "--port", "0", "--api-port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=ignore_sigint,
    )  # fmt: skip
    assert process.stdout is not None
    printed = ""
    # The limits only catch a hang; they are not timings. On a loaded 2-core machine the
    # imports alone (aiogram's types are about 5 s on a quiet one) took a minute, and
    # stopping took up to 7 s where it takes 1-2 s quiet.
    try:
        async with asyncio.timeout(180):
            while "Ctrl-C stops it" not in printed:
                line = await process.stdout.readline()
                assert line, f"rooms demo ended early: {printed}"
                printed += line.decode()
        chat = re.search(r"Open the chat:\s+(\S+)", printed)
        api = re.search(r"Web API:\s+(\S+)/docs", printed)
        assert chat is not None, printed
        assert api is not None, printed
        async with httpx.AsyncClient(timeout=10) as client:
            page = await client.get(chat[1])
            assert page.status_code == 200
            assert "<html" in page.text.lower()
            docs = await client.get(f"{api[1]}/openapi.json")
            assert docs.status_code == 200
            assert docs.json()["info"]["title"].startswith("ROOMS demo")
            rooms = await client.get(f"{api[1]}/api/rooms")
            assert rooms.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        try:
            out, err = await asyncio.wait_for(process.communicate(), 120)
        except TimeoutError:
            process.kill()  # never leave a hung demo behind
            await process.wait()
            raise
    assert process.returncode == 0, (out + err).decode()
    assert "Traceback" not in (out + err).decode()
