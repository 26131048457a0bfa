"""Cross-cutting concerns of every update, as aiogram middlewares (never in handlers):

* :class:`ErrorBoundary` (outer, on every update): gives the update a trace id for the logs
  and catches whatever a handler did not expect, logging it with the trace id and telling
  the user that something went wrong — never a traceback.
* :class:`Throttle` (outer, on messages and button presses): at most ``rate`` updates a
  second per user (a burst of ``burst``); the rest are answered "slow down" and dropped.
* :class:`AccountMiddleware` (inner): the ROOMS user behind the Telegram user, as
  ``account``; a handler not flagged ``public`` is only called for registered users.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from rooms_adapters.system.logs import traced
from rooms_bot.services import BotServices
from rooms_bot.texts import TELEGRAM_ALERT_LIMIT, t
from rooms_core.services import queries

log = structlog.get_logger("rooms.bot")

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _chat_of(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None and update.callback_query.from_user is not None:
        return update.callback_query.from_user.id
    return None


class ErrorBoundary(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        with (
            traced() as trace_id,
            structlog.contextvars.bound_contextvars(update_id=event.update_id),
        ):
            data["trace_id"] = trace_id
            try:
                return await handler(event, data)
            except TelegramBadRequest as error:
                if "message is not modified" in error.message:
                    return None  # a second press of Refresh: nothing changed, nothing to say
                log.exception("telegram refused a request", error=error.message, trace_id=trace_id)
                await self._apologise(data.get("bot"), event, trace_id)
            except Exception:
                log.exception("update failed", trace_id=trace_id)
                await self._apologise(data.get("bot"), event, trace_id)
        return None

    @staticmethod
    async def _apologise(bot: Bot | None, update: Update, trace_id: str) -> None:
        chat_id = _chat_of(update)
        if bot is None or chat_id is None:
            return
        try:
            if update.callback_query is not None:
                await bot.answer_callback_query(update.callback_query.id)
            await bot.send_message(chat_id, t("unexpected", trace_id=trace_id))
        except Exception:  # telling the user failed too: the log has it
            log.exception("could not tell the user about a failure")


@dataclass
class Throttle(BaseMiddleware):
    """A token bucket per Telegram user: ``rate`` tokens a second, at most ``burst``."""

    rate: float = 3.0
    burst: int = 6
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[int, tuple[float, float]] = field(default_factory=dict)

    def allow(self, user_id: int) -> bool:
        now = self.clock()
        tokens, at = self._buckets.get(user_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return False
        self._buckets[user_id] = (tokens - 1, now)
        if len(self._buckets) > 100_000:  # forget idle users (full buckets)
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.burst - 1}
        return True

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        if user is None or self.allow(user.id):
            return await handler(event, data)
        log.info("throttled", user_id=user.id)
        if isinstance(event, CallbackQuery):
            await event.answer(t("throttled")[:TELEGRAM_ALERT_LIMIT])
        return None


class AccountMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        services: BotServices = data["services"]
        user = data.get("event_from_user")
        account = (
            None
            if user is None
            else await queries.user_by_telegram_id(services.deps, telegram_id=user.id)
        )
        data["account"] = account
        if account is None and not get_flag(data, "public", default=False):
            if isinstance(event, CallbackQuery):
                await event.answer(t("start.need"), show_alert=True)
            elif isinstance(event, Message):
                await event.answer(t("start.need"))
            return None
        return await handler(event, data)
