"""The demo's composition (see :mod:`rooms_cli.demo`): every part of ROOMS in one process,
on in-memory storage, an in-process Solana (LiteSVM) and simulated prices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import anyio
import httpx
import uvicorn
from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from dependency_injector import providers
from fastapi import FastAPI
from returns.result import Success
from solders.keypair import Keypair

from rooms_adapters.memory.changes import InMemoryRoomChangeFeed
from rooms_adapters.memory.container import InMemoryContainer
from rooms_adapters.memory.figures import InMemoryPlatformFigures
from rooms_adapters.memory.price_history import InMemoryPriceHistory
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.solana.litesvm_chain import LiteSvmChain
from rooms_adapters.solana.local_signer import InMemoryKeyVault, LocalSigner, MasterKey
from rooms_adapters.system.clock import SystemClock
from rooms_adapters.system.tokens import SecretTokenSource
from rooms_adapters.telegram.messenger import TelegramMessenger
from rooms_api.app import create_app
from rooms_api.context import ApiPorts
from rooms_api.health import database_check
from rooms_api.settings import ApiSettings
from rooms_bot.app import build_dispatcher, create_bot, prepare
from rooms_bot.local_api import LocalBotApi
from rooms_bot.middlewares import Throttle
from rooms_bot.notifications import render_notification
from rooms_bot.services import BotServices
from rooms_core.events import DomainEvent, RoomCreated
from rooms_core.models import Asset, AssetKind, Comparator, Side, User
from rooms_core.ports.clock import Clock
from rooms_core.ports.prices import PriceSource
from rooms_core.ports.signer import Signer
from rooms_core.room import RoomState
from rooms_core.services import bets, queries, rooms, users, wallet
from rooms_core.services.custody import Custody
from rooms_core.services.deps import Deps
from rooms_core.services.workers import EngineSettings, run_engine
from rooms_core.settings import RoomsSettings
from rooms_sim.feeds import SimulatedFeed
from rooms_sim.prices import GeometricBrownianMotion

log = logging.getLogger("rooms.demo")

DEMO_TOKEN = "424242:ROOMS-DEMO-TOKEN"
BOT_USERNAME = "rooms_demo_bot"
FAUCET_AMOUNT = 10 * 10**9
HOT_WALLET_FLOAT = 20 * 10**9  # pays sweep fees and the first withdrawals
CROWD = ("Wally the whale", "Dana the degen", "Nico the noise trader", "Ines the informed")
CROWD_FUNDS = 500 * 10**9
DEMO_DURATIONS = (2, 3, 5, 15, 60)  # minutes: a demo room settles while you watch


@dataclass
class RunningDemo:
    chat_url: str
    api_url: str
    bot_api: LocalBotApi
    deps: Deps
    store: InMemoryStore
    chain: LiteSvmChain
    outside_address: str  # a wallet outside ROOMS, to try a withdrawal to
    stopped: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def running_demo(
    host: str = "127.0.0.1", port: int = 0, api_port: int = 0
) -> AsyncIterator[RunningDemo]:
    """Everything of the demo started (port 0: any free port), stopped on the way out."""
    clock = SystemClock()
    start = datetime.now(UTC)
    container = InMemoryContainer(start=start)
    container.clock.override(providers.Object(clock))
    container.tokens.override(providers.Object(SecretTokenSource()))
    container.settings.override(providers.Object(RoomsSettings(min_duration=timedelta(minutes=2))))
    container.price_sources.override(providers.Object(simulated_feeds(clock, start)))
    history = InMemoryPriceHistory()
    container.oracle_record.override(providers.Object(history.record))
    deps = container.deps()
    store = container.store()

    chain = LiteSvmChain()
    signer = LocalSigner(MasterKey(secrets.token_bytes(32)), InMemoryKeyVault())
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    await chain.fund(hot, HOT_WALLET_FLOAT)
    custody = Custody(chain, signer, hot)
    outside = str(Keypair().pubkey())

    app = create_app(
        deps,
        ApiSettings(bot_token=DEMO_TOKEN, title="ROOMS demo"),
        ApiPorts(
            changes=InMemoryRoomChangeFeed(store),
            prices=history,
            figures=InMemoryPlatformFigures(store),
            events=store.subscribers,
            checks={"database": database_check(deps)},
        ),
    )
    async with (
        LocalBotApi(
            token=DEMO_TOKEN, bot_username=BOT_USERNAME, bot_name="ROOMS demo", host=host, port=port
        ) as bot_api,
        httpx.AsyncClient(timeout=10.0) as http,
        serving(app, host, api_port) as api_url,
    ):
        bot = create_bot(DEMO_TOKEN, bot_api.base_url)
        services = BotServices(
            deps=deps,
            signer=signer,
            custody=custody,
            mini_app_url=f"{api_url}/app",
            duration_presets=DEMO_DURATIONS,
        )
        services = await prepare(bot, services)
        crowd = Crowd(deps, signer, chain)
        await crowd.join()
        dp = build_dispatcher(
            services,
            extra_routers=[faucet_router(chain, outside)],
            throttle=Throttle(rate=10, burst=30),  # a browser test clicks faster than people
        )
        stop = anyio.Event()
        running = RunningDemo(
            chat_url=bot_api.chat_url,
            api_url=api_url,
            bot_api=bot_api,
            deps=deps,
            store=store,
            chain=chain,
            outside_address=outside,
        )
        store.subscribers.append(crowd.on_event)
        tasks = [
            asyncio.create_task(
                dp.start_polling(
                    bot, handle_signals=False, close_bot_session=False, polling_timeout=10
                ),
                name="demo-bot",
            ),
            asyncio.create_task(
                run_engine(
                    deps,
                    TelegramMessenger(http, DEMO_TOKEN, bot_api.base_url),
                    stop,
                    EngineSettings(poll_seconds=3.0, custody_seconds=2.0),
                    on_error=lambda loop, error: log.warning("%s: %s", loop, error),
                    custody=custody,
                    render=render_notification,
                ),
                name="demo-engine",
            ),
            asyncio.create_task(crowd.keep_rooms_open(stop), name="demo-crowd"),
        ]
        try:
            yield running
        finally:
            stop.set()
            running.stopped.set()
            with contextlib.suppress(RuntimeError):  # polling had stopped already
                await dp.stop_polling()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, 10)
            crowd.stop()
            await bot.session.close()


@contextlib.asynccontextmanager
async def serving(app: FastAPI, host: str, port: int) -> AsyncIterator[str]:
    """The web API under uvicorn on ``host:port`` (0: a free port); its base URL."""
    with socket.socket() as probe:  # find the port first: uvicorn reports it only in logs
        probe.bind((host, port))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(), name="demo-api")
    while not server.started:
        if task.done():
            await task  # raises why it could not start
            raise OSError(f"the web API could not listen on {host}:{port}")
        await asyncio.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task


def simulated_feeds(clock: Clock, start: datetime) -> list[PriceSource]:
    """Three exchanges quoting SOL, BTC and ETH from random walks (a few tenths of a percent
    a minute), each with its own small noise."""
    rng = random.Random()
    models = {
        Asset(kind=AssetKind.COIN, id="SOL").key: GeometricBrownianMotion(150.0, 0.0, 2.5, rng),
        Asset(kind=AssetKind.COIN, id="BTC").key: GeometricBrownianMotion(95_000.0, 0.0, 1.5, rng),
        Asset(kind=AssetKind.COIN, id="ETH").key: GeometricBrownianMotion(3_300.0, 0.0, 2.0, rng),
    }
    return [
        SimulatedFeed(
            name,
            clock,
            start,
            models,
            random.Random(),
            noise_bps=3,
            stale_probability=0.0,
            outage_probability=0.0,
            outages=(),
            stale_by=timedelta(0),
        )
        for name in ("demo-exchange-a", "demo-exchange-b", "demo-exchange-c")
    ]


def faucet_router(chain: LiteSvmChain, outside: str) -> Router:
    """The demo's own command: /faucet sends demo SOL to the user's deposit address on the
    in-process chain (a real transfer: the deposit watcher credits it)."""
    router = Router(name="demo")

    @router.message(Command("faucet"))
    async def on_faucet(message: Message, services: BotServices, account: User) -> None:
        if account.deposit_address is None:
            await message.answer("Your deposit address is not ready yet; try /start.")
            return
        await chain.fund(account.deposit_address, FAUCET_AMOUNT)
        await message.answer(
            "🚰 10 demo SOL are on their way to your deposit address; they are credited in "
            "a few seconds.\n\nTo try a withdrawal, send some to this outside wallet:\n"
            f"<code>{outside}</code>"
        )

    return router


class Crowd:
    """Simulated players: they fund their wallets on chain, host a room when fewer than
    two are open, and bet on both sides of every new room (NO within seconds, YES half a
    minute later)."""

    def __init__(self, deps: Deps, signer: Signer, chain: LiteSvmChain) -> None:
        self.deps = deps
        self.signer = signer
        self.chain = chain
        self.user_ids: list[int] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._rng = random.Random()

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()

    async def join(self) -> None:
        for name in CROWD:
            # No Telegram id: the crowd has no chat, so nothing is ever sent to it.
            user = (await users.register_user(self.deps, telegram_id=None, username=name)).unwrap()
            address = (await self.signer.create_wallet(f"user:{user.id}")).unwrap()
            await users.set_deposit_address(self.deps, user_id=user.id, address=address)
            await self.chain.fund(address, CROWD_FUNDS)
            self.user_ids.append(user.id)

    def on_event(self, event: DomainEvent) -> None:
        if isinstance(event, RoomCreated):
            task = asyncio.get_running_loop().create_task(self._bet_on(event.room_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _bet_on(self, room_id: int) -> None:
        """Someone takes NO within seconds (so a room has an other side at once), someone
        else YES half a minute later."""
        first, second = self._rng.sample(self.user_ids, 2)
        for user_id, side, wait in ((first, Side.NO, (2, 5)), (second, Side.YES, (20, 40))):
            await asyncio.sleep(self._rng.uniform(*wait))
            if await wallet.balance(self.deps, user_id=user_id) < 10**9:
                continue  # not credited yet (the first seconds of the demo)
            await bets.place_bet(
                self.deps,
                user_id=user_id,
                room_id=room_id,
                side=side,
                stake=self._rng.choice((5, 10, 15, 20)) * 10**8,
                idempotency_key=f"crowd-{room_id}-{user_id}",
            )

    async def keep_rooms_open(self, stop: anyio.Event) -> None:
        """Host a room on a random coin whenever fewer than two are open."""
        while not stop.is_set():
            page = await queries.list_rooms(
                self.deps,
                states=[RoomState.QUEUING, RoomState.OPEN],
                per_page=5,
            )
            if len(page.rooms) < 2:
                symbol = self._rng.choice(("SOL", "BTC", "ETH"))
                price = await queries.current_price(
                    self.deps, asset=Asset(kind=AssetKind.COIN, id=symbol)
                )
                if isinstance(price, Success):
                    value = price.unwrap().value
                    up = self._rng.random() < 0.5
                    target = (value * Decimal("1.002" if up else "0.998")).quantize(Decimal("0.01"))
                    minutes = self._rng.choice((3, 5))
                    now = self.deps.clock.now()
                    await rooms.create_room(
                        self.deps,
                        host_id=self._rng.choice(self.user_ids),
                        spec=rooms.RoomSpec(
                            title=f"Will {symbol} be {'above' if up else 'below'} "
                            f"${target:,} within {minutes} minutes?",
                            asset_kind=AssetKind.COIN,
                            asset_id=symbol,
                            comparator=Comparator.GTE if up else Comparator.LTE,
                            target=target,
                            settle_at=now + timedelta(minutes=minutes),
                        ),
                    )
            with anyio.move_on_after(10):
                await stop.wait()
