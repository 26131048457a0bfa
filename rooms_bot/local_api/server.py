"""The local Bot API server: Telegram's HTTP interface for the bot, a Python interface for the
test or benchmark that plays the users, and JSON endpoints for the web chat page."""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import hmac
import itertools
import json
import math
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from rooms_bot.local_api import formatting as fmt
from rooms_bot.local_api.errors import ApiError, bad_request, injected, too_many_requests
from rooms_bot.local_api.markup import NO_MARKUP, Markup, parse_markup
from rooms_bot.local_api.params import (
    bool_param,
    int_param,
    read_multipart,
    read_request,
    resolve_file,
    text_param,
)
from rooms_bot.local_api.records import (
    ApiCall,
    Button,
    CallbackAnswer,
    ChatMessage,
    ReplyKeyboard,
    Upload,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
# What Telegram sends when allowed_updates is empty or was never given.
DEFAULT_UPDATE_TYPES = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the"
    " same as a current content and reply markup of the message"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to"
    " delete the webhook first"
)
POLLING_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is"
    " running"
)
BLOCKED = "Forbidden: bot was blocked by the user"
# Methods that count against the optional per-chat flood limit.
FLOOD_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageReplyMarkup"}
)
_TOKEN = re.compile(r"(\d+):[A-Za-z0-9_-]+")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    data: bytes | None
    url: str | None
    width: int
    height: int
    content_type: str
    path: str

    def photo_json(self) -> list[dict[str, Any]]:
        size: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
        }
        if self.data is not None:
            size["file_size"] = len(self.data)
        return [size]


def image_info(data: bytes) -> tuple[str, int, int] | None:
    """(content type, width, height) of a PNG, JPEG, GIF or WebP image; None otherwise."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return "image/png", width, height
    if data.startswith(b"GIF8") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return "image/gif", width, height
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp", 0, 0
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                i += 1
                continue
            marker = data[i + 1]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return "image/jpeg", width, height
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            i += 2 + length
        return "image/jpeg", 0, 0
    return None


@dataclass
class _Msg:
    """A message as the server keeps it (mutable; edits change it)."""

    message_id: int
    chat_id: int
    from_bot: bool
    sender: dict[str, Any]
    date: int
    text: str | None = None
    entities: list[fmt.Entity] = field(default_factory=list)
    html: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    caption_entities: list[fmt.Entity] = field(default_factory=list)
    photo: _File | None = None
    markup: Markup = NO_MARKUP
    reply_to: int | None = None
    link_preview: dict[str, Any] | None = None
    disable_notification: bool = False
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False
    current: ChatMessage | None = None


@dataclass(frozen=True)
class _Event:
    seq: int
    kind: str  # message | edit | delete | press | answer | action
    at: float
    message: ChatMessage | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Chat:
    id: int
    user: dict[str, Any]
    chat_instance: str
    messages: dict[int, _Msg] = field(default_factory=dict)
    events: list[_Event] = field(default_factory=list)
    event_seqs: list[int] = field(default_factory=list)
    cursor: int = 0
    waiters: list[asyncio.Future[None]] = field(default_factory=list)
    next_message_id: int = 1
    reply_keyboard: ReplyKeyboard | None = None
    blocked: bool = False
    answers: list[CallbackAnswer] = field(default_factory=list)

    def json(self) -> dict[str, Any]:
        chat = {"id": self.id, "first_name": self.user["first_name"], "type": "private"}
        for key in ("last_name", "username"):
            if key in self.user:
                chat[key] = self.user[key]
        return chat

    @property
    def name(self) -> str:
        return str(self.user["first_name"])


@dataclass
class _Update:
    update_id: int
    kind: str
    chat_id: int
    payload: dict[str, Any]
    seq: int
    delivered: bool = False


@dataclass
class _Query:
    query_id: str
    chat_id: int
    message_id: int
    created: float
    seq: int
    answer: CallbackAnswer | None = None


@dataclass
class _Webhook:
    url: str
    secret: str | None
    max_connections: int
    semaphore: asyncio.Semaphore
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Failure:
    error: ApiError
    remaining: int


@dataclass(frozen=True)
class _Described:
    """A result Telegram answers with a description too (setWebhook, deleteWebhook)."""

    result: Any
    description: str


_Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class LocalBotApi:
    """A stand-in for Telegram's Bot API server on a local port. See the package docstring."""

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "rooms_test_bot",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_name: str = "ROOMS",
        callback_query_timeout: float = 15.0,
        flood_limit: int | None = None,
        webhook_retry_delays: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ValueError(f"not a bot token: {token!r} (digits, a colon, then the secret)")
        self.token = token
        self.bot_id = int(match.group(1))
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.host = host
        self.port = port
        self.callback_query_timeout = callback_query_timeout
        self.flood_limit = flood_limit
        self.webhook_retry_delays = webhook_retry_delays
        self.clock = clock
        self.requests: list[ApiCall] = []
        self._chats: dict[int, _Chat] = {}
        self._seq = itertools.count(1)
        self._next_update_id = 1
        self._pending: deque[_Update] = deque()
        self._undelivered = 0
        self._update_seq: dict[int, int] = {}
        self._allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._allowed_list: list[str] | None = None
        self._poller: asyncio.Future[str] | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._queries: dict[str, _Query] = {}
        self._query_ids = itertools.count(1)
        self._files: dict[str, _File] = {}
        self._file_paths: dict[str, _File] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._menu_button: dict[str, Any] = {"type": "commands"}
        self._webhook: _Webhook | None = None
        self._hook_queues: dict[int, deque[_Update]] = {}
        self._hook_workers: dict[int, asyncio.Task[None]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._flood: dict[int, deque[float]] = {}
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._closing = False
        self._methods: dict[str, tuple[str, _Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "sendChatAction": self._send_chat_action,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setMyDescription": self._set_description("description"),
                "getMyDescription": self._get_description("description"),
                "setMyShortDescription": self._set_description("short_description"),
                "getMyShortDescription": self._get_description("short_description"),
                "setChatMenuButton": self._set_chat_menu_button,
                "getChatMenuButton": self._get_chat_menu_button,
                "getChat": self._get_chat,
                "getFile": self._get_file,
            }.items()
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        from rooms_bot.local_api.chat_page import add_page_routes

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot_request)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file_download)
        app.router.add_get("/file/photo/{file_id}", self._handle_photo)
        add_page_routes(app, self)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        address = self._runner.addresses[0]
        self.port = int(address[1])
        self._session = aiohttp.ClientSession()
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        if self._poller is not None and not self._poller.done():
            self._poller.set_result("closing")
        for chat in self._chats.values():  # page feeds answer now instead of at their timeout
            for waiter in chat.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            chat.waiters.clear()
        await self._stop_webhook_workers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port``: give it to ``TelegramAPIServer.from_base``."""
        if self._runner is None:
            raise RuntimeError("the local Bot API server is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat"

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` (any spelling; ``"*"`` for every method)
        fail with ``status`` and no effect: Telegram's 429 shape ("Too Many Requests: retry
        after N", ``parameters.retry_after``) by default."""
        if times < 1:
            raise ValueError("times must be at least 1")
        key = method.lower()
        if key != "*" and key not in self._methods:
            raise ValueError(f"unknown Bot API method {method!r}")
        self._failures.setdefault(key, deque()).append(
            _Failure(injected(status, retry_after, description), times)
        )

    def _take_failure(self, method: str) -> ApiError | None:
        for key in (method.lower(), "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.remaining -= 1
                if failure.remaining <= 0:
                    queue.popleft()
                return failure.error
        return None

    def _flood_check(self, chat_id: int) -> None:
        if self.flood_limit is None:
            return
        now = self.clock()
        window = self._flood.setdefault(chat_id, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= self.flood_limit:
            raise too_many_requests(max(1, math.ceil(1.0 - (now - window[0]))))
        window.append(now)

    # ------------------------------------------------------------------ HTTP: bot side

    def _json_response(self, status: int, body: dict[str, Any]) -> web.Response:
        return web.Response(
            text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            status=status,
            content_type="application/json",
        )

    async def _handle_bot_request(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._json_response(401, ApiError(401, "Unauthorized").body())
        try:
            params = await read_request(request)
        except ApiError as error:
            self.requests.append(
                ApiCall(method, {}, _now(), status=error.code, description=error.description)
            )
            return self._json_response(error.code, error.body())
        status, body = await self._call(method, params)
        return self._json_response(status, body)

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        return self._json_response(404, ApiError(404, "Not Found").body())

    async def _call(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        entry = self._methods.get(method.lower())
        name = entry[0] if entry else method
        call = ApiCall(name, params, _now())
        self.requests.append(call)
        try:
            if entry is None:
                raise ApiError(404, "Not Found")
            failure = self._take_failure(name)
            if failure is not None:
                raise failure
            result = await entry[1](params)
        except ApiError as error:
            call.status, call.description = error.code, error.description
            return error.code, error.body()
        call.status = 200
        if isinstance(result, _Described):
            call.description = result.description
            return 200, {"ok": True, "result": result.result, "description": result.description}
        return 200, {"ok": True, "result": result}

    def calls(self, method: str) -> list[ApiCall]:
        """The recorded requests of one method."""
        key = method.lower()
        return [call for call in self.requests if call.method.lower() == key]

    # ------------------------------------------------------------------ updates

    def _tick(self) -> int:
        return next(self._seq)

    def _push_update(self, kind: str, obj: dict[str, Any], chat_id: int) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        seq = self._tick()
        self._update_seq[update_id] = seq
        if kind not in self._allowed:
            return update_id
        update = _Update(update_id, kind, chat_id, {"update_id": update_id, kind: obj}, seq)
        self._pending.append(update)
        self._undelivered += 1
        if self._webhook is not None:
            self._route_to_webhook(update)
        elif self._poller is not None and not self._poller.done():
            self._poller.set_result("update")
        return update_id

    def _mark_delivered(self, update: _Update) -> None:
        if not update.delivered:
            update.delivered = True
            self._undelivered -= 1
        while self._pending and self._pending[0].delivered:
            self._pending.popleft()
        if self._undelivered == 0:
            for waiter in self._drain_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._drain_waiters.clear()

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self._pending and self._pending[0].update_id < offset:
                self._mark_delivered(self._pending[0])
        elif offset < 0:
            while len(self._pending) > -offset:
                self._mark_delivered(self._pending[0])

    def _collect(self, limit: int) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        for update in self._pending:
            if update.delivered:
                continue
            batch.append(update.payload)
            if len(batch) >= limit:
                break
        return batch

    def _set_allowed(self, raw: object) -> None:
        if not isinstance(raw, list) or not all(isinstance(kind, str) for kind in raw):
            raise bad_request("can't parse allowed updates JSON object")
        self._allowed_list = list(raw)
        self._allowed = frozenset(raw) & frozenset(UPDATE_TYPES) if raw else DEFAULT_UPDATE_TYPES
        for update in list(self._pending):
            if update.kind not in self._allowed:
                self._mark_delivered(update)

    @property
    def pending_update_count(self) -> int:
        """Updates not yet confirmed by the bot (getUpdates offset) or accepted by its
        webhook."""
        return self._undelivered

    async def wait_until_delivered(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has confirmed (or its webhook accepted) every update."""
        if self._undelivered == 0:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"{self._undelivered} updates still pending after {timeout} s"
            ) from None

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = int_param(params, "offset") or 0
        limit = min(max(int_param(params, "limit") or 100, 1), 100)
        timeout = min(max(int_param(params, "timeout") or 0, 0), 50)
        if params.get("allowed_updates") is not None:
            self._set_allowed(params["allowed_updates"])
        self._confirm(offset)
        if self._poller is not None and not self._poller.done():
            self._poller.set_result("conflict")
        batch = self._collect(limit)
        if batch or timeout == 0 or self._closing:
            return batch
        poller: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._poller = poller
        try:
            await asyncio.wait([poller], timeout=timeout)
        finally:
            if self._poller is poller:
                self._poller = None
        if poller.done() and poller.result() == "conflict":
            raise ApiError(409, POLLING_CONFLICT)
        if not poller.done():
            poller.cancel()
        if self._webhook is not None:
            return []
        return self._collect(limit)

    # ------------------------------------------------------------------ webhook

    async def _set_webhook(self, params: dict[str, Any]) -> _Described:
        url = text_param(params, "url") or ""
        drop = bool_param(params, "drop_pending_updates")
        if not url:
            await self._remove_webhook(drop)
            return _Described(True, "Webhook was deleted")
        if not url.startswith(("https://", "http://")) or fmt.check_url(url) is None:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = text_param(params, "secret_token")
        if secret is not None and not _SECRET.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        max_connections = int_param(params, "max_connections") or 40
        if not 1 <= max_connections <= 100:
            raise bad_request("invalid max_connections specified")
        if params.get("allowed_updates") is not None:
            self._set_allowed(params["allowed_updates"])
        already = self._webhook is not None and self._webhook.url == url
        self._webhook = None  # nothing is routed to the old hook while its workers stop
        await self._stop_webhook_workers()
        if drop:
            self._drop_pending()
        self._webhook = _Webhook(url, secret, max_connections, asyncio.Semaphore(max_connections))
        if self._poller is not None and not self._poller.done():
            self._poller.set_result("webhook")
        for update in self._pending:
            if not update.delivered:
                self._route_to_webhook(update)
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: dict[str, Any]) -> _Described:
        had = self._webhook is not None
        await self._remove_webhook(bool_param(params, "drop_pending_updates"))
        return _Described(True, "Webhook was deleted" if had else "Webhook is already deleted")

    async def _remove_webhook(self, drop: bool) -> None:
        self._webhook = None
        await self._stop_webhook_workers()
        if drop:
            self._drop_pending()

    def _drop_pending(self) -> None:
        for update in list(self._pending):
            self._mark_delivered(update)

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        hook = self._webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": self._undelivered,
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            info["ip_address"] = "127.0.0.1"
            if hook.last_error_date is not None:
                info["last_error_date"] = hook.last_error_date
                info["last_error_message"] = hook.last_error_message
        if self._allowed_list is not None:
            info["allowed_updates"] = self._allowed_list
        return info

    @property
    def webhook_url(self) -> str | None:
        return self._webhook.url if self._webhook else None

    def _route_to_webhook(self, update: _Update) -> None:
        queue = self._hook_queues.setdefault(update.chat_id, deque())
        queue.append(update)
        if update.chat_id not in self._hook_workers and self._webhook is not None:
            worker = asyncio.get_running_loop().create_task(
                self._deliver_chat(self._webhook, update.chat_id)
            )
            self._hook_workers[update.chat_id] = worker

    async def _stop_webhook_workers(self) -> None:
        workers = list(self._hook_workers.values())
        self._hook_workers.clear()
        self._hook_queues.clear()
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def _deliver_chat(self, hook: _Webhook, chat_id: int) -> None:
        """Deliver one chat's updates in order, each retried until the webhook takes it."""
        queue = self._hook_queues[chat_id]
        attempt = 0
        try:
            while queue and self._webhook is hook:
                update = queue[0]
                if update.delivered:
                    queue.popleft()
                    continue
                if await self._post_update(hook, update):
                    queue.popleft()
                    self._mark_delivered(update)
                    attempt = 0
                else:
                    delays = self.webhook_retry_delays
                    await asyncio.sleep(delays[min(attempt, len(delays) - 1)])
                    attempt += 1
        finally:
            if self._hook_workers.get(chat_id) is asyncio.current_task():
                del self._hook_workers[chat_id]
                if not queue:
                    self._hook_queues.pop(chat_id, None)
                elif self._webhook is not None and self._webhook is not hook and not self._closing:
                    # the webhook changed under this worker: its successor takes the queue
                    self._hook_workers[chat_id] = asyncio.get_running_loop().create_task(
                        self._deliver_chat(self._webhook, chat_id)
                    )

    async def _post_update(self, hook: _Webhook, update: _Update) -> bool:
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if hook.secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret
        body = json.dumps(update.payload, ensure_ascii=False)
        reply: tuple[str, dict[str, Any]] | None = None
        async with hook.semaphore:
            try:
                async with self._session.post(
                    hook.url,
                    data=body.encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    if not 200 <= response.status < 300:
                        hook.last_error_date = int(time.time())
                        hook.last_error_message = (
                            f"Wrong response from the webhook: {response.status} {response.reason}"
                        )
                        return False
                    reply = await self._method_in_reply(response)
            except (aiohttp.ClientError, TimeoutError) as error:
                hook.last_error_date = int(time.time())
                hook.last_error_message = (
                    "Connection refused"
                    if isinstance(error, aiohttp.ClientConnectorError)
                    else f"{type(error).__name__}: {error}"
                )
                return False
        if reply is not None:
            # Telegram carries out a method given in the webhook's answer; its result and
            # errors go nowhere.
            await self._call(*reply)
        return True

    async def _method_in_reply(
        self, response: aiohttp.ClientResponse
    ) -> tuple[str, dict[str, Any]] | None:
        try:
            if response.content_type.startswith("multipart/"):
                params = await read_multipart(aiohttp.MultipartReader.from_response(response))
            elif response.content_type == "application/json":
                params = await response.json()
            else:
                return None
        except (ValueError, ApiError, aiohttp.ClientError):
            return None
        if not isinstance(params, dict) or not isinstance(params.get("method"), str):
            return None
        method = params.pop("method")
        return method, params

    # ------------------------------------------------------------------ chats

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        """Open the private chat (as if the user had started the bot) without a message,
        or update the user's profile."""
        self._open_chat(user_id, first_name, last_name, username, language_code)

    def _open_chat(
        self,
        user_id: int,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> _Chat:
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
            raise ValueError(f"a user id is a positive integer, not {user_id!r}")
        chat = self._chats.get(user_id)
        if chat is None:
            user: dict[str, Any] = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"User {user_id}",
            }
            instance = str(-((user_id * 2654435761 + self.bot_id) % 10**18))
            chat = self._chats[user_id] = _Chat(user_id, user, instance)
        elif first_name:
            chat.user["first_name"] = first_name
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value:
                chat.user[key] = value
        return chat

    def _chat(self, user_id: int) -> _Chat:
        chat = self._chats.get(user_id)
        if chat is None:
            raise LookupError(f"user {user_id} has no chat with the bot yet: send_message first")
        return chat

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks the bot: its sends and edits to them answer 403 "Forbidden: bot
        was blocked by the user" (``blocked=False`` unblocks)."""
        self._chat(user_id).blocked = blocked

    def _target_chat(self, params: dict[str, Any]) -> _Chat:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the local Bot API server")
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int):
            raise bad_request("chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, BLOCKED)
        return chat

    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        return {**chat.json(), "accent_color_id": 0, "max_reaction_count": 11}

    def _emit(self, chat: _Chat, kind: str, message: _Msg | None = None, **data: Any) -> _Event:
        seq = self._tick()
        snapshot = None
        if message is not None:
            snapshot = self._snapshot(message, seq)
            message.current = snapshot
        event = _Event(seq, kind, time.time(), snapshot, data)
        chat.events.append(event)
        chat.event_seqs.append(seq)
        for waiter in chat.waiters:
            if not waiter.done():
                waiter.set_result(None)
        chat.waiters.clear()
        return event

    def _snapshot(self, msg: _Msg, seq: int) -> ChatMessage:
        photo = msg.photo
        photo_url = None
        if photo is not None:
            photo_url = f"/file/photo/{photo.file_id}" if photo.data is not None else photo.url
        return ChatMessage(
            message_id=msg.message_id,
            chat_id=msg.chat_id,
            text=msg.text,
            html=msg.html,
            caption=msg.caption,
            photo=photo.data if photo else None,
            buttons=[list(row) for row in msg.markup.buttons],
            reply_keyboard=msg.markup.reply_keyboard,
            edits=msg.edits,
            from_bot=msg.from_bot,
            date=datetime.fromtimestamp(msg.date, UTC),
            entities=list(msg.entities if msg.text is not None else msg.caption_entities),
            photo_file_id=photo.file_id if photo else None,
            photo_url=photo_url,
            removes_reply_keyboard=msg.markup.remove_keyboard,
            reply_to_message_id=msg.reply_to,
            disable_notification=msg.disable_notification,
            parse_mode=msg.parse_mode,
            edit_date=datetime.fromtimestamp(msg.edit_date, UTC) if msg.edit_date else None,
            seq=seq,
        )

    def _message_json(self, msg: _Msg, chat: _Chat, *, nested: bool = False) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": msg.sender,
            "chat": chat.json(),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            obj["edit_date"] = msg.edit_date
        if msg.reply_to is not None and not nested:
            replied = chat.messages.get(msg.reply_to)
            if replied is not None and not replied.deleted:
                obj["reply_to_message"] = self._message_json(replied, chat, nested=True)
        if msg.text is not None:
            obj["text"] = msg.text
            if msg.entities:
                obj["entities"] = msg.entities
            if msg.link_preview:
                obj["link_preview_options"] = msg.link_preview
        if msg.photo is not None:
            obj["photo"] = msg.photo.photo_json()
        if msg.caption is not None:
            obj["caption"] = msg.caption
            if msg.caption_entities:
                obj["caption_entities"] = msg.caption_entities
        if msg.markup.inline_json is not None:
            obj["reply_markup"] = msg.markup.inline_json
        return obj

    def _new_message(self, chat: _Chat, *, from_bot: bool, **fields: Any) -> _Msg:
        msg = _Msg(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            from_bot=from_bot,
            sender=self._bot_user() if from_bot else dict(chat.user),
            date=int(time.time()),
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[msg.message_id] = msg
        if msg.markup.reply_keyboard is not None:
            chat.reply_keyboard = msg.markup.reply_keyboard
        elif msg.markup.remove_keyboard:
            chat.reply_keyboard = None
        self._emit(chat, "message", msg)
        return msg

    # ------------------------------------------------------------------ bot methods

    def _formatted(
        self, params: dict[str, Any], key: str, entities_key: str, *, caption: bool
    ) -> tuple[str | None, list[fmt.Entity], str | None, str | None]:
        """(visible text, entities, html, parse mode) of a text or caption parameter."""
        raw = text_param(params, key)
        if raw is None or raw == "":
            if caption:
                return None, [], None, None
            raise bad_request("message text is empty")
        mode = text_param(params, "parse_mode") or None
        given = params.get(entities_key)
        try:
            if given is not None:
                text, entities = raw, fmt.check_entities(raw, given)
                mode = None
            elif mode is None:
                text, entities = raw, []
            elif mode.lower() == "html":
                text, entities = fmt.parse_html(raw)
            elif mode.lower() == "markdownv2":
                text, entities = fmt.parse_markdown_v2(raw)
            elif mode.lower() == "markdown":
                text, entities = fmt.parse_markdown(raw)
            else:
                raise bad_request("unsupported parse_mode")
        except fmt.EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        text, entities = fmt.trim(text, entities)
        if not text:
            if caption:
                return None, [], None, None
            raise bad_request("message text is empty")
        limit = CAPTION_LIMIT if caption else TEXT_LIMIT
        if len(text) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        entities = fmt.add_auto_entities(text, entities)
        if mode is not None and mode.lower() == "html":
            html = raw
        else:
            html = fmt.entities_to_html(text, entities)
        return text, entities, html, mode

    def _reply_to(self, chat: _Chat, params: dict[str, Any]) -> int | None:
        reply = params.get("reply_parameters")
        target: int | None
        lenient = bool_param(params, "allow_sending_without_reply")
        if isinstance(reply, dict):
            target = reply.get("message_id")
            lenient = lenient or bool(reply.get("allow_sending_without_reply"))
        else:
            target = int_param(params, "reply_to_message_id")
        if target is None:
            return None
        replied = chat.messages.get(target)
        if replied is None or replied.deleted:
            if lenient:
                return None
            raise bad_request("message to be replied not found")
        return target

    def _link_preview(self, params: dict[str, Any]) -> dict[str, Any] | None:
        options = params.get("link_preview_options")
        if isinstance(options, dict):
            return options
        if bool_param(params, "disable_web_page_preview"):
            return {"is_disabled": True}
        return None

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        text, entities, html, mode = self._formatted(params, "text", "entities", caption=False)
        markup = parse_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        self._flood_check(chat.id)
        msg = self._new_message(
            chat,
            from_bot=True,
            text=text,
            entities=entities,
            html=html,
            parse_mode=mode,
            markup=markup,
            reply_to=reply_to,
            link_preview=self._link_preview(params),
            disable_notification=bool_param(params, "disable_notification"),
        )
        return self._message_json(msg, chat)

    def _photo_file(self, value: Upload | str | None) -> _File:
        if value is None or value == "":
            raise bad_request("there is no photo in the request")
        if isinstance(value, Upload):
            info = image_info(value.data)
            if info is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            content_type, width, height = info
            return self._store_file(value.data, None, content_type, width, height)
        known = self._files.get(value)
        if known is not None:
            return known
        if value.startswith(("http://", "https://")) and fmt.check_url(value):
            return self._store_file(None, value, "image/jpeg", 0, 0)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_file(
        self, data: bytes | None, url: str | None, content_type: str, width: int, height: int
    ) -> _File:
        number = len(self._files) + 1
        extension = content_type.split("/")[-1].replace("jpeg", "jpg")
        file = _File(
            file_id=f"AgACAgIAAxkBAAI{number:06d}{secrets.token_urlsafe(18)}",
            file_unique_id=f"AQAD{number:06d}{secrets.token_hex(3)}",
            data=data,
            url=url,
            width=width,
            height=height,
            content_type=content_type,
            path=f"photos/file_{number}.{extension}",
        )
        self._files[file.file_id] = file
        self._file_paths[file.path] = file
        return file

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(params)
        photo = self._photo_file(resolve_file(params, "photo"))
        caption, entities, html, mode = self._formatted(
            params, "caption", "caption_entities", caption=True
        )
        markup = parse_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat, params)
        self._flood_check(chat.id)
        msg = self._new_message(
            chat,
            from_bot=True,
            photo=photo,
            caption=caption,
            caption_entities=entities,
            html=html,
            parse_mode=mode,
            markup=markup,
            reply_to=reply_to,
            disable_notification=bool_param(params, "disable_notification"),
        )
        return self._message_json(msg, chat)

    def _message_to_edit(self, params: dict[str, Any]) -> tuple[_Chat, _Msg]:
        chat = self._target_chat(params)
        message_id = int_param(params, "message_id", missing="message identifier is not specified")
        msg = chat.messages.get(message_id) if message_id is not None else None
        if msg is None or msg.deleted:
            raise bad_request("message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return chat, msg

    def _inline_markup(self, params: dict[str, Any]) -> Markup:
        markup = parse_markup(params.get("reply_markup"))
        if markup.reply_keyboard is not None or markup.remove_keyboard or markup.force_reply:
            raise bad_request("inline keyboard expected")
        return markup

    def _edited(self, chat: _Chat, msg: _Msg) -> dict[str, Any]:
        msg.edits += 1
        msg.edit_date = max(int(time.time()), msg.date)
        self._emit(chat, "edit", msg)
        return self._message_json(msg, chat)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, msg = self._message_to_edit(params)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities, html, mode = self._formatted(params, "text", "entities", caption=False)
        markup = self._inline_markup(params)
        if (
            text == msg.text
            and entities == msg.entities
            and markup.inline_json == msg.markup.inline_json
        ):
            raise bad_request(NOT_MODIFIED)
        self._flood_check(chat.id)
        msg.text, msg.entities, msg.html, msg.parse_mode = text, entities, html, mode
        msg.markup = markup
        preview = self._link_preview(params)
        if preview is not None:
            msg.link_preview = preview
        return self._edited(chat, msg)

    async def _edit_message_caption(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, msg = self._message_to_edit(params)
        if msg.photo is None:
            raise bad_request("there is no caption in the message to edit")
        caption, entities, html, mode = self._formatted(
            params, "caption", "caption_entities", caption=True
        )
        markup = self._inline_markup(params)
        if (
            caption == msg.caption
            and entities == msg.caption_entities
            and markup.inline_json == msg.markup.inline_json
        ):
            raise bad_request(NOT_MODIFIED)
        self._flood_check(chat.id)
        msg.caption, msg.caption_entities, msg.html, msg.parse_mode = caption, entities, html, mode
        msg.markup = markup
        return self._edited(chat, msg)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat, msg = self._message_to_edit(params)
        markup = self._inline_markup(params)
        if markup.inline_json == msg.markup.inline_json:
            raise bad_request(NOT_MODIFIED)
        self._flood_check(chat.id)
        msg.markup = markup
        return self._edited(chat, msg)

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._target_chat(params)
        message_id = int_param(params, "message_id", missing="message identifier is not specified")
        msg = chat.messages.get(message_id) if message_id is not None else None
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        msg.deleted = True
        self._emit(chat, "delete", None, message_id=msg.message_id, from_bot=msg.from_bot)
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = text_param(params, "callback_query_id") or ""
        query = self._queries.get(query_id)
        if (
            query is None
            or query.answer is not None
            or self.clock() - query.created > self.callback_query_timeout
        ):
            raise bad_request(QUERY_TOO_OLD)
        text = text_param(params, "text") or None
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = CallbackAnswer(
            query_id=query_id,
            text=text,
            show_alert=bool_param(params, "show_alert"),
            url=text_param(params, "url"),
            cache_time=int_param(params, "cache_time") or 0,
            message_id=query.message_id,
        )
        query.answer = answer
        chat = self._chats[query.chat_id]
        chat.answers.append(answer)
        self._emit(
            chat,
            "answer",
            None,
            query_id=query_id,
            text=answer.text,
            show_alert=answer.show_alert,
            url=answer.url,
            message_id=query.message_id,
        )
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._target_chat(params)
        action = text_param(params, "action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._emit(chat, "action", None, action=action)
        return True

    @staticmethod
    def _command_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope JSON object")
        language = text_param(params, "language_code") or ""
        return json.dumps(scope, sort_keys=True), language

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        kept: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", "")).lstrip("/").lower()
            description = str(command.get("description", ""))
            if not _COMMAND.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            kept.append({"command": name, "description": description})
        key = self._command_key(params)
        if kept:
            self._commands[key] = kept
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return list(self._commands.get(self._command_key(params), []))

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self._commands.pop(self._command_key(params), None)
        return True

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]]:
        """The commands the bot set for a scope (default scope) and language."""
        key = json.dumps(scope or {"type": "default"}, sort_keys=True), language_code
        return list(self._commands.get(key, []))

    def _set_description(self, kind: str) -> _Handler:
        limit = 512 if kind == "description" else 120

        async def handler(params: dict[str, Any]) -> bool:
            value = text_param(params, kind) or ""
            if len(value) > limit:
                raise bad_request(f"{kind.replace('_', ' ')} is too long")
            self._descriptions[kind, text_param(params, "language_code") or ""] = value
            return True

        return handler

    def _get_description(self, kind: str) -> _Handler:
        async def handler(params: dict[str, Any]) -> dict[str, str]:
            language = text_param(params, "language_code") or ""
            return {kind: self._descriptions.get((kind, language), "")}

        return handler

    async def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or "type" not in button:
            raise bad_request("can't parse menu button JSON object")
        self._menu_button = button
        return True

    async def _get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self._menu_button)

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file = self._files.get(text_param(params, "file_id") or "")
        if file is None or file.data is None:
            raise bad_request("wrong file_id or the file is temporarily unavailable")
        return {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "file_size": len(file.data),
            "file_path": file.path,
        }

    async def _handle_file_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json_response(401, ApiError(401, "Unauthorized").body())
        file = self._file_paths.get(request.match_info["path"])
        if file is None or file.data is None:
            return self._json_response(404, ApiError(404, "Not Found").body())
        return web.Response(body=file.data, content_type=file.content_type)

    async def _handle_photo(self, request: web.Request) -> web.StreamResponse:
        file = self._files.get(request.match_info["file_id"])
        if file is None or file.data is None:
            return self._json_response(404, ApiError(404, "Not Found").body())
        return web.Response(
            body=file.data,
            content_type=file.content_type,
            headers={"Cache-Control": "max-age=86400"},
        )

    # ------------------------------------------------------------------ user side

    async def send_message(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        """The user writes to the bot (opening the chat on first use); returns the update_id.
        Bot commands, links and mentions get their entities as Telegram gives them."""
        if not text.strip():
            raise ValueError("Telegram does not send an empty message")
        if len(text) > TEXT_LIMIT:
            raise ValueError(f"a message has at most {TEXT_LIMIT} characters")
        chat = self._open_chat(user_id, first_name, last_name, username, language_code)
        stripped, _ = fmt.trim(text, [])
        msg = self._new_message(
            chat,
            from_bot=False,
            text=stripped,
            entities=fmt.add_auto_entities(stripped, []),
            html=fmt.escape_html(stripped),
            reply_to=reply_to if reply_to in chat.messages else None,
        )
        return self._push_update("message", self._message_json(msg, chat), chat.id)

    async def press(
        self, user_id: int, message_id: int | ChatMessage, callback_data: str | Button
    ) -> str:
        """The user presses the inline button with ``callback_data`` under the bot's message
        ``message_id``; returns the callback query id. LookupError (a bug in the test) when
        the message has no such button."""
        chat = self._chat(user_id)
        mid = message_id.message_id if isinstance(message_id, ChatMessage) else message_id
        data = callback_data.callback_data if isinstance(callback_data, Button) else callback_data
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted or not msg.from_bot:
            raise LookupError(
                f"user {user_id} has no bot message #{mid} to press a button on;"
                f" transcript:\n{self.transcript(user_id)}"
            )
        buttons = [b for row in msg.markup.buttons for b in row]
        button = next((b for b in buttons if b.callback_data == data), None)
        if button is None or data is None:
            raise LookupError(
                f"message #{mid} has no button with callback_data {data!r};"
                f" its buttons: {[(b.text, b.callback_data) for b in buttons]}"
            )
        query_id = f"{self.bot_id % 10**6}{next(self._query_ids):013d}"
        event = self._emit(
            chat, "press", None, message_id=mid, data=data, button=button.text, query_id=query_id
        )
        self._queries[query_id] = _Query(query_id, chat.id, mid, self.clock(), event.seq)
        self._push_update(
            "callback_query",
            {
                "id": query_id,
                "from": dict(chat.user),
                "message": self._message_json(msg, chat),
                "chat_instance": chat.chat_instance,
                "data": data,
            },
            chat.id,
        )
        return query_id

    async def click(
        self, user_id: int, text_substring: str, message: int | ChatMessage | None = None
    ) -> str:
        """Press the callback button whose text contains ``text_substring`` on ``message``
        (default: the latest bot message that has such a button)."""
        if message is not None:
            mid = message.message_id if isinstance(message, ChatMessage) else message
            found = next((m for m in self.messages(user_id) if m.message_id == mid), None)
            if found is None:
                raise LookupError(f"user {user_id} has no bot message #{mid}")
            return await self.press(user_id, found, found.callback_data_of(text_substring))
        for candidate in reversed(self.messages(user_id)):
            if any(text_substring in b.text and b.callback_data for b in candidate.all_buttons):
                return await self.press(
                    user_id, candidate, candidate.callback_data_of(text_substring)
                )
        raise LookupError(
            f"no bot message of user {user_id} has a button with {text_substring!r};"
            f" transcript:\n{self.transcript(user_id)}"
        )

    def messages(self, user_id: int, *, include_user: bool = False) -> list[ChatMessage]:
        """The bot's messages to the user in order, as they are now (after edits; deleted
        ones left out). ``include_user=True`` adds the user's own messages."""
        chat = self._chats.get(user_id)
        if chat is None:
            return []
        return [
            msg.current
            for msg in chat.messages.values()
            if msg.current is not None and not msg.deleted and (msg.from_bot or include_user)
        ]

    def reply_keyboard(self, user_id: int) -> ReplyKeyboard | None:
        """The reply keyboard the user sees now, if any."""
        chat = self._chats.get(user_id)
        return chat.reply_keyboard if chat else None

    def chat_actions(self, user_id: int) -> list[str]:
        chat = self._chats.get(user_id)
        return [e.data["action"] for e in chat.events if e.kind == "action"] if chat else []

    def user_ids(self) -> list[int]:
        return list(self._chats)

    def _start_index(self, chat: _Chat, after: int | str | ChatMessage | None) -> int:
        if after is None:
            return chat.cursor
        if isinstance(after, ChatMessage):
            seq = after.seq
        elif isinstance(after, str):
            query = self._queries.get(after)
            if query is None:
                raise LookupError(f"no callback query {after!r}")
            seq = query.seq
        else:
            if after not in self._update_seq:
                raise LookupError(f"no update {after}")
            seq = self._update_seq[after]
        return bisect.bisect_right(chat.event_seqs, seq)

    async def _wait_chat(self, chat: _Chat, deadline: float) -> bool:
        """Wait for the chat's next event until the loop time ``deadline``; False if none."""
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        waiter: asyncio.Future[None] = loop.create_future()
        chat.waiters.append(waiter)
        try:
            await asyncio.wait([waiter], timeout=remaining)
        finally:
            if not waiter.done():
                waiter.cancel()
                if waiter in chat.waiters:
                    chat.waiters.remove(waiter)
        return waiter.done() and not waiter.cancelled()

    async def wait_for_message(
        self,
        user_id: int,
        predicate: Callable[[ChatMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - the interface the tests use
        after: int | str | ChatMessage | None = None,
    ) -> ChatMessage:
        """The next bot message, new or edited, that matches ``predicate``.

        "Next" is counted from what earlier calls for this user returned (each call moves a
        per-chat cursor past the message it returns), or from ``after``: an update id from
        :meth:`send_message`, a query id from :meth:`press`, or a message returned before.
        Messages already there count, so a reply that came before the call is not missed.
        TimeoutError, with the transcript in its message, when none comes in ``timeout`` s.
        """
        chat = self._chat(user_id)
        index = self._start_index(chat, after)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            events = chat.events
            while index < len(events):
                event = events[index]
                index += 1
                message = event.message
                if (
                    message is not None
                    and message.from_bot
                    and event.kind in ("message", "edit")
                    and (predicate is None or predicate(message))
                ):
                    chat.cursor = max(chat.cursor, index)
                    return message
            if not await self._wait_chat(chat, deadline):
                if index < len(chat.events):
                    continue
                raise TimeoutError(
                    f"no {'matching ' if predicate else ''}bot message for user {user_id}"
                    f" within {timeout} s; transcript:\n{self.transcript(user_id)}"
                )

    def callback_answers(self, user_id: int) -> list[CallbackAnswer]:
        chat = self._chats.get(user_id)
        return list(chat.answers) if chat else []

    def pending_callback_queries(self) -> set[str]:
        """Callback queries the bot has not answered yet."""
        return {qid for qid, query in self._queries.items() if query.answer is None}

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> CallbackAnswer:
        query = self._queries.get(query_id)
        if query is None:
            raise LookupError(f"no callback query {query_id!r}")
        chat = self._chats[query.chat_id]
        deadline = asyncio.get_running_loop().time() + timeout
        while query.answer is None:
            if not await self._wait_chat(chat, deadline) and query.answer is None:
                raise TimeoutError(
                    f"callback query {query_id} not answered within {timeout} s; transcript:\n"
                    f"{self.transcript(query.chat_id)}"
                )
        return query.answer

    # ------------------------------------------------------------------ transcript

    def transcript(self, user_id: int) -> str:
        """Both sides of the chat, buttons, edits, presses and answers, one event a line."""
        chat = self._chats.get(user_id)
        if chat is None:
            return f"(user {user_id} has no chat with the bot)"
        lines: list[str] = []
        for event in chat.events:
            message = event.message
            if event.kind in ("message", "edit") and message is not None:
                who = "bot" if message.from_bot else chat.name
                edit = f" (edit {message.edits})" if event.kind == "edit" else ""
                lines.extend(_describe(message, f"#{message.message_id} {who}{edit}: "))
            elif event.kind == "delete":
                lines.append(f"#{event.data['message_id']} deleted")
            elif event.kind == "press":
                lines.append(
                    f"    {chat.name} pressed [{event.data['button']}] on"
                    f" #{event.data['message_id']} (callback_data {event.data['data']!r})"
                )
            elif event.kind == "answer":
                text = event.data["text"]
                shown = f"{text!r}" if text else "(no text)"
                alert = " as an alert" if event.data["show_alert"] else ""
                lines.append(f"    bot answered the press: {shown}{alert}")
            elif event.kind == "action":
                lines.append(f"    (bot: {event.data['action']})")
        return "\n".join(lines) if lines else "(empty chat)"

    # ------------------------------------------------------------------ chat page feed

    def web_app_init_data(self, user_id: int, *, at: datetime | None = None) -> str:
        """The signed ``initData`` Telegram hands a Mini App that this user opens from one
        of the bot's ``web_app`` buttons: the user, ``auth_date`` and a ``hash`` made with
        the bot's token (HMAC-SHA256 under HMAC-SHA256("WebAppData", token)), so a web API
        checks it exactly as it checks Telegram's."""
        user = self._chat(user_id).user
        fields = {
            "query_id": f"AAH{secrets.token_urlsafe(12)}",
            "user": json.dumps(
                {k: user[k] for k in ("id", "first_name", "last_name", "username",
                                      "language_code") if k in user},
                separators=(",", ":"),
                ensure_ascii=False,
            ),
            "auth_date": str(int((at or datetime.now(UTC)).timestamp())),
        }  # fmt: skip
        check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
        secret = hmac.new(b"WebAppData", self.token.encode(), hashlib.sha256).digest()
        fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
        return urlencode(fields, quote_via=quote)

    def page_info(self, user_id: int | None) -> dict[str, Any]:
        chat = self._chats.get(user_id) if user_id is not None else None
        keyboard = chat.reply_keyboard if chat else None
        commands = self.commands()
        if chat is not None and "language_code" in chat.user:
            commands = self.commands(language_code=chat.user["language_code"]) or commands
        return {
            "bot": self._bot_user(),
            "commands": commands,
            "user": dict(chat.user) if chat else None,
            "reply_keyboard": _keyboard_json(keyboard),
            "last_seq": chat.event_seqs[-1] if chat and chat.event_seqs else 0,
        }

    async def feed(
        self,
        user_id: int,
        after: int,
        timeout: float,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Events of the chat after sequence number ``after`` (waiting up to ``timeout`` s
        for one), as JSON for the chat page."""
        chat = self._chats.get(user_id)
        deadline = asyncio.get_running_loop().time() + timeout
        while chat is None:
            await asyncio.sleep(min(0.2, max(0.0, deadline - asyncio.get_running_loop().time())))
            chat = self._chats.get(user_id)
            if chat is None and asyncio.get_running_loop().time() >= deadline:
                return []
        index = bisect.bisect_right(chat.event_seqs, after)
        while index >= len(chat.events) and not self._closing:
            if not await self._wait_chat(chat, deadline):
                break
        return [_event_json(event, chat) for event in chat.events[index:]]


def _keyboard_json(keyboard: ReplyKeyboard | None) -> dict[str, Any] | None:
    if keyboard is None:
        return None
    return {
        "rows": keyboard.rows,
        "resize": keyboard.resize,
        "one_time": keyboard.one_time,
        "persistent": keyboard.persistent,
        "placeholder": keyboard.placeholder,
    }


def message_page_json(message: ChatMessage) -> dict[str, Any]:
    return {
        "message_id": message.message_id,
        "from_bot": message.from_bot,
        "date": int(message.date.timestamp()),
        "text": message.text,
        "caption": message.caption,
        "entities": message.entities,
        "photo_url": message.photo_url,
        "buttons": [
            [
                {
                    "text": b.text,
                    "kind": b.kind,
                    "callback_data": b.callback_data,
                    "url": b.url,
                    "web_app_url": b.web_app_url,
                }
                for b in row
            ]
            for row in message.buttons
        ],
        "reply_keyboard": _keyboard_json(message.reply_keyboard),
        "removes_reply_keyboard": message.removes_reply_keyboard,
        "reply_to_message_id": message.reply_to_message_id,
        "edits": message.edits,
    }


def _event_json(event: _Event, chat: _Chat) -> dict[str, Any]:
    body: dict[str, Any] = {"seq": event.seq, "kind": event.kind, "at": event.at}
    if event.message is not None:
        body["message"] = message_page_json(event.message)
    body.update(event.data)
    return body


def _describe(message: ChatMessage, head: str) -> list[str]:
    pad = " " * 4
    body: list[str] = []
    if message.photo_file_id is not None:
        size = f"{len(message.photo)} bytes" if message.photo is not None else message.photo_url
        body.append(f"[photo, {size}]")
    visible = message.text if message.text is not None else message.caption
    if visible:
        body.extend(visible.split("\n"))
    if not body:
        body.append("")
    lines = [head + body[0]] + [pad + line for line in body[1:]]
    for row in message.buttons:
        lines.append(pad + " ".join(_button_label(button) for button in row))
    if message.reply_keyboard is not None:
        keys = " | ".join(
            " ".join(f"({text})" for text in row) for row in message.reply_keyboard.rows
        )
        lines.append(f"{pad}keyboard: {keys}")
    if message.removes_reply_keyboard:
        lines.append(f"{pad}(keyboard removed)")
    return lines


def _button_label(button: Button) -> str:
    if button.callback_data is not None:
        return f"[{button.text} -> {button.callback_data}]"
    if button.url is not None:
        return f"[{button.text} ↗ {button.url}]"
    if button.web_app_url is not None:
        return f"[{button.text} (web app) {button.web_app_url}]"
    return f"[{button.text} ({button.kind})]"
