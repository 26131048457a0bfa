"""`rooms worker`: the market engine as a service (oracle monitor, scheduler, dispatcher)."""

from __future__ import annotations

import logging
import signal
from typing import TYPE_CHECKING, Annotated

import anyio
import typer

from rooms_adapters.system.event_loop import run_service
from rooms_cli.db import DatabaseUrl, database_settings, redacted
from rooms_cli.wallets import RpcUrls, WalletsNotReady, open_custody

if TYPE_CHECKING:
    from rooms_adapters.postgres.store import PostgresSettings
    from rooms_core.services.workers import EngineSettings

log = logging.getLogger("rooms.worker")


def worker(
    database_url: DatabaseUrl = None,
    feeds: Annotated[
        str,
        typer.Option(
            help="Comma-separated price feeds to use (binance, coingecko, cryptocompare, "
            "dexscreener, pyth), 'all', or 'none' (rooms then lock, cancel and void, "
            "but never settle on a price)."
        ),
    ] = "all",
    poll: Annotated[float, typer.Option(help="Seconds between two oracle polls.", min=0.1)] = 3.0,
    report_every: Annotated[
        float, typer.Option(help="Seconds between two progress lines.", min=1.0)
    ] = 60.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every price.")] = False,
    telegram_token: Annotated[
        str | None,
        typer.Option(
            envvar="ROOMS_TELEGRAM_TOKEN",
            help="The bot's token: with it, notifications are sent (the outbox dispatcher).",
            show_default=False,
        ),
    ] = None,
    telegram_api: Annotated[
        str,
        typer.Option(
            envvar="ROOMS_TELEGRAM_API", help="The Bot API server (a local one, if you run it)."
        ),
    ] = "https://api.telegram.org",
    rpc_url: RpcUrls = None,
    custody_every: Annotated[
        float, typer.Option(help="Seconds between two custody rounds.", min=0.1)
    ] = 10.0,
) -> None:
    """Run the market engine until SIGTERM or Ctrl-C: poll prices and settle rooms whose
    target is hit, lock and settle rooms on time, void those without a price after the
    grace period, and (with a bot token) send the notifications. Run several for
    availability: they share the work through the database."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    from rooms_adapters.live import FEEDS
    from rooms_core.services.workers import EngineSettings

    chosen = choose_feeds(feeds, FEEDS)
    settings = database_settings(database_url)
    try:
        run_service(
            _run,
            settings,
            chosen,
            EngineSettings(poll_seconds=poll, custody_seconds=custody_every),
            report_every,
            telegram_token,
            telegram_api,
            rpc_url,
        )
    except _NotReady as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


class _NotReady(Exception):
    pass


def choose_feeds(raw: str, known: tuple[str, ...]) -> list[str]:
    value = raw.strip().lower()
    if value == "all":
        return list(known)
    if value == "none":
        return []
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        typer.echo(
            f"error: unknown feed(s) {', '.join(unknown) or repr(raw)}; choose from "
            f"{', '.join(known)}, 'all' or 'none'",
            err=True,
        )
        raise typer.Exit(2)
    return names


async def _run(
    settings: PostgresSettings,
    feeds: list[str],
    engine: EngineSettings,
    report_every: float,
    telegram_token: str | None,
    telegram_api: str,
    rpc_url: str | None,
) -> None:
    from rooms_adapters.feeds.http import new_client
    from rooms_adapters.live import live_deps
    from rooms_adapters.postgres.migrate import migration_status
    from rooms_adapters.telegram.messenger import TelegramMessenger
    from rooms_core.ports.storage import StorageUnavailable
    from rooms_core.services.workers import EngineCounts, run_engine

    try:
        pending = [m for m, at in await migration_status(settings.dsn) if at is None]
    except Exception as error:
        raise _NotReady(f"cannot use the database at {redacted(settings.dsn)}: {error}") from None
    if pending:
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in pending)
        raise _NotReady(f"the database needs migrations ({names}): run `rooms db migrate`")
    try:
        async with live_deps(settings, feeds) as live, new_client(10.0) as http:
            deps = live.deps
            messenger = (
                TelegramMessenger(http, telegram_token, telegram_api) if telegram_token else None
            )
            try:
                custody, closers = (
                    await open_custody(live.store, rpc_url) if rpc_url else (None, [])
                )
            except WalletsNotReady as error:
                raise _NotReady(str(error)) from None
            stop = anyio.Event()
            counts = EngineCounts()

            async def watch_signals() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for received in signals:
                        log.info("%s received: stopping after the current step", received.name)
                        stop.set()
                        return

            async def report() -> None:
                while not stop.is_set():
                    with anyio.move_on_after(report_every):
                        await stop.wait()
                    log.info(
                        "polls %d, instant settlements %d, rooms moved %s, notifications %d, "
                        "deposits %d, withdrawals %d, errors %d",
                        counts.polls,
                        counts.instant_settlements,
                        counts.outcomes,
                        counts.notifications_sent,
                        counts.deposits_credited,
                        counts.withdrawals_confirmed,
                        counts.errors,
                    )

            def on_error(loop: str, error: BaseException) -> None:
                log.error("%s: %s: %s", loop, type(error).__name__, error)

            async with anyio.create_task_group() as group:
                group.start_soon(watch_signals)
                group.start_soon(report)
                group.start_soon(live.decisions.run, stop)
                typer.echo(
                    f"rooms worker: started (feeds: {', '.join(feeds) or 'none'}; "
                    f"poll every {engine.poll_seconds:g} s; notifications "
                    f"{'on' if messenger else 'off: no ROOMS_TELEGRAM_TOKEN'}; custody "
                    f"{'on, hot wallet ' + custody.hot_wallet if custody else 'off: no RPC URL'}). "
                    "SIGTERM or Ctrl-C stops it.",
                )
                await run_engine(
                    deps,
                    messenger,
                    stop,
                    engine,
                    counts,
                    on_error,
                    custody,
                )
                stop.set()  # run_engine ends only once stop is set; this wakes the rest
            for close in closers:
                await close()
            typer.echo(
                f"rooms worker: stopped after {counts.polls} polls, "
                f"{counts.instant_settlements} instant settlements, rooms moved {counts.outcomes}."
            )
    except StorageUnavailable as error:
        raise _NotReady(f"the database is unavailable: {error}") from None
