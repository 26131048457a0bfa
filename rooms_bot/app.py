"""The bot's composition: the aiogram ``Bot`` (HTML by default, waiting out Telegram's 429s),
the ``Dispatcher`` with its middlewares and routers, and what it learns at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import structlog
from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramRetryAfter
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import BotCommand

from rooms_bot.handlers import account, admin, bets, create, rooms, start, wallet
from rooms_bot.middlewares import AccountMiddleware, ErrorBoundary, Throttle
from rooms_bot.services import BotServices
from rooms_core.ports.signer import Signer
from rooms_core.services import users
from rooms_core.services.deps import Deps
from rooms_core.services.retry import retrying

log = structlog.get_logger("rooms.bot")

COMMANDS = (
    ("start", "Menu (and sign up)"),
    ("rooms", "Active rooms"),
    ("mybets", "My bets"),
    ("wallet", "Balance, deposit, withdraw"),
    ("referrals", "Invite friends, see earnings"),
    ("help", "How ROOMS works"),
    ("cancel", "Leave the current form"),
)


class WaitOutFloodControl(BaseRequestMiddleware):
    """A request answered 429 (flood control) is sent again after ``retry_after`` seconds,
    up to ``attempts`` times and never waiting longer than ``longest`` seconds at once."""

    def __init__(self, attempts: int = 3, longest: float = 60.0) -> None:
        self.attempts = attempts
        self.longest = longest

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.attempts or error.retry_after > self.longest:
                    raise
                log.warning(
                    "flood control: waiting",
                    method=type(method).__name__,
                    retry_after=error.retry_after,
                )
                await asyncio.sleep(error.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover


_RESPONSE_MODELS: dict[Any, Any] = {}


class KeepResponseModels(BaseRequestMiddleware):
    """aiogram reads every answer with the generic model ``Response[T]``; pydantic caches
    parametrised generics only weakly, so under load they are collected and rebuilt at
    about 10 ms each (measured: a third of the bot's time in benchmarks/bot.py). Keeping one
    strong reference per answer type makes the cache hold."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _RESPONSE_MODELS:
            _RESPONSE_MODELS[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)


def create_bot(token: str, api_base: str | None = None) -> Bot:
    """A bot on Telegram's Bot API, or on another server with that API (a local one)."""
    session = (
        AiohttpSession(api=TelegramAPIServer.from_base(api_base.rstrip("/")))
        if api_base
        else AiohttpSession()
    )
    session.middleware(KeepResponseModels())
    session.middleware(WaitOutFloodControl())
    return Bot(
        token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML, link_preview_is_disabled=True),
    )


def build_dispatcher(
    services: BotServices,
    *,
    storage: BaseStorage | None = None,
    events_isolation: BaseEventIsolation | None = None,
    throttle: Throttle | None = None,
    extra_routers: Sequence[Router] = (),
) -> Dispatcher:
    """The dispatcher with every router. ``storage`` keeps the forms' state (memory by
    default, Redis for several replicas); ``events_isolation`` handles one user's updates
    one at a time (so a double press cannot run a step twice). ``extra_routers`` (a
    deployment's own commands, e.g. the demo's faucet) come before the catch-all."""
    dp = Dispatcher(
        storage=storage or MemoryStorage(),
        events_isolation=events_isolation or SimpleEventIsolation(),
    )
    dp["services"] = services
    dp.update.outer_middleware(ErrorBoundary())
    throttle = throttle or Throttle()
    dp.message.outer_middleware(throttle)
    dp.callback_query.outer_middleware(throttle)
    dp.message.middleware(AccountMiddleware())
    dp.callback_query.middleware(AccountMiddleware())
    dp.include_routers(
        *(
            _fresh(r)
            for r in (
                start.router,  # commands first: /cancel and /start work inside any form
                rooms.router,
                bets.router,
                create.router,
                wallet.router,
                account.router,
                admin.router,
            )
        ),
        *extra_routers,
        _fresh(start.fallback),  # last: anything no one else took
    )
    return dp


def _fresh(router: Router) -> Router:
    """A new router with the handlers a feature module declared on its own ``router``: a
    router can be attached to one dispatcher only, and a process may run several (tests,
    the demo, replicas)."""
    copy = Router(name=router.name)
    for name, observer in router.observers.items():
        copy.observers[name].handlers.extend(observer.handlers)
    return copy


async def prepare(bot: Bot, services: BotServices) -> BotServices:
    """Learn the bot's username (for referral links) and publish its command list."""
    me = await bot.get_me()
    await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in COMMANDS])
    return replace(services, bot_username=me.username or services.bot_username)


async def with_admins(deps: Deps, signer: Signer, telegram_ids: Sequence[int]) -> Deps:
    """The deps with the operators' Telegram ids as admins: each is registered (like a
    /start) so that alerts reach their chat and the core's admin checks know them."""
    admin_ids: list[int] = []
    for telegram_id in telegram_ids:

        async def sign_up(telegram_id: int = telegram_id) -> users.SignUp:
            return await users.sign_up(deps, signer, telegram_id=telegram_id)

        admin_ids.append((await retrying(sign_up)).user.id)
    merged = tuple(dict.fromkeys((*deps.settings.admin_user_ids, *admin_ids)))
    return replace(deps, settings=deps.settings.model_copy(update={"admin_user_ids": merged}))
