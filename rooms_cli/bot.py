"""`rooms bot`: the Telegram bot, in polling or webhook mode, with the market engine beside it.

Storage is PostgreSQL when a database URL is given (``--database-url`` or
``ROOMS_DATABASE_URL``), else in memory (for development: everything is gone when it
stops). The token and every other bot setting come from the environment (``ROOMS_*``, see
docs/bot.md); the token is never printed.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from rooms_adapters.system.event_loop import run_service
from rooms_cli.db import DatabaseUrl
from rooms_cli.wallets import RpcUrls
from rooms_cli.worker import choose_feeds

if TYPE_CHECKING:
    from rooms_bot.config import BotConfig
    from rooms_core.ports.signer import Signer
    from rooms_core.services.custody import Custody
    from rooms_core.services.deps import Deps

log = logging.getLogger("rooms.bot")


def bot(
    database_url: DatabaseUrl = None,
    feeds: Annotated[
        str,
        typer.Option(help="Price feeds: comma-separated names, 'all' or 'none'."),
    ] = "all",
    engine: Annotated[
        bool,
        typer.Option(
            help="Run the market engine (prices, locking, settling, notifications) in this "
            "process. Turn it off when `rooms worker` processes do that work."
        ),
    ] = True,
    rpc_url: RpcUrls = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
    json_logs: Annotated[
        bool, typer.Option("--json-logs/--text-logs", help="One JSON object per log line.")
    ] = False,
) -> None:
    """Run the Telegram bot until SIGTERM or Ctrl-C. Needs ROOMS_TELEGRAM_TOKEN. Storage is
    PostgreSQL with a database URL, else in memory (development: nothing is kept). Polling
    by default, webhook with ROOMS_BOT_MODE=webhook, ROOMS_WEBHOOK_URL and
    ROOMS_WEBHOOK_SECRET; Redis FSM storage with ROOMS_REDIS_URL (several replicas)."""
    from pydantic import ValidationError

    from rooms_adapters.live import FEEDS
    from rooms_adapters.system.logs import configure_logging
    from rooms_bot.config import BotConfig

    scrubber = configure_logging(json=json_logs, level=logging.DEBUG if verbose else logging.INFO)
    try:
        config = BotConfig()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"])
            name = where if where.startswith("ROOMS_") else f"ROOMS_{where.upper()}"
            message = problem["msg"].removeprefix("Value error, ")
            typer.echo(f"error: {name}: {message}" if where else f"error: {message}", err=True)
        raise typer.Exit(2) from None
    database_url = database_url or os.environ.get("ROOMS_DATABASE_URL") or None
    scrubber.add(config.telegram_token.get_secret_value())
    if config.webhook_secret is not None:
        scrubber.add(config.webhook_secret.get_secret_value())
    if rpc_url and not database_url:
        typer.echo(
            "error: custody (--rpc-url) needs PostgreSQL: real money is never kept in memory",
            err=True,
        )
        raise typer.Exit(2)
    chosen = choose_feeds(feeds, FEEDS)
    try:
        run_service(_run, config, database_url, chosen, engine, rpc_url)
    except NotReady as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


class NotReady(Exception):
    pass


@dataclass
class Platform:
    deps: Deps
    signer: Signer
    custody: Custody | None


@asynccontextmanager
async def _platform(
    database_url: str | None, feeds: list[str], rpc_url: str | None
) -> AsyncIterator[Platform]:
    from rooms_adapters.live import live_deps, live_memory_deps

    if database_url is None:
        from rooms_adapters.solana.local_signer import InMemoryKeyVault, LocalSigner, MasterKey

        log.warning("in-memory storage: for development only, nothing is kept after a stop")
        async with live_memory_deps(feeds) as (deps, _store):
            yield Platform(
                deps, LocalSigner(MasterKey(secrets.token_bytes(32)), InMemoryKeyVault()), None
            )
        return

    from rooms_adapters.postgres.migrate import migration_status
    from rooms_cli.db import database_settings, redacted
    from rooms_cli.wallets import WalletsNotReady, open_custody, open_signer

    settings = database_settings(database_url)
    try:
        pending = [m for m, at in await migration_status(settings.dsn) if at is None]
    except Exception as error:
        raise NotReady(f"cannot use the database at {redacted(settings.dsn)}: {error}") from None
    if pending:
        raise NotReady("the database needs migrations: run `rooms db migrate`")
    async with live_deps(settings, feeds) as live, AsyncExitStack() as stack:
        try:
            if rpc_url:
                custody, closers = await open_custody(live.store, rpc_url)
                signer = custody.signer
            else:
                custody = None
                signer, closers = await open_signer(live.store)
        except WalletsNotReady as error:
            raise NotReady(str(error)) from None
        for close in closers:
            stack.push_async_callback(close)
        yield Platform(live.deps, signer, custody)


async def _run(
    config: BotConfig, database_url: str | None, feeds: list[str], engine: bool, rpc_url: str | None
) -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    from rooms_adapters.feeds.http import new_client
    from rooms_adapters.telegram.messenger import TelegramMessenger
    from rooms_bot.app import build_dispatcher, create_bot, prepare, with_admins
    from rooms_bot.middlewares import Throttle
    from rooms_bot.notifications import render_notification
    from rooms_bot.runner import fsm_storage, run_bot
    from rooms_bot.services import BotServices
    from rooms_core.services.workers import run_engine

    token = config.telegram_token.get_secret_value()
    async with _platform(database_url, feeds, rpc_url) as platform, new_client(10.0) as http:
        deps = await with_admins(platform.deps, platform.signer, config.admin_telegram_ids)
        services = BotServices(
            deps=deps,
            signer=platform.signer,
            custody=platform.custody,
            mini_app_url=config.mini_app_url,
        )
        bot_client = create_bot(token, config.telegram_api)
        try:
            services = await prepare(bot_client, services)
        except TelegramUnauthorizedError:
            await bot_client.session.close()
            raise NotReady("Telegram refused the token (ROOMS_TELEGRAM_TOKEN)") from None
        storage, isolation = fsm_storage(config)
        dp = build_dispatcher(
            services,
            storage=storage,
            events_isolation=isolation,
            throttle=Throttle(rate=config.throttle_per_second, burst=config.throttle_burst),
        )
        stop = anyio.Event()

        def on_error(loop: str, error: BaseException) -> None:
            log.error("engine %s: %s: %s", loop, type(error).__name__, error)

        async def engine_loop() -> None:
            messenger = TelegramMessenger(http, token, config.telegram_api)
            await run_engine(
                deps,
                messenger,
                stop,
                on_error=on_error,
                custody=platform.custody,
                render=render_notification,
            )

        async def watch_signals() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for received in signals:
                    log.info("%s received: stopping", received.name)
                    stop.set()
                    return

        typer.echo(
            f"rooms bot: @{services.bot_username} running ({config.mode}; storage "
            f"{'PostgreSQL' if database_url else 'in memory'}; FSM "
            f"{'Redis' if config.redis_url else 'in memory'}; engine "
            f"{'on' if engine else 'off'}). SIGTERM or Ctrl-C stops it."
        )
        closers: list[Callable[[], Awaitable[None]]] = [bot_client.session.close, storage.close]
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(watch_signals)
                if engine:
                    group.start_soon(engine_loop)
                await run_bot(bot_client, dp, config, stop)
                stop.set()
        finally:
            for close in closers:
                await close()
        typer.echo("rooms bot: stopped.")
