"""The catalogue covers every error and notification, escapes what users type, and every
button's payload fits Telegram's 64 bytes."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import timedelta
from decimal import Decimal

import pytest

from rooms_bot import callbacks
from rooms_bot.notifications import render_notification
from rooms_bot.parsing import parse_duration, parse_target
from rooms_bot.texts import CATALOGUE, Html, clip, error_text, t
from rooms_core import errors, oracle_errors
from rooms_core.errors import DomainError, InsufficientBalance, TitleLength
from rooms_core.models import NotificationKind, OutboxMessage, Side
from rooms_core.ports import chain, messenger, signer
from tests.support import START


def every_domain_error() -> list[type[DomainError]]:
    found: set[type[DomainError]] = set()
    for module in (errors, oracle_errors, chain, messenger, signer):
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, DomainError) and value is not DomainError:
                found.add(value)
    return sorted(found, key=lambda c: c.__name__)


@pytest.mark.parametrize("error_type", every_domain_error(), ids=lambda c: c.__name__)
def test_every_domain_error_has_a_user_message(error_type: type[DomainError]) -> None:
    assert f"error.{error_type.__name__}" in CATALOGUE
    values: dict[str, object] = {}
    for field in dataclasses.fields(error_type):
        kind = str(field.type)
        values[field.name] = (
            1 if "int" in kind else Decimal(1) if "Decimal" in kind else START if "datetime" in kind
            else () if "tuple" in kind else None if "None" in kind and "str" not in kind else "x"
        )  # fmt: skip
    text = error_text(error_type(**values))
    assert text
    assert "{" not in text


def test_error_texts_show_lamports_as_sol() -> None:
    assert error_text(InsufficientBalance(1_500_000_000, 250_000_000)).startswith(
        "Insufficient balance: you need 1.5 SOL and have 0.25 SOL."
    )
    assert error_text(TitleLength(3, 5, 200)) == (
        "The title must be 5-200 characters long; yours has 3."
    )


def test_user_text_is_escaped_and_own_markup_is_not() -> None:
    rendered = t("create.done", id=7, title="<b>pwn</b> & co")
    assert "&lt;b&gt;pwn&lt;/b&gt; &amp; co" in rendered
    confirm = t("bet.confirm", id=1, title="x", side="YES", stake="1",
                projection=Html("<i>p</i>"), fee_pct="3", protocol_pct="2", host_pct="1",
                fee_amount="")  # fmt: skip
    assert confirm.count("<i>p</i>") == 1


@pytest.mark.parametrize("kind", list(NotificationKind))
def test_every_notification_renders(kind: NotificationKind) -> None:
    payload: dict[str, str | int] = {
        "room_id": 3, "stake": 1_000_000_000, "payout": 1_940_000_000, "profit": 940_000_000,
        "side": "YES", "amount": 2_500_000_000, "signature": "5ig", "reason": "VOID",
        "text": "deficit <1 SOL>",
    }  # fmt: skip
    message = OutboxMessage(1, 1, kind, payload, "k", START, START)
    text = render_notification(message)
    assert "{" not in text
    assert "<1 SOL>" not in text  # payload text is escaped


def test_refund_reasons_are_in_words() -> None:
    message = OutboxMessage(1, 1, NotificationKind.BET_REFUNDED,
                            {"room_id": 3, "stake": 10**9, "reason": "NO_OPPOSITION"}, "k",
                            START, START)  # fmt: skip
    assert "nobody bet on the other side" in render_notification(message)


def test_the_widest_button_payloads_fit_in_64_bytes() -> None:
    huge = 2**63 - 1
    widest = [
        callbacks.BetConfirmCb(room_id=huge, side=Side.YES, lamports=huge, nonce="X" * 10),
        callbacks.BetAmountCb(room_id=huge, side=Side.NO, lamports=huge),
        callbacks.AdminWithdrawalCb(withdrawal_id=huge, approve=False),
        callbacks.CreateConfirmCb(nonce="X" * 10),
        callbacks.RoomsPageCb(page=huge),
        callbacks.AdminCb(action=callbacks.Admin.RESUME_WITHDRAWALS),
    ]
    for data in widest:
        assert len(data.pack().encode()) <= 64, data.pack()


def test_long_texts_are_clipped_at_a_line() -> None:
    text = "\n".join(f"line {i}" for i in range(2000))
    clipped = clip(text)
    assert len(clipped) <= 4096
    assert clipped.endswith("…")
    assert clip("short") == "short"


@pytest.mark.parametrize(
    ("typed", "value"),
    [("200", Decimal(200)), ("$1,250,000", Decimal(1250000)), ("1.5k", Decimal(1500)),
     ("2M", Decimal(2_000_000)), ("0,25", Decimal("0.25")), ("0.000123", Decimal("0.000123")),
     ("abc", None), ("", None), ("1e6", Decimal(1_000_000))],
)  # fmt: skip
def test_targets_people_type(typed: str, value: Decimal | None) -> None:
    assert parse_target(typed) == value


@pytest.mark.parametrize(
    ("typed", "minutes"),
    [("90", 90), ("90m", 90), ("3h", 180), ("1h30m", 90), ("1h 30min", 90), ("2 hours", 120),
     ("soon", None), ("h", None), ("", None)],
)  # fmt: skip
def test_durations_people_type(typed: str, minutes: int | None) -> None:
    parsed = parse_duration(typed)
    assert parsed == (None if minutes is None else timedelta(minutes=minutes))
