"""Entities and value objects of the domain (pydantic models).

Entities (``User``, ``Withdrawal``) are mutable pydantic models that repositories copy in
and out; value objects are frozen, and so is ``Bet``: a placed bet is a fact, and its result
is written by the store as a new version of the row (``record_results``), so a bet can be
shared rather than copied. The ``Room`` aggregate lives in
:mod:`rooms_core.room` because it owns the lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from rooms_core.frozen import quick_init

_M = TypeVar("_M", bound=BaseModel)


class AllFieldsSet(set[str]):
    """The fields-set of a frozen model made by :func:`construct`: every field, one
    read-only set shared by all such instances of a class.

    Pydantic keeps a set of the fields explicitly set on each instance; ten fields make a
    set of 728 bytes, more than the rest of a bet, and the simulator keeps a quarter of a
    million bets. A frozen model never changes its fields, so its set never changes either:
    one shared set serves them all. Mutating it raises ``TypeError`` (it is shared);
    ``copy()`` and ``copy.copy()`` give an ordinary set, so ``model_copy(update=...)``
    still works. (A ``set`` subclass, not a ``frozenset``: pydantic-core's serialiser
    takes only sets.)"""

    __slots__ = ()

    def copy(self) -> set[str]:
        return set(self)

    def __copy__(self) -> set[str]:
        return set(self)


def _read_only(self: AllFieldsSet, *args: object) -> None:
    raise TypeError("a constructed frozen model's fields-set is shared and read-only")


for _mutator in (
    "add",
    "discard",
    "remove",
    "pop",
    "clear",
    "update",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "__ior__",
    "__iand__",
    "__isub__",
    "__ixor__",
):
    setattr(AllFieldsSet, _mutator, _read_only)


_CONSTRUCTABLE: dict[
    type[BaseModel], tuple[tuple[str, ...], frozenset[str], AllFieldsSet | None]
] = {}


def construct(cls: type[_M], /, **values: Any) -> _M:
    """``cls.model_construct(**values)`` for a model without private attributes, aliases
    or extra fields, given every field's trusted value: the same instance (fields in
    declaration order, every field counted as set) without pydantic's per-field loop over
    aliases and defaults, which costs microseconds on the bet path. (Values given in
    declaration order, as the bet path gives them, become the instance's ``__dict__`` as
    they are: a call's keyword dict is its own.) Instances of a frozen model share one
    :class:`AllFieldsSet` as their fields-set."""
    known = _CONSTRUCTABLE.get(cls)
    if known is None:
        if cls.__private_attributes__:
            raise TypeError(f"construct({cls.__name__}) needs a model without private fields")
        fields = cls.__pydantic_fields__
        shared = AllFieldsSet(fields) if cls.model_config.get("frozen") else None
        known = _CONSTRUCTABLE[cls] = (tuple(fields), frozenset(fields), shared)
    names, name_set, shared = known
    if tuple(values) != names:
        if values.keys() != name_set:
            raise TypeError(f"construct({cls.__name__}) needs exactly its fields")
        values = {name: values[name] for name in names}
    model = object.__new__(cls)
    object.__setattr__(model, "__dict__", values)
    object.__setattr__(
        model, "__pydantic_fields_set__", set(name_set) if shared is None else shared
    )
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


class Side(StrEnum):
    YES = "YES"
    NO = "NO"

    @property
    def other(self) -> Side:
        return Side.NO if self is Side.YES else Side.YES


class AssetKind(StrEnum):
    COIN = "COIN"  # a coin symbol such as SOL
    TOKEN = "TOKEN"  # a pump.fun (or other SPL) token mint address


class Metric(StrEnum):
    PRICE_USD = "PRICE_USD"
    MARKET_CAP_USD = "MARKET_CAP_USD"


class Comparator(StrEnum):
    GTE = ">="
    LTE = "<="


class Asset(BaseModel):
    """What a room is about: a coin symbol or a token mint, and which number of it."""

    model_config = ConfigDict(frozen=True)

    kind: AssetKind
    id: str  # upper-case symbol for coins, base58 mint for tokens
    metric: Metric = Metric.PRICE_USD

    @cached_property
    def key(self) -> str:
        """A stable string identity, e.g. ``COIN:SOL:PRICE_USD``."""
        return f"{self.kind.value}:{self.id}:{self.metric.value}"

    def __hash__(self) -> int:
        # The key names every field, so equal assets hash alike. (Pydantic's hash for a
        # frozen model builds a tuple of the fields on every call; the oracle keys its
        # dicts by asset, some ninety hashes a poll.)
        return hash(self.key)

    def __str__(self) -> str:
        return self.id if self.metric is Metric.PRICE_USD else f"{self.id} market cap"


@quick_init
@dataclass(frozen=True, slots=True)
class Quote:
    """One source's observation of one asset. (A dataclass: the oracle builds thousands a
    minute, and these never need validation.)"""

    asset: Asset
    value: Decimal
    source: str
    observed_at: datetime
    confidence: Decimal | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class Observation:
    """The oracle's accepted (consensus) value of an asset at a moment."""

    asset: Asset
    value: Decimal
    observed_at: datetime
    sources: tuple[str, ...]
    quorum: int = 1


class User(BaseModel):
    id: int
    telegram_id: int | None = None
    username: str | None = None
    referral_code: str
    referrer_id: int | None = None
    deposit_address: str | None = None
    created_at: datetime


class BetStatus(StrEnum):
    ACTIVE = "ACTIVE"
    WON = "WON"
    LOST = "LOST"
    REFUNDED = "REFUNDED"


class RefundReason(StrEnum):
    LATE_BET = "LATE_BET"  # placed at/after the observation that triggered instant settlement
    NO_OPPOSITION = "NO_OPPOSITION"  # one pool was empty when the room settled
    CANCELLED = "CANCELLED"  # room cancelled at lock time
    VOID = "VOID"  # no valid settlement price, or voided by an admin


class Bet(BaseModel):
    """One user's stake on one side of one room. Frozen: settlement records its result as a
    new version (status, payout, refund reason); a ``Bet`` read earlier keeps what it said."""

    model_config = ConfigDict(frozen=True)

    id: int
    room_id: int
    user_id: int
    side: Side
    stake: int
    placed_at: datetime
    idempotency_key: str
    status: BetStatus = BetStatus.ACTIVE
    payout: int = 0  # lamports credited back at settlement (winnings or refund)
    refund_reason: RefundReason | None = None


class WithdrawalState(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"  # large amount, waits for two distinct admins
    APPROVED = "APPROVED"  # ready to be signed and sent
    SENT = "SENT"  # signed; signature recorded before sending
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"  # released back to the balance
    REJECTED = "REJECTED"  # an admin rejected it; released back to the balance


class Withdrawal(BaseModel):
    id: int
    user_id: int
    destination: str
    amount: int
    state: WithdrawalState
    created_at: datetime
    idempotency_key: str
    approvals: tuple[int, ...] = ()
    signature: str | None = None
    blockhash: str | None = None
    last_valid_block_height: int | None = None
    failure_reason: str | None = None
    updated_at: datetime | None = None


class Deposit(BaseModel):
    """A credited on-chain payment; unique on (signature, address, instruction_index)."""

    model_config = ConfigDict(frozen=True)

    signature: str
    address: str
    instruction_index: int
    user_id: int
    amount: int
    credited_at: datetime


class NotificationKind(StrEnum):
    BET_CONFIRMED = "BET_CONFIRMED"
    ROOM_OPENED = "ROOM_OPENED"
    ROOM_LOCKED = "ROOM_LOCKED"
    BET_WON = "BET_WON"
    BET_LOST = "BET_LOST"
    BET_REFUNDED = "BET_REFUNDED"
    DEPOSIT_CREDITED = "DEPOSIT_CREDITED"
    WITHDRAWAL_SENT = "WITHDRAWAL_SENT"
    WITHDRAWAL_FAILED = "WITHDRAWAL_FAILED"
    REFERRAL_REWARD = "REFERRAL_REWARD"
    ADMIN_ALERT = "ADMIN_ALERT"


@dataclass(slots=True)
class OutboxMessage:
    """A notification recorded in the same unit of work as the change it reports."""

    id: int
    user_id: int
    kind: NotificationKind
    payload: dict[str, str | int]
    dedupe_key: str
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
    gave_up_at: datetime | None = None  # stopped trying (permanent failure, too many attempts)


@dataclass(frozen=True, slots=True)
class PlatformControls:
    """The operators' switches. Betting paused: no new bets are taken (settlement, refunds
    and everything else go on). Withdrawals paused: no new withdrawal is requested or signed
    (those already sent are still followed to the end)."""

    betting_paused: bool = False
    withdrawals_paused: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One link of the hash-chained, append-only audit log."""

    seq: int
    at: datetime
    actor: str
    action: str
    details: dict[str, str | int | None]
    prev_hash: str
    hash: str
