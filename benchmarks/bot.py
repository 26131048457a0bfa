"""The bot under a storm of button presses: ``--users`` users each press "Confirm" on a bet
confirmation at the same moment, through the local Bot API server over HTTP (long polling,
aiogram's own session), the real dispatcher, middlewares and handlers, and the core's
``place_bet`` on the in-memory adapters.

Checked, not assumed: every press is answered exactly once, every user's bet is placed
exactly once, the books balance. Printed: updates/s, and the p50/p99 latency both inside
the bot (handler, from the update's arrival in the dispatcher to its return) and end to end
(from the press to the callback answer recorded by the server). The baseline, measured in
the same run on the same server: a bare aiogram bot that only answers each press.

    python -m benchmarks.bot [--users 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup

from rooms_bot.app import create_bot
from rooms_bot.local_api import ChatMessage, LocalBotApi
from rooms_bot.screens import bet_confirmation
from rooms_core.models import Comparator, Side
from rooms_core.money import sol
from rooms_core.parimutuel import quote_bet
from rooms_core.services import rooms, users, wallet
from tests.bot.harness import TOKEN, running_bot
from tests.support import SOL, ok

FIRST_USER = 100_000


@dataclass(frozen=True, slots=True)
class Storm:
    presses: int
    seconds: float
    handler_ms: list[float]
    end_to_end_ms: list[float]
    answered_once: bool
    bets_placed: int
    books_balance: bool

    @property
    def rate(self) -> float:
        return self.presses / self.seconds

    def describe(self, name: str) -> str:
        def pct(values: list[float], q: int) -> float:
            return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

        inside = ""
        if self.handler_ms:
            p50, p99 = pct(self.handler_ms, 50), pct(self.handler_ms, 99)
            inside = f"handler p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
        return (
            f"{name}: {self.presses:,} presses in {self.seconds:.2f} s = {self.rate:,.0f} "
            f"updates/s; {inside}press to answer p50 {pct(self.end_to_end_ms, 50):.1f} ms, "
            f"p99 {pct(self.end_to_end_ms, 99):.1f} ms"
        )


class HandlerTimer:
    """An outer middleware timing each button press inside the bot."""

    def __init__(self) -> None:
        self.ms: list[float] = []

    async def __call__(
        self,
        handler: Callable[[Any, dict[str, Any]], Awaitable[Any]],
        event: Any,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            self.ms.append((time.perf_counter() - started) * 1000)


async def press_all(api: LocalBotApi, targets: dict[int, ChatMessage], label: str) -> Storm:
    """Every user presses the button labelled ``label`` at once; waits for every answer."""
    latencies: list[float] = []

    async def one(user_id: int, message: ChatMessage) -> str:
        started = time.perf_counter()
        query = await api.press(user_id, message, message.button(label))
        await api.wait_for_callback_answer(query, timeout=120)
        latencies.append((time.perf_counter() - started) * 1000)
        return query

    started = time.perf_counter()
    queries = await asyncio.gather(*(one(u, m) for u, m in targets.items()))
    seconds = time.perf_counter() - started
    answers = [a.query_id for u in targets for a in api.callback_answers(u)]
    once = sorted(answers) == sorted(queries) and not api.pending_callback_queries()
    return Storm(len(queries), seconds, [], latencies, once, 0, True)


async def rooms_bot_storm(n_users: int) -> Storm:
    from tests.support import make_platform

    platform = make_platform()
    # Telegram's 15 s for answering a press is not what this measures: on a loaded machine
    # the last of a thousand answers may come later, and must still count.
    async with running_bot(platform, callback_query_timeout=300) as harness:
        deps, signer, api = platform.deps, harness.services.signer, harness.api
        host = (await users.sign_up(deps, signer, telegram_id=FIRST_USER - 1)).user
        spec = rooms.RoomSpec(
            title="Storm room",
            asset_kind=SOL.kind,
            asset_id=SOL.id,
            comparator=Comparator.GTE,
            target=Decimal(200),
            settle_at=platform.clock.now() + timedelta(hours=2),
        )
        room = ok(await rooms.create_room(deps, host_id=host.id, spec=spec))
        targets: dict[int, ChatMessage] = {}
        for n in range(n_users):
            telegram_id = FIRST_USER + n
            user = (await users.sign_up(deps, signer, telegram_id=telegram_id)).user
            assert user.deposit_address is not None
            ok(await wallet.credit_deposit(deps, address=user.deposit_address,
                                           signature=f"storm-{n}", instruction_index=0,
                                           amount=sol(1)))  # fmt: skip
            api.add_user(telegram_id, first_name=f"User{n}")
            side = Side.YES if n % 2 else Side.NO
            screen = bet_confirmation(
                room, side, quote_bet(0, 0, side, sol("0.1"), room.fee_bps), f"n{n:09d}"
            )
            sent = await harness.bot.send_message(
                telegram_id, screen.text, reply_markup=screen.markup
            )
            targets[telegram_id] = next(
                m for m in api.messages(telegram_id) if m.message_id == sent.message_id
            )
        timer = HandlerTimer()
        harness.dp.callback_query.outer_middleware(timer)
        storm = await press_all(api, targets, "Confirm")
        books = platform.store.books_checks()
        return Storm(
            storm.presses,
            storm.seconds,
            timer.ms,
            storm.end_to_end_ms,
            storm.answered_once,
            len(platform.store.bets),
            all(books.values()),
        )


async def bare_bot_storm(n_users: int) -> Storm:
    """The baseline: an aiogram bot whose only handler answers the press."""
    async with LocalBotApi(token=TOKEN, bot_username="bare_bot", callback_query_timeout=300) as api:
        bot: Bot = create_bot(TOKEN, api.base_url)
        dp = Dispatcher()

        @dp.callback_query()
        async def answer(callback: CallbackQuery) -> None:
            await callback.answer("ok")

        polling = asyncio.create_task(
            dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
        )
        try:
            markup = InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Confirm", callback_data="c")]]
            )
            targets: dict[int, ChatMessage] = {}
            for n in range(n_users):
                telegram_id = FIRST_USER + n
                api.add_user(telegram_id, first_name=f"User{n}")
                sent = await bot.send_message(telegram_id, "Press", reply_markup=markup)
                targets[telegram_id] = next(
                    m for m in api.messages(telegram_id) if m.message_id == sent.message_id
                )
            return await press_all(api, targets, "Confirm")
        finally:
            await dp.stop_polling()
            await polling
            await bot.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="button presses through the bot")
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()
    baseline = asyncio.run(bare_bot_storm(args.users))
    storm = asyncio.run(rooms_bot_storm(args.users))
    print(baseline.describe("baseline (bare aiogram bot, answers only)"))
    print(storm.describe("rooms bot (confirm a bet: place_bet, edit, answer)"))
    print(f"ratio to the baseline: {storm.rate / baseline.rate:.2f}")
    print(
        f"every press answered exactly once: {storm.answered_once and baseline.answered_once}; "
        f"bets placed {storm.bets_placed:,} of {args.users:,}; books balance: {storm.books_balance}"
    )


if __name__ == "__main__":
    main()
