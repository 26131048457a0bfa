"""A small aiogram bot that shows off what the chat page renders (formatting, inline and
reply keyboards, edits, photos, alerts and toasts). ``python -m rooms_bot.local_api --demo``
runs it against the local server; it is no part of the ROOMS bot."""

from __future__ import annotations

import asyncio
import struct
import zlib

from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)


def gradient_png(width: int = 320, height: int = 180) -> bytes:
    """A PNG of a blue-green gradient, made without an imaging library."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            rows += bytes((40 + 80 * x // width, 120 + 100 * y // height, 220 - 60 * x // width))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(rows), 6))
        + chunk(b"IEND", b"")
    )


def menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="🎲 Count", callback_data="count:0"),
                InlineKeyboardButton(text="⚠️ Alert", callback_data="alert"),
            ],
            [InlineKeyboardButton(text="🖼 Photo", callback_data="photo")],
            [
                InlineKeyboardButton(
                    text="Telegram Bot API", url="https://core.telegram.org/bots/api"
                )
            ],
        ]
    )


def demo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        name = message.from_user.first_name if message.from_user else "there"
        referral = f"\nReferral code: <code>{command.args}</code>" if command.args else ""
        await message.answer(
            f"👋 Hello, <b>{name}</b>! This is the <i>local</i> Bot API server's demo bot."
            f"{referral}\n\n"
            "It renders <b>bold</b>, <i>italic</i>, <u>underline</u>, <s>strike</s>,"
            " <tg-spoiler>a spoiler</tg-spoiler>, <code>inline code</code>,"
            ' <a href="https://telegram.org">links</a> and commands like /help.\n'
            "<blockquote>A quote, as Telegram shows it.</blockquote>",
            reply_markup=menu(),
        )

    @dp.message(Command("help"))
    async def help_(message: Message) -> None:
        await message.answer(
            "<pre><code class=\"language-python\">await api.send_message(42, '/start')\n"
            "msg = await api.wait_for_message(42)</code></pre>"
            "Try /keyboard for a reply keyboard, /photo for a picture.",
        )

    @dp.message(Command("keyboard"))
    async def keyboard(message: Message) -> None:
        await message.answer(
            "Pick one:",
            reply_markup=ReplyKeyboardMarkup(
                keyboard=[
                    [KeyboardButton(text="Yes"), KeyboardButton(text="No")],
                    [KeyboardButton(text="Hide the keyboard")],
                ],
                resize_keyboard=True,
                input_field_placeholder="Yes or no?",
            ),
        )

    @dp.message(F.text == "Hide the keyboard")
    async def hide(message: Message) -> None:
        await message.answer("Keyboard hidden.", reply_markup=ReplyKeyboardRemove())

    @dp.message(Command("photo"))
    async def photo(message: Message) -> None:
        await send_photo(message)

    async def send_photo(message: Message) -> None:
        await message.answer_photo(
            BufferedInputFile(gradient_png(), "gradient.png"),
            caption="A <b>photo</b> uploaded with multipart/form-data.",
        )

    @dp.callback_query(F.data.startswith("count:"))
    async def count(query: CallbackQuery) -> None:
        assert query.data is not None
        assert isinstance(query.message, Message)
        n = int(query.data.split(":")[1]) + 1
        await query.answer(f"Counted to {n}")
        await query.message.edit_text(
            f"You pressed the button <b>{n}</b> time{'s' if n != 1 else ''}.",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text="🎲 Again", callback_data=f"count:{n}")],
                    [InlineKeyboardButton(text="« Menu", callback_data="menu")],
                ]
            ),
        )

    @dp.callback_query(F.data == "menu")
    async def back(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.answer()
        await query.message.edit_text("What next?", reply_markup=menu())

    @dp.callback_query(F.data == "alert")
    async def alert(query: CallbackQuery) -> None:
        await query.answer("This is an alert (show_alert=True).", show_alert=True)

    @dp.callback_query(F.data == "photo")
    async def photo_button(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.answer()
        await query.message.bot.send_chat_action(query.message.chat.id, "upload_photo")  # type: ignore[union-attr]
        await asyncio.sleep(0.6)
        await send_photo(query.message)

    @dp.message()
    async def echo(message: Message) -> None:
        await message.bot.send_chat_action(message.chat.id, "typing")  # type: ignore[union-attr]
        await asyncio.sleep(0.4)
        await message.answer(f"You said: {message.html_text}")

    return dp


async def run_demo_bot(base_url: str, token: str) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))
    await bot.set_my_commands(
        [
            BotCommand(command="start", description="Start over"),
            BotCommand(command="help", description="What the page can show"),
            BotCommand(command="keyboard", description="A reply keyboard"),
            BotCommand(command="photo", description="Send a photo"),
        ]
    )
    await demo_dispatcher().start_polling(bot, handle_signals=False, polling_timeout=20)
