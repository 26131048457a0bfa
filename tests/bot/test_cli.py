"""`rooms bot` as a process: it starts from the environment, serves a user through the
local Bot API server, stops on SIGTERM, and never prints its token."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from rooms_bot.local_api import LocalBotApi
from tests.bot.harness import TOKEN

pytestmark = pytest.mark.heavy


async def test_rooms_bot_runs_serves_and_stops_without_showing_its_token() -> None:
    async with LocalBotApi(token=TOKEN, bot_username="rooms_cli_bot") as api:
        env = {
            **os.environ,
            "ROOMS_TELEGRAM_TOKEN": TOKEN,
            "ROOMS_TELEGRAM_API": api.base_url,
            "ROOMS_ADMIN_TELEGRAM_IDS": "4242",
        }
        env.pop("ROOMS_DATABASE_URL", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "rooms_cli", "bot", "--feeds", "none",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            update = await api.send_message(77, "/start", first_name="Zed")
            menu = await api.wait_for_message(
                77, lambda m: "Choose what to do" in (m.text or ""), after=update, timeout=60
            )
            assert menu.buttons
            admin = await api.send_message(4242, "/admin", first_name="Op")
            reply = await api.wait_for_message(4242, after=admin, timeout=10)
            assert "Betting: running" in (reply.text or "")
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(process.communicate(), 30)
    output = (out + err).decode()
    assert process.returncode == 0, output
    assert "@rooms_cli_bot running" in output
    assert "stopped" in output
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output


async def test_rooms_bot_without_a_token_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMS_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rooms_cli", "bot",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "ROOMS_TELEGRAM_TOKEN" in err.decode()
    assert "Traceback" not in (out + err).decode()
