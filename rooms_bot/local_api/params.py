"""Reading a Bot API request's parameters the way Telegram does: query string, JSON body,
form-urlencoded or multipart/form-data (uploads), with JSON-valued fields decoded."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, hdrs, web
from aiohttp.multipart import MultipartResponseWrapper

from rooms_bot.local_api.errors import ApiError, bad_request
from rooms_bot.local_api.records import Upload

JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
        "menu_button",
    }
)
INT_PARAMS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
        "reply_to_message_id",
        "message_thread_id",
        "user_id",
    }
)
BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "has_spoiler",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "show_caption_above_media",
        "allow_paid_broadcast",
    }
)
_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
}


def normalize(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Form fields arrive as strings: decode JSON-valued ones, integers and booleans."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    reason = _JSON_ERRORS.get(key, f"can't parse {key} JSON object")
                    raise bad_request(reason) from None
            elif key in INT_PARAMS:
                try:
                    value = int(value)
                except ValueError:
                    raise bad_request(f"invalid {key} specified") from None
            elif key == "chat_id" and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in BOOL_PARAMS:
                value = value.strip().lower() in ("true", "1", "yes")
        params[key] = value
    return params


async def read_request(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            params.update(body)
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    params[key] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = value
    return normalize(params)


async def read_multipart(reader: MultipartReader | MultipartResponseWrapper) -> dict[str, Any]:
    """A multipart body (a webhook's answer carrying a method call) as parameters."""
    params: dict[str, Any] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = bytes(await part.read())
        if part.filename:
            content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
            params[part.name] = Upload(part.filename, content_type, data)
        else:
            params[part.name] = data.decode("utf-8")
    return normalize(params)


def resolve_file(params: Mapping[str, Any], key: str) -> Upload | str | None:
    """An InputFile parameter: an upload (sent under ``key`` or referenced as
    ``attach://name``), or a file_id / URL string."""
    value = params.get(key)
    if isinstance(value, str) and value.startswith("attach://"):
        attached = params.get(value[len("attach://") :])
        if not isinstance(attached, Upload):
            raise bad_request(f"file {value!r} is not attached to the request")
        return attached
    if value is None or isinstance(value, Upload | str):
        return value
    raise bad_request(f"wrong type of the parameter {key}")


def text_param(params: Mapping[str, Any], key: str) -> str | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise bad_request(f"field {key!r} must be of type String")
    return str(value)


def int_param(params: Mapping[str, Any], key: str, missing: str | None = None) -> int | None:
    value = params.get(key)
    if value is None or value == "":
        if missing is not None:
            raise bad_request(missing)
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request(f"invalid {key} specified")
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"invalid {key} specified") from None


def bool_param(params: Mapping[str, Any], key: str) -> bool:
    value = params.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


__all__ = [
    "ApiError",
    "bool_param",
    "int_param",
    "normalize",
    "read_multipart",
    "read_request",
    "resolve_file",
    "text_param",
]
