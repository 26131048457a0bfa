"""The in-memory unit of work and its repositories.

A unit of work takes the store's lock for its whole life, stages every write, and applies
the staged writes to the store only at ``commit``; leaving without commit discards them.
Objects cross the boundary as copies, so nothing leaks out of an uncommitted transaction.
(Copies are made by :func:`_clone`, a shallow copy like pydantic's ``model_copy()`` without
its generic machinery: the simulator makes a million of them a run.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Self, TypeVar

from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from returns.result import Failure, Result, Success

from rooms_adapters.memory.store import InMemoryStore, RewardRow
from rooms_core.audit import GENESIS_HASH, make_record
from rooms_core.errors import AlreadyBet, InsufficientFunds, SettlementInProgress
from rooms_core.events import DomainEvent
from rooms_core.ledger import JournalEntry, may_go_negative
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
from rooms_core.ports.storage import BetPlacementView, BetTotals
from rooms_core.room import TERMINAL_STATES, Room, RoomState

_PENDING_WITHDRAWAL_STATES = frozenset(
    {WithdrawalState.PENDING_APPROVAL, WithdrawalState.APPROVED, WithdrawalState.SENT}
)

# Results are immutable, so the constant ones are shared.
_DONE: Success[None] = Success(None)
_POSTED: Success[bool] = Success(True)
_ALREADY_POSTED: Success[bool] = Success(False)

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
    _set(copy, "__pydantic_fields_set__", model.__pydantic_fields_set__.copy())
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


class _Staged:
    """What one unit of work has written and not committed yet. Its repositories share
    it instead of pointing back at the unit of work, so a finished unit of work is freed
    at once by reference counting instead of waiting, as a cycle, for the collector."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.reset()

    def reset(self) -> None:
        self.staged_users: dict[int, User] = {}
        self.new_users: list[int] = []
        self.staged_rooms: dict[int, Room] = {}
        self.staged_bets: dict[int, Bet] = {}
        self.new_bets: list[int] = []
        self.new_bet_keys: set[tuple[int, int]] = set()
        self.staged_entries: list[JournalEntry] = []
        self.staged_entry_accounts: list[tuple[str, ...]] = []
        self.staged_entry_keys: set[str] = set()
        self.staged_deltas: dict[str, int] = {}
        self.staged_rewards: list[RewardRow] = []
        self.staged_outbox_new: list[OutboxMessage] = []
        self.staged_outbox_keys: set[str] = set()
        self.staged_outbox_updates: dict[int, tuple[str, datetime, str | None]] = {}
        self.staged_audit: list[tuple[str, str, dict[str, str | int | None]]] = []
        self.staged_idempotency: dict[str, str] = {}
        self.staged_deposits: dict[tuple[str, str, int], Deposit] = {}
        self.staged_cursors: dict[str, str] = {}
        self.staged_withdrawals: dict[int, Withdrawal] = {}
        self.staged_controls: PlatformControls | None = None
        self.staged_events: list[DomainEvent] = []


class _Repo:
    __slots__ = ("_s", "_u")

    def __init__(self, staged: _Staged) -> None:
        self._u = staged
        self._s = staged.store


class InMemoryUserRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("users")

    def _lookup(self, user_id: int) -> User | None:
        staged = self._u.staged_users.get(user_id)
        return staged if staged is not None else self._s.users.get(user_id)

    def _copy(self, user_id: int | None) -> User | None:
        if user_id is None:
            return None
        user = self._lookup(user_id)
        return None if user is None else _clone(user)

    async def add(self, user: User) -> None:
        for index, value in (
            (self._s.user_by_telegram, user.telegram_id),
            (self._s.user_by_code, user.referral_code),
            (self._s.user_by_address, user.deposit_address),
        ):
            if value is not None and value in index:
                raise ValueError(f"duplicate user key {value!r}")
        self._u.staged_users[user.id] = _clone(user)
        self._u.new_users.append(user.id)

    async def get(self, user_id: int) -> User | None:
        return self._copy(user_id)

    async def exists(self, user_id: int) -> bool:
        return user_id in self._s.users or user_id in self._u.staged_users

    async def count(self) -> int:
        return len(self._s.users) + len(self._u.new_users)

    def _find(self, attr: str, value: object) -> User | None:
        for user in self._u.staged_users.values():
            if getattr(user, attr) == value:
                return _clone(user)
        return None

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        found = self._find("telegram_id", telegram_id)
        return found or self._copy(self._s.user_by_telegram.get(telegram_id))

    async def get_by_referral_code(self, code: str) -> User | None:
        found = self._find("referral_code", code)
        return found or self._copy(self._s.user_by_code.get(code))

    async def get_by_deposit_address(self, address: str) -> User | None:
        found = self._find("deposit_address", address)
        return found or self._copy(self._s.user_by_address.get(address))

    async def update(self, user: User) -> None:
        self._u.staged_users[user.id] = _clone(user)

    async def with_deposit_address(self, after_id: int, limit: int) -> list[User]:
        merged = {**self._s.users, **self._u.staged_users}
        found = sorted(
            (u for u in merged.values() if u.id > after_id and u.deposit_address is not None),
            key=lambda u: u.id,
        )
        return [_clone(u) for u in found[:limit]]

    def _children(self, user_id: int) -> list[int]:
        children = list(self._s.referred.get(user_id, ()))
        for staged in self._u.staged_users.values():
            if staged.referrer_id == user_id and staged.id not in children:
                children.append(staged.id)
        return children

    async def referral_counts(self, user_id: int, levels: int) -> list[int]:
        counts: list[int] = []
        frontier = [user_id]
        for _ in range(levels):
            frontier = [child for parent in frontier for child in self._children(parent)]
            counts.append(len(frontier))
        return counts

    async def referrer_chains(self, user_ids: Sequence[int], levels: int) -> dict[int, list[int]]:
        chains: dict[int, list[int]] = {}
        staged, stored = self._u.staged_users, self._s.users
        for user_id in user_ids:
            chain: list[int] = []
            current = staged.get(user_id) or stored.get(user_id)  # _lookup, inlined
            while current is not None and current.referrer_id is not None and len(chain) < levels:
                referrer_id = current.referrer_id
                chain.append(referrer_id)
                current = staged.get(referrer_id) or stored.get(referrer_id)
            chains[user_id] = chain
        return chains


class InMemoryRoomRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("rooms")

    async def add(self, room: Room) -> None:
        if room.id in self._s.rooms:
            raise ValueError(f"duplicate room {room.id}")
        self._u.staged_rooms[room.id] = _clone(room)

    async def get(self, room_id: int) -> Room | None:
        room = self._u.staged_rooms.get(room_id) or self._s.rooms.get(room_id)
        return None if room is None else _clone(room)

    async def get_for_update(self, room_id: int) -> Result[Room | None, SettlementInProgress]:
        # The unit of work already holds the store's lock: nobody else can hold this room.
        return Success(await self.get(room_id))

    async def update(self, room: Room) -> None:
        self._u.staged_rooms[room.id] = _clone(room)

    def _merged(self) -> dict[int, Room]:
        if not self._u.staged_rooms:
            return self._s.rooms
        return {**self._s.rooms, **self._u.staged_rooms}

    async def list_by_state(
        self, states: Sequence[RoomState], limit: int = 100, offset: int = 0
    ) -> list[Room]:
        wanted = set(states)
        matching = [r for r in self._merged().values() if r.state in wanted]
        matching.sort(key=lambda r: r.id)
        return [_clone(r) for r in matching[offset : offset + limit]]

    async def count_by_state(self) -> dict[RoomState, int]:
        counts: dict[RoomState, int] = {}
        for room in self._merged().values():
            counts[room.state] = counts.get(room.state, 0) + 1
        return counts

    async def due(self, now: datetime, limit: int) -> list[Room]:
        due: list[Room] = []
        for room in self._merged().values():
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
        key = (bet.user_id, bet.room_id)
        if key in self._s.bet_by_user_room or key in self._u.new_bet_keys:
            return Failure(AlreadyBet(bet.room_id, bet.user_id))
        self._u.new_bet_keys.add(key)
        self._u.staged_bets[bet.id] = _clone(bet)
        self._u.new_bets.append(bet.id)
        return _DONE

    def _lookup(self, bet_id: int) -> Bet | None:
        return self._u.staged_bets.get(bet_id) or self._s.bets.get(bet_id)

    async def get(self, bet_id: int) -> Bet | None:
        bet = self._lookup(bet_id)
        return None if bet is None else _clone(bet)

    async def placement_view(
        self, user_id: int, room_id: int, request_key: str
    ) -> BetPlacementView:
        # What the idempotency, room and user repositories would answer, read directly.
        u, s = self._u, self._s
        key = (user_id, room_id)
        previous = u.staged_idempotency.get(request_key)
        room = u.staged_rooms.get(room_id) or s.rooms.get(room_id)
        return BetPlacementView(
            previous_ref=previous if previous is not None else s.idempotency.get(request_key),
            room=None if room is None else _clone(room),
            has_bet=key in s.bet_by_user_room or key in u.new_bet_keys,
            user_exists=user_id in s.users or user_id in u.staged_users,
            betting_paused=(
                s.controls if u.staged_controls is None else u.staged_controls
            ).betting_paused,
        )

    async def get_by_user_and_room(self, user_id: int, room_id: int) -> Bet | None:
        bet_id = self._s.bet_by_user_room.get((user_id, room_id))
        if bet_id is None:
            for staged in self._u.staged_bets.values():
                if staged.user_id == user_id and staged.room_id == room_id:
                    return _clone(staged)
            return None
        return await self.get(bet_id)

    def _ids_for(self, index: dict[int, list[int]], key: int, attr: str) -> list[int]:
        ids = list(index.get(key, ()))
        ids.extend(
            bid for bid in self._u.new_bets if getattr(self._u.staged_bets[bid], attr) == key
        )
        return ids

    async def list_for_room(self, room_id: int) -> list[Bet]:
        ids = self._ids_for(self._s.bets_by_room, room_id, "room_id")
        staged, stored = self._u.staged_bets, self._s.bets
        found: list[Bet] = []
        for bet_id in sorted(ids):  # _lookup inlined: settlement lists every bet of a room
            bet = staged.get(bet_id) or stored.get(bet_id)
            if bet is not None:
                found.append(_clone(bet))
        return found

    async def list_for_user(self, user_id: int, limit: int = 50) -> list[Bet]:
        ids = self._ids_for(self._s.bets_by_user, user_id, "user_id")
        newest = sorted(ids, reverse=True)[:limit]
        return [_clone(b) for bid in newest if (b := self._lookup(bid)) is not None]

    async def update_many(self, bets: Sequence[Bet]) -> None:
        for bet in bets:
            self._u.staged_bets[bet.id] = _clone(bet)

    async def totals(self) -> BetTotals:
        staged = [self._u.staged_bets[bid] for bid in self._u.new_bets]
        return BetTotals(
            count=len(self._s.bets) + len(staged),
            volume=self._s.bet_volume + sum(b.stake for b in staged),
        )


class InMemoryLedgerRepository(_Repo):
    __slots__ = ()

    async def post(self, entry: JournalEntry) -> Result[bool, InsufficientFunds]:
        if entry.key in self._s.entries or entry.key in self._u.staged_entry_keys:
            return _ALREADY_POSTED
        deltas = self._u.staged_deltas
        balances = self._s.balances
        net = entry.net_by_account()
        for account, amount in net.items():
            if amount < 0 and not may_go_negative(account):
                available = balances.get(account, 0) + deltas.get(account, 0)
                if available + amount < 0:
                    return Failure(InsufficientFunds(account, -amount, available))
        for account, amount in net.items():
            deltas[account] = deltas.get(account, 0) + amount
        self._u.staged_entries.append(entry)
        self._u.staged_entry_accounts.append(tuple(net))
        self._u.staged_entry_keys.add(entry.key)
        return _POSTED

    async def balance(self, account: str) -> int:
        return self._s.balances.get(account, 0) + self._u.staged_deltas.get(account, 0)

    async def balances(self, accounts: Sequence[str]) -> dict[str, int]:
        return {a: await self.balance(a) for a in accounts}

    async def get_entry(self, key: str) -> JournalEntry | None:
        found = self._s.entries.get(key)
        if found is None:
            found = next((e for e in self._u.staged_entries if e.key == key), None)
        return found

    async def entries_for(self, account: str, limit: int = 50) -> list[JournalEntry]:
        staged = [
            e for e in self._u.staged_entries if any(p.account == account for p in e.postings)
        ]
        committed = self._s.entries_by_account.get(account, [])
        return (committed + staged)[::-1][:limit]

    async def trial_balance(self) -> int:
        return sum(self._s.balances.values()) + sum(self._u.staged_deltas.values())

    async def total_by_prefix(self, prefixes: Sequence[str]) -> dict[str, int]:
        totals = dict.fromkeys(prefixes, 0)
        for source in (self._s.balances, self._u.staged_deltas):
            for account, amount in source.items():
                for prefix in prefixes:
                    if account.startswith(prefix):
                        totals[prefix] += amount
        return totals


class InMemoryReferralRepository(_Repo):
    __slots__ = ()

    async def record_reward(
        self, referrer_id: int, level: int, amount: int, room_id: int, bet_id: int
    ) -> None:
        self._u.staged_rewards.append(RewardRow(referrer_id, level, amount, room_id, bet_id))

    async def earnings(self, user_id: int) -> dict[int, int]:
        out: dict[int, int] = {}
        for (uid, level), amount in self._s.earnings.items():
            if uid == user_id:
                out[level] = out.get(level, 0) + amount
        for row in self._u.staged_rewards:
            if row.referrer_id == user_id:
                out[row.level] = out.get(row.level, 0) + row.amount
        return out


class InMemoryOutboxRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("outbox")

    async def add(self, message: OutboxMessage) -> None:
        key = message.dedupe_key
        if key in self._s.outbox_dedupe or key in self._u.staged_outbox_keys:
            return
        self._u.staged_outbox_keys.add(key)
        self._u.staged_outbox_new.append(message)

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        claimed: list[OutboxMessage] = []
        for message_id in self._s.outbox_pending:
            message = self._s.outbox[message_id]
            if message.next_attempt_at <= now:
                claimed.append(replace(message))
                if len(claimed) >= limit:
                    break
        return claimed

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        self._u.staged_outbox_updates[message_id] = ("sent", at, None)

    async def reschedule(self, message_id: int, at: datetime, error: str) -> None:
        self._u.staged_outbox_updates[message_id] = ("retry", at, error)

    async def postpone(self, message_id: int, at: datetime) -> None:
        self._u.staged_outbox_updates[message_id] = ("postpone", at, None)

    async def give_up(self, message_id: int, at: datetime, error: str) -> None:
        self._u.staged_outbox_updates[message_id] = ("give_up", at, error)

    async def pending_count(self) -> int:
        return len(self._s.outbox_pending) + len(self._u.staged_outbox_new)


class InMemoryAuditRepository(_Repo):
    __slots__ = ()

    async def append(self, actor: str, action: str, details: dict[str, str | int | None]) -> None:
        self._u.staged_audit.append((actor, action, dict(details)))

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        return self._s.audit[after_seq : after_seq + limit]


class InMemoryIdempotencyRepository(_Repo):
    __slots__ = ()

    async def get(self, key: str) -> str | None:
        staged = self._u.staged_idempotency.get(key)
        return staged if staged is not None else self._s.idempotency.get(key)

    async def put(self, key: str, result_ref: str) -> None:
        if key in self._s.idempotency or key in self._u.staged_idempotency:
            raise ValueError(f"idempotency key {key!r} already used")
        self._u.staged_idempotency[key] = result_ref


class InMemoryDepositRepository(_Repo):
    __slots__ = ()

    async def add(self, deposit: Deposit) -> bool:
        key = (deposit.signature, deposit.address, deposit.instruction_index)
        if key in self._s.deposits or key in self._u.staged_deposits:
            return False
        self._u.staged_deposits[key] = deposit
        return True

    async def exists(self, signature: str, address: str, instruction_index: int) -> bool:
        key = (signature, address, instruction_index)
        return key in self._s.deposits or key in self._u.staged_deposits

    async def get_cursor(self, address: str) -> str | None:
        return self._u.staged_cursors.get(address) or self._s.cursors.get(address)

    async def set_cursor(self, address: str, signature: str) -> None:
        self._u.staged_cursors[address] = signature


class InMemoryWithdrawalRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return self._s.next_id("withdrawals")

    async def add(self, withdrawal: Withdrawal) -> None:
        if withdrawal.id in self._s.withdrawals:
            raise ValueError(f"duplicate withdrawal {withdrawal.id}")
        self._u.staged_withdrawals[withdrawal.id] = _clone(withdrawal)

    async def get(self, withdrawal_id: int) -> Withdrawal | None:
        w = self._u.staged_withdrawals.get(withdrawal_id) or self._s.withdrawals.get(withdrawal_id)
        return None if w is None else _clone(w)

    async def get_for_update(self, withdrawal_id: int) -> Withdrawal | None:
        # The unit of work holds the store's lock: nobody else can change it meanwhile.
        return await self.get(withdrawal_id)

    async def update(self, withdrawal: Withdrawal) -> None:
        self._u.staged_withdrawals[withdrawal.id] = _clone(withdrawal)

    async def list_by_state(
        self, states: Sequence[WithdrawalState], limit: int
    ) -> list[Withdrawal]:
        wanted = set(states)
        merged = {**self._s.withdrawals, **self._u.staged_withdrawals}
        found = sorted((w for w in merged.values() if w.state in wanted), key=lambda w: w.id)
        return [_clone(w) for w in found[:limit]]

    async def pending_total(self) -> int:
        merged = {**self._s.withdrawals, **self._u.staged_withdrawals}
        return sum(w.amount for w in merged.values() if w.state in _PENDING_WITHDRAWAL_STATES)


class InMemoryControlsRepository(_Repo):
    __slots__ = ()

    async def get(self) -> PlatformControls:
        staged = self._u.staged_controls
        return staged if staged is not None else self._s.controls

    async def set(self, controls: PlatformControls) -> None:
        self._u.staged_controls = controls


class InMemoryUnitOfWork:
    """One serialised transaction over an :class:`InMemoryStore`."""

    def __init__(self, store: InMemoryStore) -> None:
        self.store = store
        self.committed = False
        self._staged = staged = _Staged(store)
        self.users = InMemoryUserRepository(staged)
        self.rooms = InMemoryRoomRepository(staged)
        self.bets = InMemoryBetRepository(staged)
        self.ledger = InMemoryLedgerRepository(staged)
        self.referrals = InMemoryReferralRepository(staged)
        self.outbox = InMemoryOutboxRepository(staged)
        self.audit = InMemoryAuditRepository(staged)
        self.idempotency = InMemoryIdempotencyRepository(staged)
        self.deposits = InMemoryDepositRepository(staged)
        self.withdrawals = InMemoryWithdrawalRepository(staged)
        self.controls = InMemoryControlsRepository(staged)
        self._fresh = True  # nothing staged since construction: entering need not reset

    def emit(self, *events: DomainEvent) -> None:
        self._staged.staged_events.extend(events)

    async def __aenter__(self) -> Self:
        await self.store.lock.acquire()
        self.committed = False
        if not self._fresh:
            self._staged.reset()
        self._fresh = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Staged writes are applied only by commit(), and __aenter__ starts afresh, so
        # leaving is just letting go of the store.
        self.store.lock.release()

    async def rollback(self) -> None:
        self._staged.reset()

    async def commit(self) -> None:
        s, st = self.store, self._staged
        for user_id in st.new_users:
            user = st.staged_users[user_id]
            if user.telegram_id is not None:
                s.user_by_telegram[user.telegram_id] = user_id
            s.user_by_code[user.referral_code] = user_id
        for user in st.staged_users.values():
            previous = s.users.get(user.id)
            if user.deposit_address is not None:
                s.user_by_address[user.deposit_address] = user.id
            if user.referrer_id is not None and (
                previous is None or previous.referrer_id != user.referrer_id
            ):
                s.referred[user.referrer_id].append(user.id)
            s.users[user.id] = user
        if st.staged_rooms:
            s.rooms.update(st.staged_rooms)
        if st.staged_bets:
            staged_bets = st.staged_bets
            by_user_room, by_room, by_user = s.bet_by_user_room, s.bets_by_room, s.bets_by_user
            for bet_id in st.new_bets:
                bet = staged_bets[bet_id]
                by_user_room[(bet.user_id, bet.room_id)] = bet_id
                by_room[bet.room_id].append(bet_id)
                by_user[bet.user_id].append(bet_id)
                s.bet_volume += bet.stake
            s.bets.update(staged_bets)
        if st.staged_entries:
            entries, by_account = s.entries, s.entries_by_account
            for entry, accounts in zip(st.staged_entries, st.staged_entry_accounts, strict=True):
                entries[entry.key] = entry
                for account in accounts:
                    by_account[account].append(entry)
            balances = s.balances
            for account, delta in st.staged_deltas.items():
                balances[account] += delta
        if st.staged_rewards:
            earnings = s.earnings
            s.rewards.extend(st.staged_rewards)
            for row in st.staged_rewards:
                earnings[(row.referrer_id, row.level)] += row.amount
        if st.staged_outbox_new:
            outbox, pending, dedupe = s.outbox, s.outbox_pending, s.outbox_dedupe
            for message in st.staged_outbox_new:
                outbox[message.id] = message
                pending[message.id] = None
                dedupe.add(message.dedupe_key)
        for message_id, (what, at, error) in st.staged_outbox_updates.items():
            message = replace(s.outbox[message_id])
            if what == "sent":
                message.sent_at = at
                s.outbox_pending.pop(message_id, None)
            elif what == "give_up":
                message.gave_up_at, message.last_error = at, error
                s.outbox_pending.pop(message_id, None)
            else:
                if what == "retry":
                    message.attempts += 1
                    message.last_error = error
                message.next_attempt_at = at
            s.outbox[message_id] = message
        if st.staged_audit:
            now = s.clock.now()
            audit = s.audit
            prev = audit[-1].hash if audit else GENESIS_HASH
            for actor, action, details in st.staged_audit:
                record = make_record(len(audit) + 1, now, actor, action, details, prev)
                audit.append(record)
                prev = record.hash
        if st.staged_idempotency:
            s.idempotency.update(st.staged_idempotency)
        if st.staged_deposits:
            s.deposits.update(st.staged_deposits)
        if st.staged_cursors:
            s.cursors.update(st.staged_cursors)
        if st.staged_withdrawals:
            s.withdrawals.update(st.staged_withdrawals)
        if st.staged_controls is not None:
            s.controls = st.staged_controls
        events = st.staged_events
        s.events.extend(events)
        st.reset()
        self.committed = True
        for event in events:
            for subscriber in s.subscribers:
                subscriber(event)
