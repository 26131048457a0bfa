"""Telegram Mini App initData: valid, tampered, expired, from the future, malformed; and the
API's answers to each."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

from returns.result import Failure, Success

from rooms_api.auth import (
    InitDataExpired,
    InitDataInvalid,
    init_data_from_header,
    verify_init_data,
)
from tests.api.support import BOT_TOKEN, client_of, init_data, make_api, register
from tests.support import START

DAY = timedelta(hours=24)


def test_valid_init_data_names_the_telegram_user() -> None:
    verified = verify_init_data(init_data(42, START), BOT_TOKEN, START + timedelta(hours=1), DAY)
    assert isinstance(verified, Success)
    assert verified.unwrap().id == 42
    assert verified.unwrap().username == "tester"


def tampered(data: str, key: str, value: str) -> str:
    fields = dict(parse_qsl(data))
    fields[key] = value
    return urlencode(fields)


def test_tampered_init_data_is_refused() -> None:
    data = init_data(42, START)
    someone_else = tampered(data, "user", '{"id": 43, "first_name": "Mallory"}')
    later = tampered(data, "auth_date", str(int((START + DAY).timestamp())))
    for bad in (someone_else, later, tampered(data, "hash", "0" * 64)):
        result = verify_init_data(bad, BOT_TOKEN, START, DAY)
        assert result == Failure(InitDataInvalid("the signature does not match"))


def test_init_data_signed_with_another_bot_token_is_refused() -> None:
    data = init_data(42, START, token="987654321:another-bots-token-0123456789abcdef")
    assert isinstance(verify_init_data(data, BOT_TOKEN, START, DAY), Failure)


def test_old_init_data_has_expired_and_future_init_data_too() -> None:
    data = init_data(42, START)
    assert verify_init_data(data, BOT_TOKEN, START + DAY + timedelta(seconds=1), DAY) == Failure(
        InitDataExpired()
    )
    assert isinstance(verify_init_data(data, BOT_TOKEN, START + DAY, DAY), Success)
    assert verify_init_data(data, BOT_TOKEN, START - timedelta(minutes=5), DAY) == Failure(
        InitDataExpired()
    )


def test_malformed_init_data_is_refused_without_a_crash() -> None:
    for bad in ("", "garbage", "a=1&a=2", "hash=", "%%%", "user=1&hash=ab", "x" * 10_000):
        assert isinstance(verify_init_data(bad, BOT_TOKEN, START, DAY), Failure), bad
    no_user = init_data(42, START, user="not json")
    assert verify_init_data(no_user, BOT_TOKEN, START, DAY) == Failure(InitDataInvalid("no user"))


def test_the_header_is_tma_then_the_init_data() -> None:
    assert init_data_from_header("tma a=1&hash=2") == "a=1&hash=2"
    assert init_data_from_header("TMA  a=1 ") == "a=1"
    for bad in (None, "", "Bearer x", "tma", "tma   "):
        assert init_data_from_header(bad) is None


async def test_the_api_answers_401_without_valid_init_data_and_403_before_start() -> None:
    api = make_api()
    now = api.platform.clock.now()
    forged = tampered(init_data(5, now), "user", '{"id": 6}')
    async with client_of(api.app) as client:
        for headers in (
            {},
            {"Authorization": "Bearer abc"},
            {"Authorization": f"tma {forged}"},
            {"Authorization": f"tma {init_data(5, now - DAY - timedelta(minutes=1))}"},
        ):
            answer = await client.get("/api/me", headers=headers)
            assert answer.status_code == 401, headers
            assert set(answer.json()) == {"error", "message"}
            assert answer.headers["www-authenticate"] == "tma"
        expired = await client.get(
            "/api/me",
            headers={"Authorization": f"tma {init_data(5, now - DAY - timedelta(minutes=1))}"},
        )
        assert expired.json()["error"] == "InitDataExpired"

        unregistered = await client.get("/api/me", headers=api.headers(5))
        assert unregistered.status_code == 403
        assert unregistered.json()["error"] == "UserNotRegistered"

        user = await register(api, 5)
        mine = await client.get("/api/me", headers=api.headers(5))
        assert mine.status_code == 200
        assert mine.json()["id"] == user.id
        assert mine.json()["is_admin"] is False
