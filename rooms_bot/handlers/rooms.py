"""Active rooms: a paginated list and each room's card."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from returns.result import Failure

from rooms_bot.callbacks import Menu, MenuCb, RoomCb, RoomsPageCb
from rooms_bot.handlers.common import show
from rooms_bot.screens import room_card, rooms_page
from rooms_bot.services import BotServices
from rooms_bot.texts import error_text
from rooms_core.models import User
from rooms_core.services import admin, queries

router = Router(name="rooms")


async def _page(event: Message | CallbackQuery, services: BotServices, page: int) -> None:
    found = await queries.list_rooms(services.deps, page=page, per_page=services.rooms_per_page)
    await show(event, rooms_page(found))


@router.message(Command("rooms"))
async def on_rooms_command(message: Message, services: BotServices) -> None:
    await _page(message, services, 0)


@router.callback_query(MenuCb.filter(F.to == Menu.ROOMS))
async def on_rooms(callback: CallbackQuery, services: BotServices) -> None:
    await _page(callback, services, 0)


@router.callback_query(RoomsPageCb.filter())
async def on_rooms_page(
    callback: CallbackQuery, callback_data: RoomsPageCb, services: BotServices
) -> None:
    await _page(callback, services, callback_data.page)


async def show_room(
    event: Message | CallbackQuery,
    services: BotServices,
    account: User,
    room_id: int,
    *,
    notice: str | None = None,
    alert: bool = False,
) -> None:
    """The room's card as it is now (a pressed button of a finished room lands here too)."""
    view = await queries.room_view(services.deps, room_id=room_id)
    if isinstance(view, Failure):
        if isinstance(event, CallbackQuery):
            await event.answer(error_text(view.failure()), show_alert=True)
        else:
            await event.answer(error_text(view.failure()))
        return
    screen = room_card(
        view.unwrap(), services.deps.clock.now(), admin=admin.is_admin(services.deps, account.id)
    )
    await show(event, screen, notice=notice, alert=alert)


@router.callback_query(RoomCb.filter())
async def on_room(
    callback: CallbackQuery, callback_data: RoomCb, services: BotServices, account: User
) -> None:
    await show_room(callback, services, account, callback_data.room_id)


@router.message(Command("room"))
async def on_room_command(
    message: Message, command: CommandObject, services: BotServices, account: User
) -> None:
    raw = (command.args or "").strip().lstrip("#")
    if not raw.isdigit():
        await message.answer("Usage: <code>/room ROOM_ID</code>")
        return
    await show_room(message, services, account, int(raw))
