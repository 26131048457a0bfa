"""`rooms api`: the web API, the WebSocket and the Mini App, served with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from rooms_cli.db import redacted

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rooms_api.health import HealthCheck
    from rooms_api.settings import ApiSettings
    from rooms_core.services.deps import Deps


class _NotReady(Exception):
    pass


@dataclass(frozen=True, slots=True)
class _Options:
    host: str
    port: int
    database_url: str | None
    feeds: list[str]
    health_asset: str | None
    redis_url: str | None


def api(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="ROOMS_DATABASE_URL",
            help="postgresql:// URL (or ROOMS_DATABASE_URL). Without it, everything is kept "
            "in memory (a demo: lost at exit).",
            show_default=False,
        ),
    ] = None,
    feeds: Annotated[
        str,
        typer.Option(
            help="Price feeds for the health check's oracle: comma-separated names, 'all' "
            "or 'none'. (Prices shown come from the worker's oracle decisions.)"
        ),
    ] = "all",
    health_asset: Annotated[
        str,
        typer.Option(help="Coin whose consensus price /health checks ('' for no check)."),
    ] = "SOL",
    admin_telegram_ids: Annotated[
        str,
        typer.Option(
            envvar="ROOMS_ADMIN_TELEGRAM_IDS",
            help="Comma-separated Telegram user ids of the admins.",
        ),
    ] = "",
    redis_url: Annotated[
        str | None,
        typer.Option(
            envvar="ROOMS_REDIS_URL", help="Redis to check in /health.", show_default=False
        ),
    ] = None,
    init_data_max_age: Annotated[
        int, typer.Option(help="Seconds a Mini App's initData stays valid.", min=60)
    ] = 86_400,
    json_logs: Annotated[
        bool, typer.Option("--json-logs/--text-logs", help="One JSON object per log line.")
    ] = True,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Serve the REST API (/api, docs at /docs), live updates (/ws), the Mini App (/app),
    /metrics and /health until SIGTERM or Ctrl-C. The bot's token comes from the
    ROOMS_TELEGRAM_TOKEN environment variable (it checks the Mini App's initData)."""
    from rooms_adapters.live import FEEDS
    from rooms_adapters.system.logs import configure_logging
    from rooms_cli.worker import choose_feeds

    token = os.environ.get("ROOMS_TELEGRAM_TOKEN", "").strip()
    if not token:
        typer.echo(
            "error: set ROOMS_TELEGRAM_TOKEN to the bot's token: the API checks the Mini "
            "App's initData with it",
            err=True,
        )
        raise typer.Exit(2)
    try:
        admins = frozenset(int(x) for x in admin_telegram_ids.replace(" ", "").split(",") if x)
    except ValueError:
        typer.echo(
            f"error: --admin-telegram-ids takes whole numbers separated by commas, not "
            f"{admin_telegram_ids!r}",
            err=True,
        )
        raise typer.Exit(2) from None
    try:
        configure_logging(json=json_logs, level=log_level, secrets=[token])
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    from rooms_api.settings import ApiSettings

    settings = ApiSettings(
        bot_token=token,
        init_data_max_age=timedelta(seconds=init_data_max_age),
        admin_telegram_ids=admins,
    )
    options = _Options(
        host,
        port,
        database_url,
        choose_feeds(feeds, FEEDS),
        health_asset.strip() or None,
        redis_url,
    )
    try:
        asyncio.run(_serve(options, settings))
    except _NotReady as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


async def _serve(options: _Options, settings: ApiSettings) -> None:
    import uvicorn

    async with _app(options, settings) as app:
        config = uvicorn.Config(
            app,
            host=options.host,
            port=options.port,
            log_config=None,
            proxy_headers=True,
            server_header=False,
            ws="websockets-sansio",  # websockets' current API (uvicorn's "auto" may pick legacy)
            # Compressing one update for each of a thousand watchers costs more CPU than
            # the ~700 bytes it saves each of them.
            ws_per_message_deflate=False,
        )
        server = uvicorn.Server(config)  # it stops on SIGTERM and SIGINT
        try:
            await server.serve()
        except SystemExit:  # uvicorn exits so when it cannot listen (logged already)
            raise _NotReady(f"cannot listen on {options.host}:{options.port}") from None
        if not server.started:
            raise _NotReady(f"cannot listen on {options.host}:{options.port}")


@contextlib.asynccontextmanager
async def _app(options: _Options, settings: ApiSettings) -> AsyncIterator[FastAPI]:
    if options.database_url is None:
        async with _memory_app(options, settings) as app:
            yield app
    else:
        async with _postgres_app(options, settings) as app:
            yield app


def _checks(options: _Options, deps: Deps) -> dict[str, HealthCheck]:
    from rooms_api.health import database_check, oracle_check, redis_check
    from rooms_core.models import Asset, AssetKind

    checks: dict[str, HealthCheck] = {"database": database_check(deps)}
    if options.feeds and options.health_asset:
        checks["oracle"] = oracle_check(deps, Asset(kind=AssetKind.COIN, id=options.health_asset))
    if options.redis_url:
        checks["redis"] = redis_check(options.redis_url)
    return checks


@contextlib.asynccontextmanager
async def _memory_app(options: _Options, settings: ApiSettings) -> AsyncIterator[FastAPI]:
    from dependency_injector import providers

    from rooms_adapters.feeds.http import new_client
    from rooms_adapters.live import live_sources
    from rooms_adapters.memory.changes import InMemoryRoomChangeFeed
    from rooms_adapters.memory.container import InMemoryContainer
    from rooms_adapters.memory.figures import InMemoryPlatformFigures
    from rooms_adapters.memory.price_history import InMemoryPriceHistory
    from rooms_adapters.system.clock import SystemClock
    from rooms_adapters.system.tokens import SecretTokenSource
    from rooms_api.app import create_app
    from rooms_api.context import ApiPorts

    clock = SystemClock()
    history = InMemoryPriceHistory()
    container = InMemoryContainer(start=datetime.now(UTC))
    container.clock.override(providers.Object(clock))
    container.tokens.override(providers.Object(SecretTokenSource()))
    container.oracle_record.override(providers.Object(history.record))
    async with new_client() as http:
        container.price_sources.override(providers.Object(live_sources(http, clock, options.feeds)))
        deps = container.deps()
        store = container.store()
        ports = ApiPorts(
            changes=InMemoryRoomChangeFeed(store),
            prices=history,
            figures=InMemoryPlatformFigures(store),
            events=store.subscribers,
            checks=_checks(options, deps),
        )
        yield create_app(deps, settings, ports)


@contextlib.asynccontextmanager
async def _postgres_app(options: _Options, settings: ApiSettings) -> AsyncIterator[FastAPI]:
    from rooms_adapters.live import live_deps
    from rooms_adapters.postgres.changes import PostgresRoomChangeFeed
    from rooms_adapters.postgres.figures import PostgresPlatformFigures
    from rooms_adapters.postgres.migrate import migration_status
    from rooms_adapters.postgres.price_history import PostgresPriceHistory
    from rooms_adapters.postgres.store import DatabaseSettingsError, PostgresSettings
    from rooms_api.app import create_app
    from rooms_api.context import ApiPorts
    from rooms_core.ports.storage import StorageUnavailable

    assert options.database_url is not None
    try:
        database = PostgresSettings.from_env(
            {**os.environ, "ROOMS_DATABASE_URL": options.database_url}
        )
    except DatabaseSettingsError as error:
        raise _NotReady(str(error)) from None
    try:
        pending = [m for m, at in await migration_status(database.dsn) if at is None]
    except Exception as error:
        raise _NotReady(
            f"cannot use the database at {redacted(database.dsn)}: {type(error).__name__}"
        ) from None
    if pending:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
        raise _NotReady(f"the database needs migrations ({names}): run `rooms db migrate`")
    try:
        async with live_deps(database, options.feeds) as live:
            ports = ApiPorts(
                changes=PostgresRoomChangeFeed(live.store),
                prices=PostgresPriceHistory(live.store),
                figures=PostgresPlatformFigures(live.store),
                events=live.store.subscribers,
                checks=_checks(options, live.deps),
            )
            yield create_app(live.deps, settings, ports)
    except StorageUnavailable as error:
        raise _NotReady(f"the database is unavailable: {error}") from None
