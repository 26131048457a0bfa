"""Telegram Mini App authentication: the ``initData`` string Telegram hands the Mini App,
sent to the API as ``Authorization: tma <initData>``, is checked with the bot token.

Telegram signs it so: the data-check string is every field but ``hash``, as ``key=value``
sorted by key and joined by newlines; the secret key is HMAC-SHA256 of the bot token under
the key ``"WebAppData"``; ``hash`` is the hex HMAC-SHA256 of the data-check string under the
secret key. ``auth_date`` (Unix seconds) must be at most ``max_age`` old, and not in the
future (beyond a few seconds of clock skew).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from returns.result import Failure, Result, Success

CLOCK_SKEW = timedelta(seconds=30)
MAX_INIT_DATA_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class TelegramUser:
    id: int
    username: str | None
    first_name: str | None


@dataclass(frozen=True, slots=True)
class AuthError:
    """Why a request is not authenticated; ``message`` is safe to show (it never repeats
    the data it was given)."""

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def message(self) -> str:
        return "Not authenticated."


@dataclass(frozen=True, slots=True)
class NotAuthenticated(AuthError):
    @property
    def message(self) -> str:
        return "Send the Mini App's initData as 'Authorization: tma <initData>'."


@dataclass(frozen=True, slots=True)
class InitDataInvalid(AuthError):
    reason: str

    @property
    def message(self) -> str:
        return f"The initData is not valid: {self.reason}."


@dataclass(frozen=True, slots=True)
class InitDataExpired(AuthError):
    @property
    def message(self) -> str:
        return "The initData has expired: reopen the Mini App."


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """``fields`` with Telegram's ``hash`` added, as a query string (for tests and tools)."""
    from urllib.parse import urlencode

    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    digest = hmac.new(secret_key(bot_token), check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def verify_init_data(
    init_data: str, bot_token: str, now: datetime, max_age: timedelta
) -> Result[TelegramUser, AuthError]:
    """The Telegram user ``init_data`` was signed for, or why it cannot be trusted."""
    if not init_data or len(init_data) > MAX_INIT_DATA_LENGTH:
        return Failure(InitDataInvalid("empty or too long"))
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return Failure(InitDataInvalid("not a query string"))
    fields: dict[str, str] = {}
    for key, value in pairs:
        if key in fields:
            return Failure(InitDataInvalid(f"{key} given twice"))
        fields[key] = value
    given = fields.pop("hash", "")
    if not given:
        return Failure(InitDataInvalid("no hash"))
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    expected = hmac.new(secret_key(bot_token), check.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        return Failure(InitDataInvalid("the signature does not match"))
    # Only signed data is looked at from here on.
    try:
        auth_date = datetime.fromtimestamp(int(fields.get("auth_date", "")), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return Failure(InitDataInvalid("no auth_date"))
    age = now - auth_date
    if age > max_age or age < -CLOCK_SKEW:
        return Failure(InitDataExpired())
    try:
        user = json.loads(fields.get("user", ""))
        user_id = user["id"]
    except (ValueError, TypeError, KeyError):
        return Failure(InitDataInvalid("no user"))
    if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
        return Failure(InitDataInvalid("no user"))
    username = user.get("username")
    first_name = user.get("first_name")
    return Success(
        TelegramUser(
            id=user_id,
            username=username if isinstance(username, str) else None,
            first_name=first_name if isinstance(first_name, str) else None,
        )
    )


def init_data_from_header(authorization: str | None) -> str | None:
    """The initData of an ``Authorization: tma <initData>`` header, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "tma" or not value.strip():
        return None
    return value.strip()
