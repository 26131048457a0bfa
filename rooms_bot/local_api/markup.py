"""reply_markup: inline keyboards (validated like Telegram: one action per button,
callback_data of 1-64 bytes), reply keyboards, their removal and force_reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rooms_bot.local_api.errors import bad_request
from rooms_bot.local_api.formatting import check_url
from rooms_bot.local_api.records import Button, ReplyKeyboard

ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass(frozen=True)
class Markup:
    """A parsed reply_markup. ``inline_json`` is the inline keyboard as Telegram echoes it in
    Message.reply_markup."""

    buttons: list[list[Button]]
    inline_json: dict[str, Any] | None = None
    reply_keyboard: ReplyKeyboard | None = None
    remove_keyboard: bool = False
    force_reply: bool = False


NO_MARKUP = Markup(buttons=[])


def _button_error(reason: str) -> Exception:
    return bad_request(f"can't parse inline keyboard button: {reason}")


def _inline_button(raw: object) -> tuple[Button, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    text = raw.get("text")
    if not isinstance(text, str):
        raise _button_error('Field "text" must be of type String')
    actions = [key for key in ACTIONS if raw.get(key) is not None]
    if not actions:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        # The Bot API documents "exactly one of the optional fields must be used"; the real
        # server silently takes the first it knows. Being strict here catches the bug.
        raise _button_error(
            f"exactly one of the optional fields must be used, found {', '.join(actions)}"
        )
    kind = actions[0]
    clean = {key: value for key, value in raw.items() if value is not None}
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    if kind == "callback_data":
        data = raw["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
        return Button(text, callback_data=data), clean
    if kind == "url":
        url = raw["url"]
        if not isinstance(url, str) or check_url(url) is None:
            raise bad_request("BUTTON_URL_INVALID")
        return Button(text, url=url, kind="url"), clean
    if kind == "web_app":
        web_app = raw["web_app"]
        url = web_app.get("url") if isinstance(web_app, dict) else None
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise bad_request(
                f"inline keyboard button Web App URL {url!r} is invalid: Only HTTPS links are"
                " allowed"
            )
        return Button(text, web_app_url=url, kind="web_app"), clean
    if kind == "login_url":
        login = raw["login_url"]
        url = login.get("url") if isinstance(login, dict) else None
        if not isinstance(url, str) or check_url(url) is None:
            raise bad_request("BUTTON_URL_INVALID")
        return Button(text, url=url, kind="login_url"), clean
    return Button(text, kind=kind), clean


def _rows(raw: object, field: str, owner: str) -> list[list[Any]]:
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        raise bad_request(f'field "{field}" of the {owner} should be an Array of Arrays')
    return raw


def parse_markup(raw: object) -> Markup:
    if raw is None:
        return NO_MARKUP
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = _rows(raw["inline_keyboard"], "inline_keyboard", "InlineKeyboardMarkup")
        buttons: list[list[Button]] = []
        echoed: list[list[dict[str, Any]]] = []
        for row in rows:
            parsed = [_inline_button(button) for button in row]
            if parsed:
                buttons.append([button for button, _ in parsed])
                echoed.append([clean for _, clean in parsed])
        if sum(len(row) for row in buttons) > 100:
            raise bad_request("REPLY_MARKUP_TOO_LONG")
        inline_json = {"inline_keyboard": echoed} if echoed else None
        return Markup(buttons=buttons, inline_json=inline_json)
    if "keyboard" in raw:
        rows = _rows(raw["keyboard"], "keyboard", "ReplyKeyboardMarkup")
        texts: list[list[str]] = []
        for row in rows:
            line: list[str] = []
            for button in row:
                text = button.get("text") if isinstance(button, dict) else button
                if not isinstance(text, str) or not text:
                    raise bad_request(
                        'can\'t parse keyboard button: Field "text" must be of type String'
                    )
                line.append(text)
            if line:
                texts.append(line)
        if not texts:
            raise bad_request("keyboard must be non-empty")
        keyboard = ReplyKeyboard(
            rows=texts,
            resize=bool(raw.get("resize_keyboard")),
            one_time=bool(raw.get("one_time_keyboard")),
            persistent=bool(raw.get("is_persistent")),
            placeholder=raw.get("input_field_placeholder"),
        )
        return Markup(buttons=[], reply_keyboard=keyboard)
    if raw.get("remove_keyboard"):
        return Markup(buttons=[], remove_keyboard=True)
    if raw.get("force_reply"):
        return Markup(buttons=[], force_reply=True)
    raise bad_request("can't parse reply keyboard markup JSON object")
