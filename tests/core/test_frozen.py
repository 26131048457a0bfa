"""quick_init gives a frozen, slotted dataclass a quicker __init__ and changes nothing else."""

from __future__ import annotations

import dataclasses
import pickle
from dataclasses import FrozenInstanceError, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from rooms_core.frozen import quick_init
from rooms_core.ledger import JournalEntry, Posting, UnbalancedEntry
from rooms_core.models import AuditRecord


def value_class(name: str, quick: bool) -> Any:
    """The same frozen, slotted dataclass, with or without quick_init (named as the module
    global it is bound to, so that it pickles)."""

    @dataclass(frozen=True, slots=True)
    class Value:
        a: int
        b: str
        c: tuple[int, ...] = ()
        d: int = 4
        seen: ClassVar[int] = 0

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError("negative")

    Value.__name__ = Value.__qualname__ = name
    return quick_init(Value) if quick else Value


Plain, Quick = value_class("Plain", quick=False), value_class("Quick", quick=True)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((1, "x"), {}), ((1, "x", (2,)), {}), ((1,), {"b": "y", "d": 9}), ((), {"a": 3, "b": "z"})],
)
def test_same_values_as_the_generated_init(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    plain, quick = Plain(*args, **kwargs), Quick(*args, **kwargs)
    assert dataclasses.astuple(plain) == dataclasses.astuple(quick)
    assert repr(quick) == repr(plain).replace("Plain", "Quick")
    assert Quick.__init__ is not Plain.__init__


def test_still_frozen_hashable_and_comparable() -> None:
    quick = Quick(1, "x")
    with pytest.raises(FrozenInstanceError):
        quick.a = 2
    assert quick == Quick(1, "x") != Quick(2, "x")
    assert hash(quick) == hash(Quick(1, "x"))
    assert dataclasses.replace(quick, d=5) == Quick(1, "x", (), 5)
    assert pickle.loads(pickle.dumps(quick)) == quick
    assert not hasattr(quick, "__dict__")


def test_post_init_runs_and_argument_errors_stay_type_errors() -> None:
    with pytest.raises(ValueError, match="negative"):
        Quick(-1, "x")
    with pytest.raises(TypeError):
        Quick(1)
    with pytest.raises(TypeError):
        Quick(1, "x", (), 4, 5)
    with pytest.raises(TypeError):
        Quick(1, "x", e=5)


def test_the_hot_value_objects_keep_their_rules() -> None:
    with pytest.raises(UnbalancedEntry):
        JournalEntry("k", "BET", datetime(2026, 1, 1, tzinfo=UTC), (Posting("a", 1),))  # type: ignore[arg-type]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    record = AuditRecord(1, at, "system", "x", {}, "0", "1")
    assert (record.seq, record.hash) == (1, "1")
    with pytest.raises(FrozenInstanceError):
        record.hash = "2"  # type: ignore[misc]


def test_refuses_what_it_does_not_support() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class Factory:
        a: list[int] = field(default_factory=list)

    @dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        a: int

    for cls in (Mutable, NoSlots, Factory, KeywordOnly):
        with pytest.raises(TypeError):
            quick_init(cls)
