"""Running the bot: long polling (development) or a webhook server (production), until
``stop`` is set; and the FSM storage the configuration asks for."""

from __future__ import annotations

import anyio
import structlog
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from rooms_bot.config import BotConfig

log = structlog.get_logger("rooms.bot")


def fsm_storage(config: BotConfig) -> tuple[BaseStorage, BaseEventIsolation]:
    """Redis (with a TTL, shared by every replica) when ``ROOMS_REDIS_URL`` is set, else
    memory (one process)."""
    if config.redis_url:
        ttl = config.fsm_ttl_seconds
        return (
            RedisStorage.from_url(config.redis_url, state_ttl=ttl, data_ttl=ttl),
            RedisEventIsolation.from_url(config.redis_url),
        )
    return MemoryStorage(), SimpleEventIsolation()


async def run_polling(bot: Bot, dp: Dispatcher, stop: anyio.Event) -> None:
    """Long polling until ``stop`` (a webhook left from an earlier deployment is removed
    first, as Telegram refuses getUpdates while one is set)."""
    await bot.delete_webhook(drop_pending_updates=False)
    async with anyio.create_task_group() as group:
        group.start_soon(
            lambda: dp.start_polling(
                bot, handle_signals=False, close_bot_session=False, polling_timeout=25
            )
        )
        await stop.wait()
        await dp.stop_polling()


async def run_webhook(bot: Bot, dp: Dispatcher, config: BotConfig, stop: anyio.Event) -> None:
    """An aiohttp server taking Telegram's updates at ``webhook_path``, checking the secret
    token on each; the webhook is (re)registered with Telegram at start. It is left set on
    the way out: other replicas may still be serving it."""
    assert config.webhook_url is not None
    assert config.webhook_secret is not None
    secret = config.webhook_secret.get_secret_value()
    app = web.Application()
    SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
        app, path=config.webhook_path
    )
    setup_application(app, dp, bot=bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.webhook_host, config.webhook_port)
    await site.start()
    try:
        await bot.set_webhook(
            config.webhook_url,
            secret_token=secret,
            allowed_updates=dp.resolve_used_update_types(),
        )
        log.info("webhook serving", host=config.webhook_host, port=config.webhook_port)
        await stop.wait()
    finally:
        await runner.cleanup()


async def run_bot(bot: Bot, dp: Dispatcher, config: BotConfig, stop: anyio.Event) -> None:
    if config.mode == "webhook":
        await run_webhook(bot, dp, config, stop)
    else:
        await run_polling(bot, dp, stop)
