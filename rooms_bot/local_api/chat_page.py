"""The web chat page (``GET /chat``) and the JSON endpoints it plays the user through.

=====================================  =============================================================
``GET  /chat[?user=ID&name=NAME]``     the page (HTML, CSS and JS from ``static/``: no CDN)
``GET  /_user/info?user=ID``           the bot (id, name, username), its commands, the user, their
                                       reply keyboard, the last event number of the chat
``POST /_user/send``                   ``{"user": ID, "text": ..., "first_name"?, "username"?,
                                       "language_code"?}`` -> ``{"update_id": N}``
``POST /_user/press``                  ``{"user": ID, "message_id": N, "callback_data": ...}``
                                       -> ``{"query_id": ...}``
``GET  /_user/feed?user=ID&after=SEQ`` long poll (``timeout`` s, default 25, at most 60): the
                                       chat's events after SEQ: ``message`` (either side), ``edit``,
                                       ``delete``, ``press``, ``answer`` (callback answers with
                                       ``text``/``show_alert``), ``action`` (typing ...)
``GET  /_user/webapp?user=ID&url=URL`` opens a ``web_app`` button's page as Telegram does: a
                                       redirect to URL with ``#tgWebAppData=<signed initData>``
``GET  /file/photo/FILE_ID``           an uploaded photo
=====================================  =============================================================

Errors answer ``{"error": "..."}`` with status 400 (a bad request) or 404 (no such chat,
message or button).
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

if TYPE_CHECKING:
    from rooms_bot.local_api.server import LocalBotApi

ASSETS = {
    "chat.css": "text/css",
    "chat.js": "text/javascript",
    "favicon.svg": "image/svg+xml",
}


def _asset(name: str) -> bytes:
    return (resources.files("rooms_bot.local_api") / "static" / name).read_bytes()


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _user_id(raw: object) -> int:
    try:
        user_id = int(str(raw))
    except ValueError:
        raise ValueError("user must be a positive integer") from None
    if user_id <= 0:
        raise ValueError("user must be a positive integer")
    return user_id


def add_page_routes(app: web.Application, api: LocalBotApi) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(
            body=_asset("chat.html"),
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ASSETS:
            return _error(404, "no such asset")
        return web.Response(
            body=_asset(name), content_type=ASSETS[name], headers={"Cache-Control": "no-store"}
        )

    async def body_of(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise ValueError("the body must be a JSON object") from None
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return body

    async def info(request: web.Request) -> web.Response:
        raw = request.query.get("user")
        try:
            user_id = _user_id(raw) if raw else None
        except ValueError as error:
            return _error(400, str(error))
        return web.json_response(api.page_info(user_id))

    async def send(request: web.Request) -> web.Response:
        try:
            body = await body_of(request)
            user_id = _user_id(body.get("user"))
            text = body.get("text")
            if not isinstance(text, str):
                raise ValueError("text must be a string")
            update_id = await api.send_message(
                user_id,
                text,
                first_name=_optional(body, "first_name"),
                last_name=_optional(body, "last_name"),
                username=_optional(body, "username"),
                language_code=_optional(body, "language_code"),
            )
        except ValueError as error:
            return _error(400, str(error))
        return web.json_response({"update_id": update_id})

    async def press(request: web.Request) -> web.Response:
        try:
            body = await body_of(request)
            user_id = _user_id(body.get("user"))
            message_id = body.get("message_id")
            data = body.get("callback_data")
            if not isinstance(message_id, int) or not isinstance(data, str):
                raise ValueError("message_id (an integer) and callback_data (a string) are needed")
        except ValueError as error:
            return _error(400, str(error))
        try:
            query_id = await api.press(user_id, message_id, data)
        except LookupError as error:
            return _error(404, str(error).split("; transcript")[0])
        return web.json_response({"query_id": query_id})

    async def feed(request: web.Request) -> web.Response:
        try:
            user_id = _user_id(request.query.get("user"))
            after = int(request.query.get("after", "0"))
            timeout = min(max(float(request.query.get("timeout", "25")), 0.0), 60.0)
        except ValueError as error:
            return _error(400, str(error))
        events = await api.feed(user_id, after, timeout)
        return web.json_response({"events": events})

    async def webapp(request: web.Request) -> web.Response:
        try:
            user_id = _user_id(request.query.get("user"))
        except ValueError as error:
            return _error(400, str(error))
        target = request.query.get("url", "")
        if not target.startswith(("http://", "https://")):
            return _error(400, "url must be an http(s) URL")
        try:
            init_data = api.web_app_init_data(user_id)
        except LookupError:
            return _error(404, "no such chat")
        fragment = urlencode({"tgWebAppData": init_data, "tgWebAppVersion": "8.0",
                              "tgWebAppPlatform": "web"})  # fmt: skip
        # Set as it is: aiohttp's HTTPFound would re-quote the fragment (yarl decodes the
        # %26 inside tgWebAppData back to "&", cutting the initData short).
        location = f"{target.split('#', 1)[0]}#{fragment}"
        return web.Response(status=302, headers={"Location": location})

    app.router.add_get("/chat", page)
    app.router.add_get("/_user/webapp", webapp)
    app.router.add_get("/chat/{name}", asset)
    app.router.add_get("/_user/info", info)
    app.router.add_post("/_user/send", send)
    app.router.add_post("/_user/press", press)
    app.router.add_get("/_user/feed", feed)


def _optional(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value
