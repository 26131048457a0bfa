"""What every flow relies on: waiting out Telegram's 429s, the error boundary, per-user
throttling, escaping of what users type, webhook mode with its secret, Redis FSM storage
shared by replicas."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
import structlog
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from returns.result import Result

from rooms_bot.app import build_dispatcher, create_bot, prepare
from rooms_bot.config import BotConfig
from rooms_bot.local_api import LocalBotApi
from rooms_bot.middlewares import Throttle
from rooms_bot.runner import fsm_storage, run_webhook
from rooms_bot.services import BotServices
from rooms_core.ports.signer import SignerError
from tests.bot.conftest import ALICE, BOB, TOKEN_ASSET
from tests.bot.harness import TOKEN, BotHarness, running_bot
from tests.bot.test_start_and_rooms import make_rooms
from tests.support import SOL, make_platform

REDIS_URL = "redis://127.0.0.1:6379/9"  # a database of its own: these tests empty it


async def test_a_429_is_waited_out_and_the_message_sent_once(harness: BotHarness) -> None:
    await harness.start(ALICE)
    harness.api.fail_next("sendMessage", status=429, retry_after=1)
    reply = await harness.say(ALICE, "/help", expect="How ROOMS works")
    assert reply.text
    statuses = [call.status for call in harness.api.calls("sendMessage")][-2:]
    assert statuses == [429, 200]
    assert [m.text for m in harness.api.messages(ALICE)].count(reply.text) == 1


class ExplodingSigner:
    async def create_wallet(self, owner: str) -> Result[str, SignerError]:
        raise RuntimeError("the HSM caught fire")

    async def sign(self, address: str, message: bytes) -> Result[bytes, SignerError]:
        raise RuntimeError("the HSM caught fire")


async def test_an_unexpected_error_is_logged_with_a_trace_id_and_the_user_told() -> None:
    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    with structlog.testing.capture_logs() as logs:
        async with running_bot(platform, signer=ExplodingSigner()) as harness:
            reply = await harness.say(ALICE, "/start", expect="Something went wrong")
    text = reply.text or ""
    assert "Traceback" not in text
    assert "HSM" not in text
    trace_id = text.rsplit("Reference: ", 1)[1].strip()
    failures = [e for e in logs if e.get("event") == "update failed"]
    assert [e["trace_id"] for e in failures] == [trace_id]
    assert failures[0]["log_level"] == "error"


async def test_a_user_pressing_too_fast_is_slowed_down() -> None:
    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    async with running_bot(platform, throttle=Throttle(rate=0.01, burst=3)) as harness:
        await make_rooms(harness, 1)
        await harness.start(ALICE)
        card = await harness.say(ALICE, "/room 1", expect="State:")  # 2 of 3 taken: /start, /room
        presses = [await harness.api.press(ALICE, card, card.button("Refresh")) for _ in range(4)]
        for query in presses:
            await harness.answered(query)
        answers = {a.query_id: a.text for a in harness.api.callback_answers(ALICE)}
        slowed = [q for q in presses if answers[q] == "Slow down a little, please."]
        assert len(slowed) == 3
        assert answers[presses[0]] != "Slow down a little, please."


async def test_room_titles_are_shown_as_typed_never_as_markup(harness: BotHarness) -> None:
    await make_rooms(harness, 1, title="<b>Free SOL</b> & <a href='x'>click</a>")
    await harness.start(ALICE)
    listing = await harness.tap(ALICE, await harness.start(ALICE), "Active rooms")
    assert "<b>Free SOL</b> & <a href='x'>click</a>" in (listing.text or "")
    card = await harness.tap(ALICE, listing, "#1")
    assert "<b>Free SOL</b> & <a href='x'>click</a>" in (card.text or "")
    assert "&lt;b&gt;" in (card.html or "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_webhook_mode_serves_updates_and_checks_the_secret() -> None:
    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    port = free_port()
    secret = "s3cret-webhook-token-123"
    async with LocalBotApi(token=TOKEN, bot_username="rooms_test_bot") as api:
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        config = BotConfig(
            telegram_token=TOKEN,
            mode="webhook",
            webhook_url=url,
            webhook_secret=secret,
            webhook_host="127.0.0.1",
            webhook_port=port,
        )
        bot = create_bot(TOKEN, api.base_url)
        services = await prepare(bot, BotServices(platform.deps, platform.container.signer()))
        dp = build_dispatcher(services)
        stop = anyio.Event()
        task = asyncio.create_task(run_webhook(bot, dp, config, stop))
        try:
            for _ in range(200):
                if api.webhook_url is not None:
                    break
                await asyncio.sleep(0.02)
            assert api.webhook_url == config.webhook_url
            update = await api.send_message(ALICE, "/start", first_name="Alice")
            menu = await api.wait_for_message(
                ALICE, lambda m: "Choose what to do" in (m.text or ""), after=update
            )
            assert menu.buttons
            async with httpx.AsyncClient() as client:
                forged = await client.post(
                    url,
                    json={"update_id": 999, "message": {}},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                )
            assert forged.status_code == 401
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)
            await bot.session.close()


@pytest.fixture
async def redis_storage() -> AsyncIterator[tuple[RedisStorage, RedisEventIsolation]]:
    config = BotConfig(telegram_token=TOKEN, redis_url=REDIS_URL, fsm_ttl_seconds=600)
    storage, isolation = fsm_storage(config)
    assert isinstance(storage, RedisStorage)
    assert isinstance(isolation, RedisEventIsolation)
    await storage.redis.flushdb()
    try:
        yield storage, isolation
    finally:
        await storage.redis.flushdb()
        await storage.close()
        await isolation.close()


async def test_a_form_started_on_one_replica_is_finished_on_another(
    redis_storage: tuple[RedisStorage, RedisEventIsolation],
) -> None:
    storage, isolation = redis_storage
    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    async with running_bot(platform, storage=storage, isolation=isolation) as first:
        menu = await first.start(ALICE)
        await first.tap(ALICE, await first.tap(ALICE, menu, "Create room"), "Coin price")
        await first.say(ALICE, "SOL")
        keys = [k async for k in storage.redis.scan_iter("fsm:*:state")]
        assert keys
        ttl = await storage.redis.ttl(keys[0])
        assert 0 < ttl <= 600
    # A second replica (a new dispatcher, same Redis) takes the next answer of the form.
    platform.deps = first.platform.deps
    async with running_bot(platform, storage=storage, isolation=isolation) as second:
        comparator = await second.say(ALICE, "Will SOL hit 200 today?", expect="YES wins if")
        assert "YES wins if SOL is" in (comparator.text or "")


async def test_one_users_updates_are_handled_one_at_a_time(
    redis_storage: tuple[RedisStorage, RedisEventIsolation],
) -> None:
    storage, isolation = redis_storage
    platform = make_platform(assets=(SOL, TOKEN_ASSET))
    async with running_bot(platform, storage=storage, isolation=isolation) as harness:
        updates = [
            await harness.api.send_message(BOB, "/start", first_name="Bob") for _ in range(5)
        ]
        await harness.api.wait_for_message(
            BOB, lambda m: "Choose what to do" in (m.text or ""), after=updates[-1]
        )
        for _ in range(100):
            menus = [m for m in harness.api.messages(BOB) if "Choose" in (m.text or "")]
            if len(menus) == 5:
                break
            await asyncio.sleep(0.02)
        async with platform.deps.uow() as uow:
            assert await uow.users.count() == 1  # five /start at once: one user
