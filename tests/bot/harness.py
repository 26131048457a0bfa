"""The bot end to end: the real dispatcher polling the local Bot API server over HTTP
through aiogram's own session, over the core services on the in-memory adapters.

A test talks as a user (``say``, ``tap``) and reads what the user sees; notifications go
out through the real dispatcher loop and the Telegram messenger to the same server.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage

from rooms_adapters.telegram.messenger import TelegramMessenger
from rooms_bot.app import build_dispatcher, create_bot, prepare, with_admins
from rooms_bot.local_api import ChatMessage, LocalBotApi
from rooms_bot.middlewares import Throttle
from rooms_bot.notifications import render_notification
from rooms_bot.services import BotServices
from rooms_core.money import sol
from rooms_core.ports.signer import Signer
from rooms_core.services import queries, wallet
from rooms_core.services.custody import Custody
from rooms_core.services.dispatch import DispatchSettings, SendRate, dispatch_due
from tests.support import Platform, ok

TOKEN = "123456:TEST-ROOMS-TOKEN"
BOT_USERNAME = "rooms_test_bot"


@dataclass
class BotHarness:
    api: LocalBotApi
    platform: Platform
    services: BotServices
    bot: Bot
    dp: Dispatcher
    http: httpx.AsyncClient
    _deposits: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- as a user ------------------------------------------------------------------

    async def say(
        self,
        user_id: int,
        text: str,
        *,
        expect: str | None = None,
        name: str | None = None,
    ) -> ChatMessage:
        """Send ``text`` as the user (named ``name`` the first time); the bot's next
        message (one containing ``expect``)."""
        update_id = await self.api.send_message(
            user_id,
            text,
            first_name=name,
            username=None if name is None else name.lower(),
        )
        return await self.api.wait_for_message(user_id, self._containing(expect), after=update_id)

    async def tap(self, user_id: int, message: ChatMessage, button: str) -> ChatMessage:
        """Press the button whose text contains ``button``; the message the bot shows next
        (usually the same one, edited)."""
        query_id = await self.api.press(user_id, message, message.button(button))
        shown = await self.api.wait_for_message(user_id, after=query_id)
        await self.answered(query_id)
        return shown

    async def tap_for_answer(self, user_id: int, message: ChatMessage, button: str) -> str:
        """Press a button that is answered with a toast or an alert only; its text."""
        query_id = await self.api.press(user_id, message, message.button(button))
        await self.answered(query_id)
        answer = next(a for a in self.api.callback_answers(user_id) if a.query_id == query_id)
        return answer.text or ""

    async def answered(self, query_id: str) -> None:
        """Wait until the bot answered this button press (it always must)."""
        await self.api.wait_for_callback_answer(query_id)

    def last_answer(self, user_id: int) -> str:
        answers = self.api.callback_answers(user_id)
        return (answers[-1].text or "") if answers else ""

    async def start(
        self, user_id: int, name: str | None = None, code: str | None = None
    ) -> ChatMessage:
        """/start (with a referral code); the main menu the user then sees."""
        text = "/start" if code is None else f"/start {code}"
        return await self.say(user_id, text, expect="Choose what to do", name=name)

    # --- behind the scenes ---------------------------------------------------------

    async def fund(self, telegram_id: int, amount: int = sol(10)) -> None:
        """A deposit to the user's address, credited as the deposit watcher would."""
        user = await queries.user_by_telegram_id(self.platform.deps, telegram_id=telegram_id)
        assert user is not None
        assert user.deposit_address is not None
        ok(
            await wallet.credit_deposit(
                self.platform.deps,
                address=user.deposit_address,
                signature=f"deposit-{next(self._deposits)}",
                instruction_index=0,
                amount=amount,
            )
        )

    async def balance(self, telegram_id: int) -> int:
        return await wallet.balance(self.platform.deps, user_id=await self.user_id_of(telegram_id))

    async def user_id_of(self, telegram_id: int) -> int:
        user = await queries.user_by_telegram_id(self.platform.deps, telegram_id=telegram_id)
        assert user is not None
        return user.id

    async def deliver_notifications(self) -> int:
        """Send the outbox through the dispatcher and the Telegram messenger (no rate wait:
        the virtual clock is moved past each chat's one-second spacing)."""
        messenger = TelegramMessenger(self.http, TOKEN, self.api.base_url)
        rate = SendRate(self.platform.clock, DispatchSettings())
        sent = 0
        for _ in range(50):
            report = await dispatch_due(
                self.services.deps, messenger, rate, render=render_notification
            )
            sent += report.sent
            async with self.services.deps.uow() as uow:
                waiting = await uow.outbox.pending_count()
            if waiting == 0:
                return sent
            self.platform.clock.advance(1.1)
        raise AssertionError("the outbox did not empty")

    @staticmethod
    def _containing(text: str | None) -> Callable[[ChatMessage], bool] | None:
        if text is None:
            return None
        return lambda m: text in (m.text or m.caption or "")


@asynccontextmanager
async def running_bot(
    platform: Platform,
    *,
    admins: Sequence[int] = (),
    custody: Custody | None = None,
    signer: Signer | None = None,
    storage: BaseStorage | None = None,
    isolation: BaseEventIsolation | None = None,
    throttle: Throttle | None = None,
    callback_query_timeout: float = 15.0,
) -> AsyncIterator[BotHarness]:
    """The bot polling a fresh local Bot API server; ``admins`` are Telegram ids."""
    async with LocalBotApi(
        token=TOKEN, bot_username=BOT_USERNAME, callback_query_timeout=callback_query_timeout
    ) as api:
        chosen_signer = signer or platform.container.signer()
        deps = await with_admins(platform.deps, chosen_signer, admins)
        platform.deps = deps
        services = BotServices(deps=deps, signer=chosen_signer, custody=custody)
        bot = create_bot(TOKEN, api.base_url)
        services = await prepare(bot, services)
        dp = build_dispatcher(
            services,
            storage=storage,
            events_isolation=isolation,
            throttle=throttle or Throttle(rate=1000, burst=1000),
        )
        polling = asyncio.create_task(
            dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
        )
        async with httpx.AsyncClient(timeout=10.0) as http:
            try:
                yield BotHarness(api, platform, services, bot, dp, http)
            finally:
                with contextlib.suppress(RuntimeError):  # polling may have ended already
                    await dp.stop_polling()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(polling, 5)
                await bot.session.close()
