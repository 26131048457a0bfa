"""``construct``: the trusted constructor of the bet path makes what pydantic makes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from rooms_core.models import Bet, BetStatus, Side, construct
from rooms_core.room import Room
from tests.support import START

FIELDS: dict[str, Any] = {
    "id": 7,
    "room_id": 3,
    "user_id": 5,
    "side": Side.NO,
    "stake": 1_000,
    "placed_at": START,
    "idempotency_key": "k",
    "status": BetStatus.ACTIVE,
    "payout": 0,
    "refund_reason": None,
}


@pytest.mark.parametrize("order", ["declared", "reversed"])
def test_construct_makes_what_model_construct_makes(order: str) -> None:
    values = FIELDS if order == "declared" else dict(reversed(list(FIELDS.items())))
    made = construct(Bet, **values)
    expected = Bet.model_construct(**FIELDS)
    assert made == expected == Bet(**FIELDS)
    assert list(made.__dict__) == list(expected.__dict__)  # declaration order either way
    assert made.model_fields_set == set(FIELDS)
    assert made.__pydantic_extra__ is None
    assert made.__pydantic_private__ is None


def test_construct_copies_are_independent() -> None:
    first, second = construct(Bet, **FIELDS), construct(Bet, **FIELDS)
    assert first.__dict__ is not second.__dict__
    assert first.__pydantic_fields_set__ is not second.__pydantic_fields_set__


def test_a_bet_is_frozen() -> None:
    bet = construct(Bet, **FIELDS)
    with pytest.raises(ValidationError):
        bet.payout = 5  # type: ignore[misc]  # what the check is for
    assert bet.payout == 0


def test_construct_refuses_missing_or_unknown_fields_and_private_models() -> None:
    missing = {k: v for k, v in FIELDS.items() if k != "payout"}
    with pytest.raises(TypeError):
        construct(Bet, **missing)
    with pytest.raises(TypeError):
        construct(Bet, **FIELDS, extra=1)
    with pytest.raises(TypeError):
        construct(Room, id=1)
