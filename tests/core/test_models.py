"""``construct``: the trusted constructor of the bet path makes what pydantic makes."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from rooms_core.models import AllFieldsSet, Bet, BetStatus, Side, construct
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


class Handle(BaseModel):
    """A mutable model, to construct."""

    user_id: int
    created_at: datetime


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


def test_frozen_models_share_one_read_only_fields_set() -> None:
    first, second = construct(Bet, **FIELDS), construct(Bet, **FIELDS)
    shared = first.__pydantic_fields_set__
    assert shared is second.__pydantic_fields_set__
    assert isinstance(shared, AllFieldsSet)
    assert shared == set(FIELDS)
    mutators: tuple[Callable[[set[str]], object], ...] = (
        lambda s: s.add("x"),
        lambda s: s.discard("id"),
        lambda s: s.remove("id"),
        lambda s: s.pop(),
        lambda s: s.clear(),
        lambda s: s.update({"x"}),
        lambda s: s.difference_update({"id"}),
        lambda s: s.intersection_update({"id"}),
        lambda s: s.symmetric_difference_update({"id"}),
    )
    for mutate in mutators:
        with pytest.raises(TypeError):
            mutate(shared)
    with pytest.raises(TypeError):
        shared |= {"x"}
    assert shared == set(FIELDS)
    assert first.model_dump(exclude_unset=True) == first.model_dump() == Bet(**FIELDS).model_dump()
    # A copy with changes gets an ordinary set of its own; the shared one is untouched.
    changed = first.model_copy(update={"payout": 5})
    assert changed.payout == 5
    assert type(changed.__pydantic_fields_set__) is set
    assert changed.__pydantic_fields_set__ is not shared
    assert shared == set(FIELDS)
    assert type(shared.copy()) is set
    assert type(copy.copy(shared)) is set
    assert pickle.loads(pickle.dumps(first)) == first


def test_a_mutable_model_gets_a_fields_set_of_its_own() -> None:
    values = {"user_id": 1, "created_at": START}
    first, second = construct(Handle, **values), construct(Handle, **values)
    assert first.__pydantic_fields_set__ is not second.__pydantic_fields_set__
    first.user_id = 2
    assert second.user_id == 1
    assert type(first.__pydantic_fields_set__) is set


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
