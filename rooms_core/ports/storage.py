"""Storage: the unit of work and its repositories.

A repository is a collection (``add``/``get``/``update``); nothing about SQL leaks out. The
unit of work is one transaction: ``async with uow: ...; await uow.commit()``. Leaving the
block without ``commit`` rolls everything back. Objects returned by ``get`` are copies:
changing one changes nothing until it is passed to ``update`` and the unit of work commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from returns.result import Result

from rooms_core.errors import AlreadyBet, InsufficientFunds, SettlementInProgress
from rooms_core.events import DomainEvent
from rooms_core.frozen import quick_init
from rooms_core.ledger import JournalEntry
from rooms_core.models import (
    AuditRecord,
    Bet,
    Deposit,
    OutboxMessage,
    PlatformControls,
    User,
    Withdrawal,
    WithdrawalState,
)
from rooms_core.parimutuel import BetResult
from rooms_core.room import Room, RoomState


class TransientStorageError(Exception):
    """The storage could not finish a unit of work for a reason that may pass: a lost
    connection, a failover, a deadlock or a lost race on a unique key. Nothing of the unit
    of work was applied, except when the connection was lost during ``commit``, where it may
    have been. Either way the whole unit of work may be run again: idempotency keys make a
    repeat of an applied one change nothing (:func:`rooms_core.services.retry.retrying`)."""


class StorageUnavailable(TransientStorageError):
    """The connection to the storage failed or was lost."""


class StorageConflict(TransientStorageError):
    """A concurrent transaction won a race (unique key, deadlock, serialization)."""


@quick_init
@dataclass(frozen=True, slots=True)
class BetPlacementView:
    """What placing one bet reads, in one go (one statement on a database).

    ``room`` is held for the rest of the unit of work (waiting for a concurrent holder), so
    pool counts written back are never stale."""

    previous_ref: str | None  # the result of an earlier request with the same key
    room: Room | None
    has_bet: bool  # this user already has a bet in this room
    user_exists: bool
    betting_paused: bool = False  # the operators' switch (PlatformControls)


@dataclass(frozen=True, slots=True)
class BetTotals:
    count: int  # bets ever placed
    volume: int  # lamports staked in them


class UserRepository(Protocol):
    async def next_id(self) -> int:
        """A fresh, never reused user id."""

    async def add(self, user: User) -> None:
        """Store a new user. Telegram id, referral code and deposit address are unique."""

    async def get(self, user_id: int) -> User | None:
        """The user, or None."""

    async def exists(self, user_id: int) -> bool:
        """Whether a user with this id exists (no copy, no lock)."""

    async def count(self) -> int:
        """How many users there are."""

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        """The user registered with this Telegram id, or None."""

    async def get_by_referral_code(self, code: str) -> User | None:
        """The owner of a referral code, or None."""

    async def get_by_deposit_address(self, address: str) -> User | None:
        """The user whose deposit address this is, or None."""

    async def update(self, user: User) -> None:
        """Write back a changed user."""

    async def with_deposit_address(self, after_id: int, limit: int) -> list[User]:
        """Users that have a deposit address, by id, from the first id above ``after_id``."""

    async def referral_counts(self, user_id: int, levels: int) -> list[int]:
        """How many users sit 1..levels below this user in the referral tree."""

    async def referrer_chains(self, user_ids: Sequence[int], levels: int) -> dict[int, list[int]]:
        """For each user, their referrers nearest first, at most ``levels`` deep."""


class RoomRepository(Protocol):
    async def next_id(self) -> int:
        """A fresh, never reused room id."""

    async def add(self, room: Room) -> None:
        """Store a new room."""

    async def get(self, room_id: int) -> Room | None:
        """The room, or None (no lock taken)."""

    async def get_for_update(self, room_id: int) -> Result[Room | None, SettlementInProgress]:
        """The room with an exclusive hold for the rest of this unit of work.

        ``Failure(SettlementInProgress)`` when another transaction holds it and the adapter
        does not wait (a database row lock taken with NOWAIT)."""

    async def update(self, room: Room) -> None:
        """Write back a changed room. The room is handed over: an adapter may keep this
        very object as the stored row, so the caller does not change it afterwards (it
        reads the room again, or changes it and updates again)."""

    async def list_by_state(
        self, states: Sequence[RoomState], limit: int = 100, offset: int = 0
    ) -> list[Room]:
        """Rooms in any of these states, oldest first."""

    async def count_by_state(self) -> dict[RoomState, int]:
        """How many rooms are in each state (states without rooms are left out)."""

    async def due(self, now: datetime, limit: int) -> list[Room]:
        """Active rooms with a time-driven transition due at ``now`` (lock_at or settle_at
        passed), locked for this unit of work and skipped by concurrent scanners."""


class BetRepository(Protocol):
    async def next_id(self) -> int:
        """A fresh, never reused bet id."""

    async def add(self, bet: Bet) -> Result[None, AlreadyBet]:
        """Store a new bet; one bet per (user, room)."""

    async def get(self, bet_id: int) -> Bet | None:
        """The bet, or None."""

    async def placement_view(
        self, user_id: int, room_id: int, request_key: str
    ) -> BetPlacementView:
        """Everything :func:`rooms_core.services.bets.place_bet` checks before writing.

        What it reads must still hold when the unit of work commits: an adapter either
        locks it or re-checks it at commit and raises a :class:`TransientStorageError`
        when it changed (a retry then reads it anew)."""

    async def get_by_user_and_room(self, user_id: int, room_id: int) -> Bet | None:
        """This user's bet in this room, or None."""

    async def list_for_room(self, room_id: int) -> list[Bet]:
        """Every bet of a room, by id."""

    async def bettor_ids(self, room_id: int) -> list[int]:
        """The users who bet in a room, in the order of their bets (what notifying every
        bettor needs, without reading the bets themselves)."""

    async def list_for_user(self, user_id: int, limit: int = 50) -> list[Bet]:
        """A user's bets, newest first."""

    async def record_results(self, results: Sequence[BetResult]) -> None:
        """Write the outcome of many bets at once (their status, payout and refund reason;
        settlement is set-based)."""

    async def totals(self) -> BetTotals:
        """How many bets were ever placed and how much they staked."""


class LedgerRepository(Protocol):
    async def post(self, entry: JournalEntry) -> Result[bool, InsufficientFunds]:
        """Apply a balanced entry atomically.

        ``Success(True)`` when applied, ``Success(False)`` when an entry with this key exists
        already (a replay: nothing changes). ``Failure(InsufficientFunds)`` when it would take
        a non-external account below zero; then nothing is applied."""

    async def balance(self, account: str) -> int:
        """Current balance of one account (0 for an unknown account)."""

    async def balances(self, accounts: Sequence[str]) -> dict[str, int]:
        """Current balances of several accounts."""

    async def get_entry(self, key: str) -> JournalEntry | None:
        """The entry with this idempotency key, or None."""

    async def entries_for(self, account: str, limit: int = 50) -> list[JournalEntry]:
        """Entries touching an account, newest first."""

    async def trial_balance(self) -> int:
        """Sum of every account's balance: zero in a healthy ledger."""

    async def total_by_prefix(self, prefixes: Sequence[str]) -> dict[str, int]:
        """For each prefix (e.g. ``"user:"``), the sum of the balances of the accounts whose
        name starts with it."""


class ReferralRepository(Protocol):
    async def record_reward(
        self, referrer_id: int, level: int, amount: int, room_id: int, bet_id: int
    ) -> None:
        """Record one referral reward paid at settlement."""

    async def earnings(self, user_id: int) -> dict[int, int]:
        """Lifetime referral earnings by level (1, 2, 3)."""


class OutboxRepository(Protocol):
    async def next_id(self) -> int:
        """A fresh outbox message id."""

    async def add(self, message: OutboxMessage) -> None:
        """Record a notification; a repeated ``dedupe_key`` is ignored."""

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        """Unsent messages due at ``now``, oldest first, locked for this unit of work and
        skipped by concurrent dispatchers."""

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        """Mark a message sent; it is never claimed again."""

    async def reschedule(self, message_id: int, at: datetime, error: str) -> None:
        """Count a failed attempt and try again at ``at``."""

    async def postpone(self, message_id: int, at: datetime) -> None:
        """Try again at ``at`` without counting an attempt (a rate limit said wait)."""

    async def give_up(self, message_id: int, at: datetime, error: str) -> None:
        """Stop trying: the message is kept with its error and never claimed again."""

    async def pending_count(self) -> int:
        """How many messages wait to be sent."""


class AuditRepository(Protocol):
    async def append(self, actor: str, action: str, details: dict[str, str | int | None]) -> None:
        """Append a record; the adapter chains its hash to the previous record's."""

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        """Committed records in order."""


class IdempotencyRepository(Protocol):
    async def get(self, key: str) -> str | None:
        """The stored result reference for a request key, or None."""

    async def put(self, key: str, result_ref: str) -> None:
        """Remember the result of a request key (unique)."""


class DepositRepository(Protocol):
    async def add(self, deposit: Deposit) -> bool:
        """Store a credited deposit; False when (signature, address, instruction index) exists."""

    async def exists(self, signature: str, address: str, instruction_index: int) -> bool:
        """Whether this payment was credited already."""

    async def get_cursor(self, address: str) -> str | None:
        """The newest processed signature for a watched address."""

    async def set_cursor(self, address: str, signature: str) -> None:
        """Advance the watch cursor of an address."""


class WithdrawalRepository(Protocol):
    async def next_id(self) -> int:
        """A fresh withdrawal id."""

    async def add(self, withdrawal: Withdrawal) -> None:
        """Store a new withdrawal."""

    async def get(self, withdrawal_id: int) -> Withdrawal | None:
        """The withdrawal, or None."""

    async def get_for_update(self, withdrawal_id: int) -> Withdrawal | None:
        """The withdrawal, held for the rest of this unit of work (waiting for a concurrent
        holder), so a state change is decided on its newest state."""

    async def update(self, withdrawal: Withdrawal) -> None:
        """Write back a changed withdrawal."""

    async def list_by_state(
        self, states: Sequence[WithdrawalState], limit: int
    ) -> list[Withdrawal]:
        """Withdrawals in these states, oldest first, locked and skipped by other workers."""

    async def pending_total(self) -> int:
        """Sum of reserved amounts not yet confirmed or released."""


class ControlsRepository(Protocol):
    async def get(self) -> PlatformControls:
        """The operators' switches (all off until first set)."""

    async def set(self, controls: PlatformControls) -> None:
        """Replace the switches."""


class UnitOfWork(Protocol):
    """One transaction over every repository."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def rooms(self) -> RoomRepository: ...

    @property
    def bets(self) -> BetRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def referrals(self) -> ReferralRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def audit(self) -> AuditRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def deposits(self) -> DepositRepository: ...

    @property
    def withdrawals(self) -> WithdrawalRepository: ...

    @property
    def controls(self) -> ControlsRepository: ...

    async def __aenter__(self) -> Self:
        """Begin the transaction."""

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """End it: roll back whatever was not committed."""

    def emit(self, *events: DomainEvent) -> None:
        """Record domain events; they are published to subscribers only if this unit of
        work commits, after the commit."""

    async def commit(self) -> None:
        """Make every change of this unit of work durable at once, then publish its events."""

    async def rollback(self) -> None:
        """Discard every change of this unit of work."""
