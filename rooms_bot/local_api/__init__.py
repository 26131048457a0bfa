"""
## The local Bot API server (`rooms_bot.local_api`)

`LocalBotApi` is a stand-in for `api.telegram.org` that runs in the test's (or the demo's)
event loop on a local port. The bot talks to it with aiogram unchanged; the test plays the
users through a Python interface; a web page plays one user in a browser. It imports nothing
of `rooms_core` or `rooms_adapters` (an import-linter contract says so).

```python
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from rooms_bot.local_api import LocalBotApi

async with LocalBotApi(token="123456:TEST-TOKEN", bot_username="rooms_test_bot") as api:
    bot = Bot(api.token, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
    ...  # start the dispatcher (polling or webhook) with this bot
    await api.send_message(42, "/start REF123", first_name="Alice", username="alice")
    welcome = await api.wait_for_message(42)
    query_id = await api.press(42, welcome.message_id, welcome.callback_data_of("Deposit"))
    edited = await api.wait_for_message(42, lambda m: "address" in (m.text or ""))
    print(api.transcript(42))
```

### What the bot side does

`POST`/`GET {base_url}/bot{token}/{method}` with JSON, form-urlencoded or multipart bodies
(or the query string), answered in Telegram's shapes: `{"ok": true, "result": ...}` or
`{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`, the HTTP status
being the error code. Method names are case-insensitive; a wrong token gets 401
`Unauthorized`, an unknown method 404 `Not Found`.

Methods: `getMe`, `getUpdates` (offset confirmation, negative offsets, `limit`, long-poll
`timeout` that answers as soon as an update arrives, `allowed_updates` that stays set, 409
while a webhook is set and for the older of two concurrent polls), `setWebhook`,
`deleteWebhook`, `getWebhookInfo`, `sendMessage`, `sendPhoto`, `editMessageText`,
`editMessageCaption`, `editMessageReplyMarkup`, `deleteMessage`, `answerCallbackQuery`,
`sendChatAction`, `setMyCommands`/`getMyCommands`/`deleteMyCommands` (per scope and
language), `setMyDescription`/`getMyDescription`, `setMyShortDescription`/
`getMyShortDescription`, `setChatMenuButton`/`getChatMenuButton`, `getChat`, `getFile` (and
downloads from `/file/bot{token}/{path}`, so `bot.download(...)` works).

Validation, with Telegram's texts (all `400 Bad Request: ...`):

- no text, or only whitespace after parsing: `message text is empty`;
- over 4,096 characters after entity parsing (a caption: 1,024): `message is too long`,
  `message caption is too long`;
- HTML outside Telegram's subset (`b strong i em u ins s strike del a code pre tg-spoiler
  span class="tg-spoiler" blockquote [expandable] tg-emoji`; `&lt; &gt; &amp; &quot; &#NN;`),
  an unknown or unbalanced tag: `can't parse entities: Unsupported start tag "div" at byte
  offset 0`, `... Unmatched end tag at byte offset 7, expected "</b>", found "</i>"`,
  `... Can't find end tag corresponding to start tag "b"` (TDLib's parser and texts);
- MarkdownV2 with an unescaped reserved character: `can't parse entities: Character '.' is
  reserved and must be escaped with the preceding '\\'`;
- callback_data missing, empty or over 64 bytes: `BUTTON_DATA_INVALID`;
- an inline button with no action: `can't parse inline keyboard button: Text buttons are
  unallowed in the inline keyboard`; with two (Telegram takes the first, its docs say
  "exactly one"): `can't parse inline keyboard button: exactly one of the optional fields
  must be used, ...`;
- a chat id that never wrote to the bot: `chat not found` (after `api.block(uid)`: 403
  `Forbidden: bot was blocked by the user`);
- editing a missing message, a user's message: `message to edit not found`, `message can't
  be edited`;
- an edit that changes neither text, entities nor inline keyboard: `message is not modified:
  specified new message content and reply markup are exactly the same as a current content
  and reply markup of the message`;
- answering an unknown, already answered or too old (`callback_query_timeout`, 15 s)
  callback query: `query is too old and response timeout expired or query ID is invalid`;
- an upload that is no image, an unknown file_id: `IMAGE_PROCESS_FAILED`, `wrong file
  identifier/HTTP URL specified`.

As in Telegram, text is trimmed, entities use UTF-16 offsets, links, `/commands`,
`@mentions` and `#hashtags` get their entities, and editing text without `reply_markup`
removes the inline keyboard.

Webhooks: with a webhook set, each update is POSTed as JSON to its URL (http is allowed
here), with `X-Telegram-Bot-Api-Secret-Token` when a secret was given, in order within each
chat (chats in parallel, up to `max_connections`), retried with a short backoff
(`webhook_retry_delays`) until a 2xx; the failure shows in `getWebhookInfo`'s
`last_error_message`. A method in the webhook's answer (JSON or aiogram's multipart) is
carried out, as Telegram does.

Faults: `api.fail_next("sendMessage", status=429, retry_after=3, times=2)` makes the next
calls fail with no effect and Telegram's shape (`Too Many Requests: retry after 3`,
`parameters.retry_after`), so aiogram raises `TelegramRetryAfter`; other statuses (400, 403,
500 ...) and `description=` too; `"*"` matches every method. `LocalBotApi(flood_limit=N)` (or
`api.flood_limit = N`) answers 429 once a chat gets more than N messages (sends and edits) in
a second. `clock=` replaces `time.monotonic` for callback ages and the flood window.

Every request is kept in `api.requests` (`ApiCall(method, params, at, status,
description)`; JSON-valued parameters decoded, uploads as `Upload(filename, content_type,
data)`); `api.calls("sendMessage")` filters them.

### The user side (Python)

Private chats only: a user's chat id is their user id.

- `await api.send_message(uid, text, first_name=, last_name=, username=, language_code=)`:
  the user writes (the chat opens on first use); returns the update_id.
- `await api.press(uid, message_id, callback_data)`: presses that inline button of that bot
  message; returns the callback query id; LookupError when there is no such button (a bug in
  the test). Takes a `ChatMessage` and a `Button` too. `await api.click(uid, "Deposit")`
  presses the callback button with that text on the latest bot message that has one.
- `api.messages(uid, include_user=False)`: the bot's messages as they are now (after edits,
  without deleted ones), as `ChatMessage` snapshots.
- `await api.wait_for_message(uid, predicate=None, timeout=5.0, after=None)`: the next bot
  message, new or edited, that matches. Each call moves a per-chat cursor past what it
  returned, and messages that came before the call count, so a fast reply is never missed;
  `after=` an update id (from `send_message`), a query id (from `press`) or a `ChatMessage`
  starts after that point instead. The TimeoutError carries the transcript.
- `await api.wait_for_callback_answer(query_id)`: the bot's `CallbackAnswer` to a press;
  `api.callback_answers(uid)` (query_id, text, show_alert, url ...) and
  `api.pending_callback_queries()` (the ids not answered yet).
- `api.transcript(uid)`: both sides, buttons, presses, answers, edits and deletions, a line
  each.
- `api.reply_keyboard(uid)`, `api.chat_actions(uid)`, `api.commands(scope, language_code)`:
  the reply keyboard shown now, the chat actions sent, the commands set.
- `api.add_user(uid, ...)` opens a chat without a message; `api.block(uid)` blocks the bot
  (`blocked=False` unblocks).
- `await api.wait_until_delivered()`, `api.pending_update_count`: every update confirmed by
  the bot (or taken by its webhook); how many are not.

`ChatMessage` fields: `message_id, chat_id, text` (what the user sees: tags stripped,
entities decoded), `html` (the text or caption as sent with `parse_mode=HTML`; other modes
rendered as Telegram HTML), `caption, photo` (the upload's bytes), `buttons`
(`list[list[Button(text, callback_data, url, web_app_url, kind)]]`), `reply_keyboard`
(`ReplyKeyboard(rows, resize, one_time, persistent, placeholder)`), `edits, from_bot, date`,
and `entities, edit_date, photo_file_id, photo_url, removes_reply_keyboard,
reply_to_message_id, parse_mode`; `msg.button("Depo")` (an exact text, else the only button
containing it) and `msg.callback_data_of("Depo")`.

### The web chat page

`GET {base_url}/chat?user=ID&name=NAME` is a Telegram-like private chat with the bot, for
demos: bubbles (user right, bot left) with times and "edited", Telegram formatting rendered
from the entities with DOM text nodes only (bold, italic, underline, strike, spoilers, code,
pre, quotes, links; never the bot's HTML), inline keyboards that send callback queries,
edits and deletions in place, photos, reply keyboards, the bot's command menu, "typing…",
callback answers as a toast or (show_alert) a dialog. Enter sends; a new user sends /start by
itself. Without `?user=` the page picks an id and keeps it in the browser. It needs nothing
from outside (no CDN) and follows the system's light or dark theme. Its JSON endpoints:
`GET /_user/info?user=ID`, `POST /_user/send` `{"user", "text", "first_name"...}`,
`POST /_user/press` `{"user", "message_id", "callback_data"}`, and the long poll
`GET /_user/feed?user=ID&after=SEQ&timeout=25` of the chat's events (`message`, `edit`,
`delete`, `press`, `answer`, `action`); photos are served at `/file/photo/{file_id}`.

Run it by hand:

```sh
./run python -m rooms_bot.local_api --demo   # with a small demo bot; open the URL it prints
./run python -m rooms_bot.local_api          # for the real bot: port 8081, token 123456:TEST-TOKEN
# then point the bot at http://127.0.0.1:8081 and open http://127.0.0.1:8081/chat?user=42&name=Ann
```

### Not like Telegram

Private chats only (no groups, channels, inline mode or inline messages); photos are kept
as uploaded (one PhotoSize, no thumbnails) and photo URLs are not downloaded; webhooks may be
plain http; legacy `Markdown` is approximate; the inline-button rule is stricter (above).

### Speed

On the project's 2-core machine: the user side creates about 10,000 updates a second,
`getUpdates` hands out about 35,000 a second, `wait_for_message` is linear in the chat's
length. 1,000 users writing at once to an aiogram echo bot (polling, in the same process)
all get their one reply in 3-7 s, and 1,000 pressing a button each get their edit and
answer in 6-16 s (`tests/bot/test_local_api.py`); most of that time is aiogram's own
processing of the bot side, not the server.
"""

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
