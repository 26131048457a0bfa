"""Local Telegram Bot API server (docs: see the end of this docstring)."""

from rooms_bot.local_api.errors import ApiError
from rooms_bot.local_api.records import (
    ApiCall,
    Button,
    CallbackAnswer,
    ChatMessage,
    ReplyKeyboard,
    Upload,
)
from rooms_bot.local_api.server import LocalBotApi

__all__ = [
    "ApiCall",
    "ApiError",
    "Button",
    "CallbackAnswer",
    "ChatMessage",
    "LocalBotApi",
    "ReplyKeyboard",
    "Upload",
]
