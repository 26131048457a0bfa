"""What handlers share: showing a screen in answer to a message or a button press."""

from __future__ import annotations

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from rooms_bot.screens import Screen
from rooms_bot.services import BotServices
from rooms_bot.texts import TELEGRAM_ALERT_LIMIT
from rooms_core.services import wallet


async def show(
    event: Message | CallbackQuery,
    screen: Screen,
    *,
    notice: str | None = None,
    alert: bool = False,
    new_message: bool = False,
) -> None:
    """Answer a message with a new message; answer a button press by editing the message
    the button belongs to (or with a new message when it cannot be edited, e.g. a photo),
    then answer the press (``notice`` shows a toast, or an alert with ``alert``)."""
    if isinstance(event, Message):
        await event.answer(screen.text, reply_markup=screen.markup)
        return
    message = event.message
    edited = False
    if not new_message and isinstance(message, Message) and message.text is not None:
        try:
            await message.edit_text(screen.text, reply_markup=screen.markup)
            edited = True
        except TelegramBadRequest as error:
            if "message is not modified" in error.message:
                edited = True
            elif "can't be edited" not in error.message and "not found" not in error.message:
                raise
    if not edited and event.bot is not None:
        await event.bot.send_message(event.from_user.id, screen.text, reply_markup=screen.markup)
    await event.answer(None if notice is None else notice[:TELEGRAM_ALERT_LIMIT], show_alert=alert)


def nonce(services: BotServices) -> str:
    """A fresh idempotency key for a confirmation button (10 unguessable characters)."""
    return services.deps.tokens.token(10)


async def balance_of(services: BotServices, user_id: int) -> int:
    return await wallet.balance(services.deps, user_id=user_id)


TYPED = F.text & ~F.text.startswith("/")
"""A typed answer to a form's question: text that is not a command (a command typed inside
a form goes to its own handler)."""
