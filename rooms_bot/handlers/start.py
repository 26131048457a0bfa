"""/start (sign-up, deep-link referrals), the main menu, help, /cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from rooms_bot.callbacks import Menu, MenuCb
from rooms_bot.handlers.common import balance_of, show
from rooms_bot.screens import help_screen, main_menu
from rooms_bot.services import BotServices
from rooms_bot.texts import t
from rooms_core.models import User
from rooms_core.services import queries, users
from rooms_core.services.retry import retrying

router = Router(name="start")


@router.message(CommandStart(), flags={"public": True})
async def on_start(
    message: Message, command: CommandObject, services: BotServices, state: FSMContext
) -> None:
    sender = message.from_user
    if sender is None:
        return
    await state.clear()
    code = (command.args or "").strip() or None

    async def sign_up() -> users.SignUp:
        return await users.sign_up(
            services.deps,
            services.signer,
            telegram_id=sender.id,
            username=sender.username or sender.first_name,
            referral_code=code,
        )

    done = await retrying(sign_up)
    user = done.user
    if done.created:
        lines = [
            t("start.welcome", name=sender.first_name, address=user.deposit_address)
            if user.deposit_address
            else t("start.welcome_no_wallet", name=sender.first_name)
        ]
        if done.referral_error is not None:
            lines.append(t("start.bad_code"))
        elif user.referrer_id is not None:
            referrer = await queries.get_user(services.deps, user_id=user.referrer_id)
            name = (referrer.username if referrer else None) or "a friend"
            lines.append(t("start.referred", referrer=name))
        await message.answer("\n\n".join(lines))
    await _menu(message, services, user)


async def _menu(event: Message | CallbackQuery, services: BotServices, user: User) -> None:
    balance = await balance_of(services, user.id)
    await show(event, main_menu(balance, services.mini_app_url))


@router.message(Command("menu"))
async def on_menu_command(message: Message, services: BotServices, account: User) -> None:
    await _menu(message, services, account)


@router.callback_query(MenuCb.filter(F.to == Menu.HOME))
async def on_menu(
    callback: CallbackQuery, services: BotServices, account: User, state: FSMContext
) -> None:
    await state.clear()
    await _menu(callback, services, account)


@router.message(Command("help"), flags={"public": True})
async def on_help_command(message: Message, services: BotServices) -> None:
    await show(message, help_screen(services.deps.settings))


@router.callback_query(MenuCb.filter(F.to == Menu.HELP), flags={"public": True})
async def on_help(callback: CallbackQuery, services: BotServices) -> None:
    await show(callback, help_screen(services.deps.settings))


@router.message(Command("cancel"), flags={"public": True})
async def on_cancel(
    message: Message, state: FSMContext, services: BotServices, account: User | None
) -> None:
    had_flow = await state.get_state() is not None
    await state.clear()
    await message.answer(t("cancel.done") if had_flow else t("cancel.nothing"))
    if account is not None:
        await _menu(message, services, account)


fallback = Router(name="fallback")


@fallback.message(flags={"public": True})
async def on_anything_else(message: Message) -> None:
    await message.answer(t("unknown_input"))


@fallback.callback_query(flags={"public": True})
async def on_stale_button(callback: CallbackQuery) -> None:
    await callback.answer(t("stale"), show_alert=True)
