"""The in-memory unit of work and its repositories.

A unit of work takes the store's lock for its whole life and writes in place: every write
records in the store's undo log what it replaced, so that leaving without commit (or on an
exception) takes the writes back, newest first, and leaves the store exactly as it was.
Commit only chains the audit records and publishes the events, and forgets the log. (The
simulator makes a quarter of a million units of work a run: writing once is cheaper than
staging every row and copying it into the store at commit.) Mutable objects cross the
boundary as copies, so nothing a caller holds changes the store behind its back; bets are
frozen, so they are shared, and a result is a new version of the bet; a room written back
is handed over (the port says so) and kept as it is. (Copies are made by
:func:`_clone`, a shallow copy like pydantic's ``model_copy()`` without its generic
machinery: the simulator makes a million of them a run.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, Self, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from returns.result import Failure, Result, Success

from rooms_adapters.memory.store import InMemoryStore, RewardRow
from rooms_core.audit import GENESIS_HASH, make_record
from rooms_core.errors import AlreadyBet, InsufficientFunds, SettlementInProgress
from rooms_core.events import DomainEvent
from rooms_core.ledger import JournalEntry, may_go_negative
from rooms_core.models import (
    AllFieldsSet,
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
from rooms_core.ports.storage import BetPlacementView, BetTotals
from rooms_core.room import TERMINAL_STATES, Room, RoomState

_PENDING_WITHDRAWAL_STATES = frozenset(
    {WithdrawalState.PENDING_APPROVAL, WithdrawalState.APPROVED, WithdrawalState.SENT}
)

# Results are immutable, so the constant ones are shared.
_DONE: Success[None] = Success(None)
_POSTED: Success[bool] = Success(True)
_ALREADY_POSTED: Success[bool] = Success(False)

_RESULT_FIELDS = frozenset({"status", "payout", "refund_reason"})

_M = TypeVar("_M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__


def _clone(model: _M) -> _M:
    """A shallow copy of a pydantic model, as ``model.model_copy()`` makes one: the field
    values, the set of fields set, extra fields and private attributes (without undefined
    ones), each in a container of its own, so changing the copy never changes the original.
    """
    copy = _new(type(model))
    _set(copy, "__dict__", model.__dict__.copy())
    fields_set = model.__pydantic_fields_set__
    # A frozen model's shared, read-only set of every field stays shared (it cannot change).
    _set(
        copy,
        "__pydantic_fields_set__",
        fields_set if type(fields_set) is AllFieldsSet else fields_set.copy(),
    )
    extra = model.__pydantic_extra__
    _set(copy, "__pydantic_extra__", None if extra is None else extra.copy())
    private = model.__pydantic_private__
    if private is not None:
        copied = private.copy()
        for name, value in private.items():  # (a loop, not a comprehension: no frame)
            if value is PydanticUndefined:
                del copied[name]
        private = copied
    _set(copy, "__pydantic_private__", private)
    return copy


_MISSING: object = object()  # an undo record's old value: the key was absent
_APPENDED: object = object()  # an undo record's key: a list was appended to
_ADDED: object = object()  # an undo record's key: a set was added to
_ATTR: object = object()  # an undo record's key: an attribute was set
_REINSERT: object = object()  # an undo record's old value: put back an id in order
_CALL: object = object()  # an undo record's key: call the function with the argument


def _undo(undo: list[tuple[Any, Any, Any]]) -> None:
    """Take back the writes an undo log records, newest first. A record is
    ``(dict, key, old value or _MISSING)``, ``(list, _APPENDED, None)``,
    ``(set, _ADDED, item)``, ``(object, _ATTR, (name, old value))`` or
    ``(dict, key, _REINSERT)`` (an id removed from an id-ordered dict) or
    ``(function, _CALL, argument)`` (a write of several rows, undone by one call)."""
    for target, key, old in reversed(undo):
        if key is _CALL:
            target(old)
        elif key is _APPENDED:
            target.pop()
        elif key is _ADDED:
            target.discard(old)
        elif key is _ATTR:
            setattr(target, old[0], old[1])
        elif old is _MISSING:
            del target[key]
        elif old is _REINSERT:
            target[key] = None
            ordered = sorted(target.items())
            target.clear()
            target.update(ordered)
        else:
            target[key] = old
    undo.clear()


class _Repo:
    """A repository over the store, made once per store (see :class:`InMemoryUnitOfWork`):
    reads see the store, writes go straight into it and log how to undo themselves."""

    __slots__ = ("_s", "_undo")

    def __init__(self, store: InMemoryStore) -> None:
        self._s = store
        self._undo = store.tx.undo

    def _put(self, table: dict[Any, Any], key: object, value: object) -> None:
        self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def _append(self, index: dict[Any, list[Any]], key: object, value: object) -> None:
        found = index.get(key)
        if found is None:
            index[key] = [value]
            self._undo.append((index, key, _MISSING))
        else:
            found.append(value)
            self._undo.append((found, _APPENDED, None))


class InMemoryUserRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("users")

    def _copy(self, user_id: int | None) -> User | None:
        if user_id is None:
            return None
        user = self._s.users.get(user_id)
        return None if user is None else _clone(user)

    def _write(self, user: User) -> None:
        s = self._s
        previous = s.users.get(user.id)
        if user.deposit_address is not None:
            self._put(s.user_by_address, user.deposit_address, user.id)
        if user.referrer_id is not None and (
            previous is None or previous.referrer_id != user.referrer_id
        ):
            self._append(s.referred, user.referrer_id, user.id)
        self._put(s.users, user.id, _clone(user))

    async def add(self, user: User) -> None:
        s = self._s
        for index, value in (
            (s.user_by_telegram, user.telegram_id),
            (s.user_by_code, user.referral_code),
            (s.user_by_address, user.deposit_address),
        ):
            if value is not None and value in index:
                raise ValueError(f"duplicate user key {value!r}")
        if user.telegram_id is not None:
            self._put(s.user_by_telegram, user.telegram_id, user.id)
        self._put(s.user_by_code, user.referral_code, user.id)
        self._write(user)

    async def get(self, user_id: int) -> User | None:
        return self._copy(user_id)

    async def exists(self, user_id: int) -> bool:
        return user_id in self._s.users

    async def count(self) -> int:
        return len(self._s.users)

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        return self._copy(self._s.user_by_telegram.get(telegram_id))

    async def get_by_referral_code(self, code: str) -> User | None:
        return self._copy(self._s.user_by_code.get(code))

    async def get_by_deposit_address(self, address: str) -> User | None:
        return self._copy(self._s.user_by_address.get(address))

    async def update(self, user: User) -> None:
        self._write(user)

    async def with_deposit_address(self, after_id: int, limit: int) -> list[User]:
        found = sorted(
            (
                u
                for u in self._s.users.values()
                if u.id > after_id and u.deposit_address is not None
            ),
            key=lambda u: u.id,
        )
        return [_clone(u) for u in found[:limit]]

    async def referral_counts(self, user_id: int, levels: int) -> list[int]:
        referred = self._s.referred
        counts: list[int] = []
        frontier = [user_id]
        for _ in range(levels):
            frontier = [child for parent in frontier for child in referred.get(parent, ())]
            counts.append(len(frontier))
        return counts

    async def referrer_chains(self, user_ids: Sequence[int], levels: int) -> dict[int, list[int]]:
        chains: dict[int, list[int]] = {}
        stored = self._s.users
        for user_id in user_ids:
            chain: list[int] = []
            current = stored.get(user_id)
            while current is not None and current.referrer_id is not None and len(chain) < levels:
                referrer_id = current.referrer_id
                chain.append(referrer_id)
                current = stored.get(referrer_id)
            chains[user_id] = chain
        return chains


class InMemoryRoomRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("rooms")

    async def add(self, room: Room) -> None:
        if room.id in self._s.rooms:
            raise ValueError(f"duplicate room {room.id}")
        self._put(self._s.rooms, room.id, _clone(room))

    async def get(self, room_id: int) -> Room | None:
        room = self._s.rooms.get(room_id)
        return None if room is None else _clone(room)

    async def get_for_update(self, room_id: int) -> Result[Room | None, SettlementInProgress]:
        # The unit of work already holds the store's lock: nobody else can hold this room.
        return Success(await self.get(room_id))

    async def update(self, room: Room) -> None:
        # Handed over (the port says so), so kept as it is: the room a unit of work read
        # is already its own copy, and a second copy on every bet is not needed.
        rooms = self._s.rooms
        self._undo.append((rooms, room.id, rooms.get(room.id, _MISSING)))
        rooms[room.id] = room

    async def list_by_state(
        self, states: Sequence[RoomState], limit: int = 100, offset: int = 0
    ) -> list[Room]:
        wanted = set(states)
        matching = [r for r in self._s.rooms.values() if r.state in wanted]
        matching.sort(key=lambda r: r.id)
        return [_clone(r) for r in matching[offset : offset + limit]]

    async def count_by_state(self) -> dict[RoomState, int]:
        counts: dict[RoomState, int] = {}
        for room in self._s.rooms.values():
            counts[room.state] = counts.get(room.state, 0) + 1
        return counts

    async def due(self, now: datetime, limit: int) -> list[Room]:
        due: list[Room] = []
        for room in self._s.rooms.values():
            if room.state in TERMINAL_STATES:
                continue
            if room.state is RoomState.SETTLING or (
                now >= room.lock_at
                if room.state in (RoomState.QUEUING, RoomState.OPEN)
                else now >= room.settle_at
            ):
                due.append(room)
        due.sort(key=lambda r: r.id)
        return [_clone(r) for r in due[:limit]]


class InMemoryBetRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("bets")

    async def add(self, bet: Bet) -> Result[None, AlreadyBet]:
        s, undo = self._s, self._undo
        key = (bet.user_id, bet.room_id)
        by_user_room = s.bet_by_user_room
        if key in by_user_room:
            return Failure(AlreadyBet(bet.room_id, bet.user_id))
        bet_id = bet.id
        bets = s.bets
        if bet_id in bets:
            raise ValueError(f"duplicate bet {bet_id}")
        bets[bet_id] = bet  # frozen: shared with the caller, not copied
        by_user_room[key] = bet_id
        for index, owner in ((s.bets_by_room, bet.room_id), (s.bets_by_user, bet.user_id)):
            found = index.get(owner)
            if found is None:
                index[owner] = [bet_id]
            else:
                found.append(bet_id)
        s.bet_volume += bet.stake
        undo.append((self._unadd, _CALL, bet))  # one record for the six writes
        return _DONE

    def _unadd(self, bet: Bet) -> None:
        s = self._s
        s.bet_volume -= bet.stake
        for index, owner in ((s.bets_by_user, bet.user_id), (s.bets_by_room, bet.room_id)):
            ids = index[owner]
            ids.pop()  # this bet's id: undone newest first, nothing was appended since
            if not ids:
                del index[owner]
        del s.bet_by_user_room[(bet.user_id, bet.room_id)]
        del s.bets[bet.id]

    async def get(self, bet_id: int) -> Bet | None:
        return self._s.bets.get(bet_id)

    async def placement_view(
        self, user_id: int, room_id: int, request_key: str
    ) -> BetPlacementView:
        # What the idempotency, room and user repositories would answer, read directly.
        s = self._s
        room = s.rooms.get(room_id)
        return BetPlacementView(
            s.idempotency.get(request_key),
            None if room is None else _clone(room),
            (user_id, room_id) in s.bet_by_user_room,
            user_id in s.users,
            s.controls.betting_paused,
        )

    async def get_by_user_and_room(self, user_id: int, room_id: int) -> Bet | None:
        bet_id = self._s.bet_by_user_room.get((user_id, room_id))
        return None if bet_id is None else await self.get(bet_id)

    def _of_room(self, room_id: int) -> list[Bet]:
        """The stored bets of a room, by id (frozen: they leave as they are)."""
        stored = self._s.bets
        # Ids are appended as bets are written, in increasing order: sorted() only checks.
        return [stored[bet_id] for bet_id in sorted(self._s.bets_by_room.get(room_id, ()))]

    async def list_for_room(self, room_id: int) -> list[Bet]:
        return self._of_room(room_id)

    async def bettor_ids(self, room_id: int) -> list[int]:
        return [bet.user_id for bet in self._of_room(room_id)]

    async def list_for_user(self, user_id: int, limit: int = 50) -> list[Bet]:
        stored = self._s.bets
        newest = sorted(self._s.bets_by_user.get(user_id, ()), reverse=True)[:limit]
        return [stored[bet_id] for bet_id in newest]

    async def record_results(self, results: Sequence[BetResult]) -> None:
        # Each bet gets a new version with its result (bets are frozen, and shared with
        # whoever read them: those keep the version they read); one undo record puts the
        # versions before back.
        stored = self._s.bets
        before: list[Bet] = []
        for result in results:
            bet = stored[result.bet_id]
            before.append(bet)
            version = _clone(bet)  # its own field dict, to fill in
            fields = version.__dict__
            fields["status"], fields["payout"] = result.status, result.payout
            fields["refund_reason"] = result.refund_reason
            fields_set = version.__pydantic_fields_set__
            if not fields_set.issuperset(_RESULT_FIELDS):  # a shared set has every field
                fields_set.update(_RESULT_FIELDS)  # as setting them would
            stored[result.bet_id] = version
        self._undo.append((self._unrecord, _CALL, before))

    def _unrecord(self, before: list[Bet]) -> None:
        stored = self._s.bets
        for bet in before:
            stored[bet.id] = bet

    async def totals(self) -> BetTotals:
        return BetTotals(count=len(self._s.bets), volume=self._s.bet_volume)


class InMemoryLedgerRepository(_Repo):
    __slots__ = ()

    async def post(self, entry: JournalEntry) -> Result[bool, InsufficientFunds]:
        s = self._s
        entries = s.entries
        key = entry.key
        if key in entries:
            return _ALREADY_POSTED
        balances = s.balances
        net = entry.net_by_account()
        for account, amount in net.items():
            if amount < 0 and not may_go_negative(account):
                available = balances.get(account, 0)
                if available + amount < 0:
                    return Failure(InsufficientFunds(account, -amount, available))
        entries[key] = entry
        by_account = s.entries_by_account
        olds: list[tuple[str, int | None]] = []
        for account, amount in net.items():
            old = balances.get(account)
            olds.append((account, old))
            balances[account] = amount if old is None else old + amount
            found = by_account.get(account)
            if found is None:
                by_account[account] = [entry]
            else:
                found.append(entry)
        self._undo.append((self._unpost, _CALL, (key, olds)))  # one record for the entry
        return _POSTED

    def _unpost(self, posted: tuple[str, list[tuple[str, int | None]]]) -> None:
        key, olds = posted
        s = self._s
        balances, by_account = s.balances, s.entries_by_account
        for account, old in reversed(olds):
            if old is None:
                del balances[account]
            else:
                balances[account] = old
            entries = by_account[account]
            entries.pop()  # this entry: undone newest first, nothing was appended since
            if not entries:
                del by_account[account]
        del s.entries[key]

    async def balance(self, account: str) -> int:
        return self._s.balances.get(account, 0)

    async def balances(self, accounts: Sequence[str]) -> dict[str, int]:
        balances = self._s.balances
        return {a: balances.get(a, 0) for a in accounts}

    async def get_entry(self, key: str) -> JournalEntry | None:
        return self._s.entries.get(key)

    async def entries_for(self, account: str, limit: int = 50) -> list[JournalEntry]:
        return self._s.entries_by_account.get(account, [])[::-1][:limit]

    async def trial_balance(self) -> int:
        return sum(self._s.balances.values())

    async def total_by_prefix(self, prefixes: Sequence[str]) -> dict[str, int]:
        totals = dict.fromkeys(prefixes, 0)
        for account, amount in self._s.balances.items():
            for prefix in prefixes:
                if account.startswith(prefix):
                    totals[prefix] += amount
        return totals


class InMemoryReferralRepository(_Repo):
    __slots__ = ()

    async def record_reward(
        self, referrer_id: int, level: int, amount: int, room_id: int, bet_id: int
    ) -> None:
        s = self._s
        s.rewards.append(RewardRow(referrer_id, level, amount, room_id, bet_id))
        self._undo.append((s.rewards, _APPENDED, None))
        key = (referrer_id, level)
        self._put(s.earnings, key, s.earnings.get(key, 0) + amount)

    async def earnings(self, user_id: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for (uid, level), amount in self._s.earnings.items():
            if uid == user_id:
                out[level] = out.get(level, 0) + amount
        return out


class InMemoryOutboxRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("outbox")

    async def add(self, message: OutboxMessage) -> None:
        s = self._s
        key = message.dedupe_key
        dedupe = s.outbox_dedupe
        if key in dedupe:
            return
        message_id = message.id
        outbox, pending = s.outbox, s.outbox_pending
        if message_id in outbox:
            raise ValueError(f"duplicate outbox message {message_id}")
        outbox[message_id] = message
        pending[message_id] = None
        dedupe.add(key)
        self._undo.append((self._unadd, _CALL, message))  # one record for the three writes

    def _unadd(self, message: OutboxMessage) -> None:
        s = self._s
        del s.outbox[message.id]
        del s.outbox_pending[message.id]
        s.outbox_dedupe.discard(message.dedupe_key)

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        claimed: list[OutboxMessage] = []
        for message_id in self._s.outbox_pending:
            message = self._s.outbox[message_id]
            if message.next_attempt_at <= now:
                claimed.append(replace(message))
                if len(claimed) >= limit:
                    break
        return claimed

    def _change(self, message_id: int) -> OutboxMessage:
        outbox = self._s.outbox
        message = replace(outbox[message_id])  # the stored row is never changed in place
        self._put(outbox, message_id, message)
        return message

    def _finish(self, message_id: int) -> None:
        pending = self._s.outbox_pending
        if message_id in pending:
            del pending[message_id]
            self._undo.append((pending, message_id, _REINSERT))

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        self._change(message_id).sent_at = at
        self._finish(message_id)

    async def reschedule(self, message_id: int, at: datetime, error: str) -> None:
        message = self._change(message_id)
        message.attempts += 1
        message.last_error = error
        message.next_attempt_at = at

    async def postpone(self, message_id: int, at: datetime) -> None:
        self._change(message_id).next_attempt_at = at

    async def give_up(self, message_id: int, at: datetime, error: str) -> None:
        message = self._change(message_id)
        message.gave_up_at, message.last_error = at, error
        self._finish(message_id)

    async def pending_count(self) -> int:
        return len(self._s.outbox_pending)


class InMemoryAuditRepository(_Repo):
    __slots__ = ()

    async def append(self, actor: str, action: str, details: dict[str, str | int | None]) -> None:
        # Chained and hashed at commit, in commit order: a rolled-back record leaves no gap.
        self._s.tx.audit.append((actor, action, dict(details)))

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        return self._s.audit[after_seq : after_seq + limit]


class InMemoryIdempotencyRepository(_Repo):
    __slots__ = ()

    async def get(self, key: str) -> str | None:
        return self._s.idempotency.get(key)

    async def put(self, key: str, result_ref: str) -> None:
        idempotency = self._s.idempotency
        if key in idempotency:
            raise ValueError(f"idempotency key {key!r} already used")
        idempotency[key] = result_ref
        self._undo.append((idempotency, key, _MISSING))


class InMemoryDepositRepository(_Repo):
    __slots__ = ()

    async def add(self, deposit: Deposit) -> bool:
        key = (deposit.signature, deposit.address, deposit.instruction_index)
        if key in self._s.deposits:
            return False
        self._put(self._s.deposits, key, deposit)
        return True

    async def exists(self, signature: str, address: str, instruction_index: int) -> bool:
        return (signature, address, instruction_index) in self._s.deposits

    async def get_cursor(self, address: str) -> str | None:
        return self._s.cursors.get(address)

    async def set_cursor(self, address: str, signature: str) -> None:
        self._put(self._s.cursors, address, signature)


class InMemoryWithdrawalRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("withdrawals")

    async def add(self, withdrawal: Withdrawal) -> None:
        if withdrawal.id in self._s.withdrawals:
            raise ValueError(f"duplicate withdrawal {withdrawal.id}")
        self._put(self._s.withdrawals, withdrawal.id, _clone(withdrawal))

    async def get(self, withdrawal_id: int) -> Withdrawal | None:
        w = self._s.withdrawals.get(withdrawal_id)
        return None if w is None else _clone(w)

    async def get_for_update(self, withdrawal_id: int) -> Withdrawal | None:
        # The unit of work holds the store's lock: nobody else can change it meanwhile.
        return await self.get(withdrawal_id)

    async def update(self, withdrawal: Withdrawal) -> None:
        self._put(self._s.withdrawals, withdrawal.id, _clone(withdrawal))

    async def list_by_state(
        self, states: Sequence[WithdrawalState], limit: int
    ) -> list[Withdrawal]:
        wanted = set(states)
        found = sorted(
            (w for w in self._s.withdrawals.values() if w.state in wanted), key=lambda w: w.id
        )
        return [_clone(w) for w in found[:limit]]

    async def pending_total(self) -> int:
        return sum(
            w.amount for w in self._s.withdrawals.values() if w.state in _PENDING_WITHDRAWAL_STATES
        )


class InMemoryControlsRepository(_Repo):
    __slots__ = ()

    async def get(self) -> PlatformControls:
        return self._s.controls

    async def set(self, controls: PlatformControls) -> None:
        s = self._s
        self._undo.append((s, _ATTR, ("controls", s.controls)))
        s.controls = controls


_REPOSITORIES: tuple[tuple[str, type[_Repo]], ...] = (
    ("users", InMemoryUserRepository),
    ("rooms", InMemoryRoomRepository),
    ("bets", InMemoryBetRepository),
    ("ledger", InMemoryLedgerRepository),
    ("referrals", InMemoryReferralRepository),
    ("outbox", InMemoryOutboxRepository),
    ("audit", InMemoryAuditRepository),
    ("idempotency", InMemoryIdempotencyRepository),
    ("deposits", InMemoryDepositRepository),
    ("withdrawals", InMemoryWithdrawalRepository),
    ("controls", InMemoryControlsRepository),
)


class InMemoryUnitOfWork:
    """One serialised transaction over an :class:`InMemoryStore`.

    Its repositories are the store's, made once per store (they hold no state of a unit of
    work: the store's :class:`~rooms_adapters.memory.store.Transaction` is that of whichever
    unit of work holds the lock)."""

    users: InMemoryUserRepository
    rooms: InMemoryRoomRepository
    bets: InMemoryBetRepository
    ledger: InMemoryLedgerRepository
    referrals: InMemoryReferralRepository
    outbox: InMemoryOutboxRepository
    audit: InMemoryAuditRepository
    idempotency: InMemoryIdempotencyRepository
    deposits: InMemoryDepositRepository
    withdrawals: InMemoryWithdrawalRepository
    controls: InMemoryControlsRepository

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.committed = False
        tx = store.tx
        if not tx.repositories:
            tx.repositories.update((name, cls(store)) for name, cls in _REPOSITORIES)
        self.__dict__.update(tx.repositories)

    def emit(self, *events: DomainEvent) -> None:
        self.store.tx.events.extend(events)

    async def __aenter__(self) -> Self:
        await self.store.lock.acquire()
        self.committed = False
        self.store.tx.owner = self
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever was written since the last commit is taken back before letting go.
        tx = self.store.tx
        try:
            if tx.undo or tx.audit or tx.events:
                self._discard()
        finally:
            tx.owner = None
            self.store.lock.release()

    def _discard(self) -> None:
        tx = self.store.tx
        _undo(tx.undo)
        tx.audit.clear()
        tx.events.clear()

    async def rollback(self) -> None:
        if self.store.tx.owner is self:
            self._discard()

    async def commit(self) -> None:
        s = self.store
        tx = s.tx
        if tx.audit:
            now = s.clock.now()
            audit = s.audit
            prev = audit[-1].hash if audit else GENESIS_HASH
            for actor, action, details in tx.audit:
                record = make_record(len(audit) + 1, now, actor, action, details, prev)
                audit.append(record)
                prev = record.hash
            tx.audit.clear()
        tx.undo.clear()
        events = tx.events
        if events:
            tx.events = []
            s.events.extend(events)
        self.committed = True
        for event in events:
            for subscriber in s.subscribers:
                subscriber(event)
