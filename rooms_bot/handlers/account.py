"""Referrals (code, share link, people and earnings per level) and My bets."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from rooms_bot.callbacks import Menu, MenuCb
from rooms_bot.handlers.common import show
from rooms_bot.screens import my_bets, referrals
from rooms_bot.services import BotServices
from rooms_core.models import User
from rooms_core.services import queries, users

router = Router(name="account")


async def _referrals(event: Message | CallbackQuery, services: BotServices, account: User) -> None:
    stats = await users.referral_stats(services.deps, user_id=account.id)
    await show(event, referrals(stats.unwrap(), services.bot_username, services.deps.settings))


@router.message(Command("referrals"))
async def on_referrals_command(message: Message, services: BotServices, account: User) -> None:
    await _referrals(message, services, account)


@router.callback_query(MenuCb.filter(F.to == Menu.REFERRALS))
async def on_referrals(callback: CallbackQuery, services: BotServices, account: User) -> None:
    await _referrals(callback, services, account)


async def _my_bets(event: Message | CallbackQuery, services: BotServices, account: User) -> None:
    await show(event, my_bets(await queries.user_bets(services.deps, user_id=account.id)))


@router.message(Command("mybets"))
async def on_my_bets_command(message: Message, services: BotServices, account: User) -> None:
    await _my_bets(message, services, account)


@router.callback_query(MenuCb.filter(F.to == Menu.MY_BETS))
async def on_my_bets(callback: CallbackQuery, services: BotServices, account: User) -> None:
    await _my_bets(callback, services, account)
