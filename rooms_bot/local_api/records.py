"""What the local Bot API server records: the bot's calls, the chat's messages, buttons and
callback answers. All are plain dataclasses; messages are immutable snapshots."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded in a multipart request."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass
class ApiCall:
    """One request the bot made: the method as Telegram spells it, its parameters (JSON-valued
    ones such as ``reply_markup`` decoded, uploads as :class:`Upload`), when it arrived, and
    the HTTP status it was answered with (0 while it is still being handled)."""

    method: str
    params: dict[str, Any]
    at: datetime
    status: int = 0
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class Button:
    """An inline keyboard button. ``kind`` names its action field (``callback_data``,
    ``url``, ``web_app``, ``copy_text``, ``switch_inline_query`` ...)."""

    text: str
    callback_data: str | None = None
    url: str | None = None
    web_app_url: str | None = None
    kind: str = "callback_data"


@dataclass(frozen=True)
class ReplyKeyboard:
    """A reply keyboard (the custom keyboard under the input field): button texts by row."""

    rows: list[list[str]]
    resize: bool = False
    one_time: bool = False
    persistent: bool = False
    placeholder: str | None = None


@dataclass(frozen=True)
class CallbackAnswer:
    """The bot's answerCallbackQuery for one press."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None
    cache_time: int = 0
    message_id: int | None = None


@dataclass(frozen=True)
class ChatMessage:
    """One message of a private chat as it stood at one moment (new or after an edit).

    ``text``/``caption`` are what the user sees (tags stripped, HTML entities decoded);
    ``html`` is the text, or the caption, as sent with ``parse_mode=HTML`` (for other parse
    modes: the same formatting rendered as Telegram HTML); ``entities`` are Telegram's
    MessageEntity objects for it (UTF-16 offsets). ``photo`` holds an uploaded photo's bytes.
    """

    message_id: int
    chat_id: int
    text: str | None
    html: str | None
    caption: str | None
    photo: bytes | None
    buttons: list[list[Button]]
    reply_keyboard: ReplyKeyboard | None
    edits: int
    from_bot: bool
    date: datetime
    entities: list[dict[str, Any]] = field(default_factory=list, repr=False)
    photo_file_id: str | None = field(default=None, repr=False)
    photo_url: str | None = field(default=None, repr=False)
    removes_reply_keyboard: bool = field(default=False, repr=False)
    reply_to_message_id: int | None = field(default=None, repr=False)
    disable_notification: bool = field(default=False, repr=False)
    parse_mode: str | None = field(default=None, repr=False)
    edit_date: datetime | None = field(default=None, repr=False)
    seq: int = field(default=0, repr=False, compare=False)

    @property
    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]

    @property
    def button_texts(self) -> list[list[str]]:
        return [[button.text for button in row] for row in self.buttons]

    def button(self, text_substring: str) -> Button:
        """The inline button whose text is ``text_substring`` or, failing that, the only one
        whose text contains it; LookupError when none or several do."""
        buttons = self.all_buttons
        exact = [b for b in buttons if b.text == text_substring]
        if len(exact) == 1:
            return exact[0]
        found = [b for b in buttons if text_substring in b.text]
        if len(found) == 1:
            return found[0]
        texts = [b.text for b in buttons]
        problem = "no button" if not found else f"{len(found)} buttons"
        raise LookupError(
            f"message #{self.message_id}: {problem} with {text_substring!r} in the text;"
            f" its buttons: {texts}"
        )

    def callback_data_of(self, text_substring: str) -> str:
        """The callback_data of :meth:`button`; LookupError if that button has none."""
        button = self.button(text_substring)
        if button.callback_data is None:
            raise LookupError(
                f"message #{self.message_id}: button {button.text!r} is a {button.kind} button"
            )
        return button.callback_data

    @property
    def visible(self) -> str:
        """The text or the caption, whichever the message has (empty string if neither)."""
        return self.text if self.text is not None else (self.caption or "")
