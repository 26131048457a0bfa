"""The PostgreSQL unit of work and its repositories.

A unit of work is one transaction on one pooled connection, begun by its first statement.
Reads run at once. Writes whose outcome the caller needs (a ledger post, a new user, a
deposit) run at once too; every other write (room and bet changes, outbox rows, audit
records, idempotency keys, rewards, ...) is staged and sent at ``commit`` as **one**
statement of data-modifying CTEs, or earlier, right before the next statement of the unit of
work, so a read always sees the unit of work's own writes.

Placing a bet is two statements and no BEGIN or COMMIT: :meth:`placement_view` reads the
room and the balance without locks (outside a transaction when it comes first), and the
flush at commit runs alone, as its own transaction, and re-checks what was read: the room's
pools are added to (not overwritten) only while it is still OPEN, any other change to a room
read so is written only if the room is as it was read, and the stake is debited only while
the balance still covers it. When a re-check fails the statement aborts as a serialization
failure (``rooms_rows_unchanged``, migration 0009): nothing is written and the caller's
retry sees the rows as they are. Settling a room of 10,000 bets is a handful of set-based
statements in one transaction, on the room locked ``FOR UPDATE``.

Errors that may pass (lost connection, deadlock, a lost race on a unique key) surface as
:class:`~rooms_core.ports.storage.TransientStorageError`; the caller repeats the whole unit of
work (:func:`rooms_core.services.retry.retrying`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Self, TypeVar

import asyncpg
from returns.result import Failure, Result, Success

from rooms_adapters.postgres.rows import (
    BET_COLUMNS,
    OUTBOX_COLUMNS,
    ROOM_COLUMNS,
    USER_COLUMNS,
    WITHDRAWAL_COLUMNS,
    bet_from_row,
    entry_from_row,
    outbox_from_row,
    room_from_row,
    room_record,
    user_from_row,
    withdrawal_from_row,
    withdrawal_record,
)
from rooms_adapters.postgres.store import PostgresStore
from rooms_core.audit import GENESIS_HASH, make_record
from rooms_core.errors import AlreadyBet, InsufficientFunds, SettlementInProgress
from rooms_core.events import DomainEvent
from rooms_core.ledger import JournalEntry, may_go_negative, user_account
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
from rooms_core.ports.storage import (
    BetPlacementView,
    BetTotals,
    StorageConflict,
    StorageUnavailable,
)
from rooms_core.room import Room, RoomState

T = TypeVar("T")

# Bets' request keys (rooms_core.services.bets.bet_request_key) start so; they are kept in
# the bet's row, and the schema keeps other keys from taking the prefix (migration 0008).
BET_KEY_PREFIX = "bet:"


def _recorded_result(key: str) -> str:
    """SQL for the result recorded under the request key ``key`` (a parameter): a bet's key
    lives in its row, any other in ``idempotency_keys``."""
    return f"""coalesce((SELECT id::text FROM bets WHERE request_key = {key}),
                        (SELECT result_ref FROM idempotency_keys WHERE key = {key}))"""


# What place_bet checks, in one read; {lock} is "" or "FOR UPDATE" (see placement_view).
_PLACEMENT_VIEW = f"""
    WITH r AS (SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $2 {{lock}}),
         a AS (SELECT balance FROM accounts WHERE name = $4 {{lock}})
    SELECT {_recorded_result("$3")} AS previous_ref,
           EXISTS (SELECT 1 FROM bets WHERE user_id = $1 AND room_id = $2) AS has_bet,
           EXISTS (SELECT 1 FROM users WHERE id = $1) AS user_exists,
           (SELECT balance FROM a) AS bettor_balance,
           coalesce((SELECT betting_paused FROM platform_controls), false) AS betting_paused,
           r.*
    FROM (SELECT 1) AS one LEFT JOIN r ON true"""

AUDIT_SEAL_LOCK = 0x41554449  # "AUDI": one sealer at a time
AUDIT_SEAL_WAIT = 5.0  # seconds records() waits for older open transactions to end
# The unsealed records no running transaction of this database can precede (see seal()).
# pg_stat_clear_snapshot: within one transaction pg_stat_activity is otherwise read once.
_SEALABLE = """
    WITH snap AS (SELECT pg_current_snapshot() AS s, pg_stat_clear_snapshot()),
         elsewhere AS (
             SELECT backend_xid AS x FROM pg_stat_activity
             WHERE backend_xid IS NOT NULL AND datid IS DISTINCT FROM (
                 SELECT oid FROM pg_database WHERE datname = current_database())
             UNION ALL
             SELECT transaction FROM pg_prepared_xacts WHERE database <> current_database()),
         boundary AS (
             SELECT least(pg_snapshot_xmax(s), pg_current_xact_id_if_assigned(), (
                 SELECT min(r.x) FROM pg_snapshot_xip(s) AS r (x)
                 WHERE NOT EXISTS (SELECT 1 FROM elsewhere e WHERE e.x = r.x::xid))) AS b
             FROM snap)
    SELECT id, at, actor, action, details FROM audit_log
    WHERE seq IS NULL AND xid < (SELECT b FROM boundary)
    ORDER BY xid, id LIMIT $1"""
_PENDING_WITHDRAWAL_STATES = [
    WithdrawalState.PENDING_APPROVAL.value,
    WithdrawalState.APPROVED.value,
    WithdrawalState.SENT.value,
]
_CONFLICTS = (
    asyncpg.UniqueViolationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
    asyncpg.LockNotAvailableError,
)
_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.InterfaceError,
    # Seen when a statement is sent while a killed connection is being torn down.
    asyncpg.exceptions.InternalClientError,
    ConnectionError,
    OSError,
    TimeoutError,
)


async def translate_errors(call: Callable[[], Awaitable[T]]) -> T:
    """Make and await a database call, turning errors that may pass into the port's
    transient ones (a pooled connection that was lost fails already when called)."""
    try:
        return await call()
    except _CONFLICTS as error:
        raise StorageConflict(str(error)) from error
    except _UNAVAILABLE as error:
        raise StorageUnavailable(f"{type(error).__name__}: {error}") from error


class _Repo:
    __slots__ = ("_u",)

    def __init__(self, uow: PostgresUnitOfWork) -> None:
        self._u = uow


class PostgresUserRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return await self._u.next_id("users")

    async def add(self, user: User) -> None:
        await self._u.execute(
            f"INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            user.id,
            user.telegram_id,
            user.username,
            user.referral_code,
            user.referrer_id,
            user.deposit_address,
            user.created_at,
        )

    async def _one(self, where: str, value: object) -> User | None:
        row = await self._u.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE {where}", value)
        return None if row is None else user_from_row(row)

    async def get(self, user_id: int) -> User | None:
        return await self._one("id = $1", user_id)

    async def exists(self, user_id: int) -> bool:
        return bool(
            await self._u.fetchval("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)", user_id)
        )

    async def count(self) -> int:
        return int(await self._u.fetchval("SELECT count(*) FROM users"))

    async def get_by_telegram_id(self, telegram_id: int) -> User | None:
        return await self._one("telegram_id = $1", telegram_id)

    async def get_by_referral_code(self, code: str) -> User | None:
        return await self._one("referral_code = $1", code)

    async def get_by_deposit_address(self, address: str) -> User | None:
        return await self._one("deposit_address = $1", address)

    async def update(self, user: User) -> None:
        self._u.staged_users[user.id] = (
            user.id,
            user.telegram_id,
            user.username,
            user.referrer_id,
            user.deposit_address,
        )

    async def with_deposit_address(self, after_id: int, limit: int) -> list[User]:
        rows = await self._u.fetch(
            f"""SELECT {USER_COLUMNS} FROM users
                WHERE id > $1 AND deposit_address IS NOT NULL ORDER BY id LIMIT $2""",
            after_id,
            limit,
        )
        return [user_from_row(r) for r in rows]

    async def referral_counts(self, user_id: int, levels: int) -> list[int]:
        rows = await self._u.fetch(
            """WITH RECURSIVE tree (id, depth) AS (
                   SELECT id, 1 FROM users WHERE referrer_id = $1
                   UNION ALL
                   SELECT u.id, t.depth + 1 FROM users u JOIN tree t ON u.referrer_id = t.id
                   WHERE t.depth < $2)
               SELECT depth, count(*) AS n FROM tree GROUP BY depth""",
            user_id,
            levels,
        )
        by_depth = {r["depth"]: r["n"] for r in rows}
        return [by_depth.get(level, 0) for level in range(1, levels + 1)]

    async def referrer_chains(self, user_ids: Sequence[int], levels: int) -> dict[int, list[int]]:
        chains: dict[int, list[int]] = {user_id: [] for user_id in user_ids}
        if not user_ids or levels < 1:
            return chains
        rows = await self._u.fetch(
            """WITH RECURSIVE chain (user_id, referrer_id, depth) AS (
                   SELECT id, referrer_id, 1 FROM users
                   WHERE id = ANY ($1::bigint[]) AND referrer_id IS NOT NULL
                   UNION ALL
                   SELECT c.user_id, p.referrer_id, c.depth + 1
                   FROM chain c JOIN users p ON p.id = c.referrer_id
                   WHERE p.referrer_id IS NOT NULL AND c.depth < $2)
               SELECT user_id, referrer_id FROM chain ORDER BY user_id, depth""",
            list(user_ids),
            levels,
        )
        for r in rows:
            chains[r["user_id"]].append(r["referrer_id"])
        return chains


class PostgresRoomRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return await self._u.next_id("rooms")

    async def add(self, room: Room) -> None:
        self._u.new_rooms[room.id] = room_record(room)

    async def get(self, room_id: int) -> Room | None:
        row = await self._u.fetchrow(f"SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1", room_id)
        return None if row is None else room_from_row(row)

    async def get_for_update(self, room_id: int) -> Result[Room | None, SettlementInProgress]:
        row = await self._u.fetchrow(
            f"SELECT {ROOM_COLUMNS} FROM rooms WHERE id = $1 FOR UPDATE SKIP LOCKED", room_id
        )
        if row is not None:
            return Success(room_from_row(row))
        if await self._u.fetchval("SELECT EXISTS (SELECT 1 FROM rooms WHERE id = $1)", room_id):
            return Failure(SettlementInProgress(room_id))
        return Success(None)

    async def update(self, room: Room) -> None:
        u = self._u
        if room.id in u.new_rooms:
            u.new_rooms[room.id] = room_record(room)
            return
        values = _room_mutable(room)
        read = u.read_rooms.get(room.id)
        if read is None:  # read locked (or not read): written as it is
            u.room_updates[room.id] = values
        elif values[0] == read[0] == RoomState.OPEN.value and values[5:] == read[5:]:
            # Only the pools changed (bets taken while OPEN): added to, while still OPEN.
            yes, no, yes_bets, no_bets = (
                v - r for v, r in zip(values[1:5], read[1:5], strict=True)
            )
            u.room_increments[room.id] = (yes, no, yes_bets, no_bets)
        else:  # e.g. the bet that opens a QUEUING room: written if the room is as read
            u.guarded_room_updates[room.id] = (values, read)

    async def list_by_state(
        self, states: Sequence[RoomState], limit: int = 100, offset: int = 0
    ) -> list[Room]:
        rows = await self._u.fetch(
            f"""SELECT {ROOM_COLUMNS} FROM rooms WHERE state = ANY ($1::text[])
                ORDER BY id LIMIT $2 OFFSET $3""",
            [s.value for s in states],
            limit,
            offset,
        )
        return [room_from_row(r) for r in rows]

    async def count_by_state(self) -> dict[RoomState, int]:
        rows = await self._u.fetch("SELECT state, count(*) AS n FROM rooms GROUP BY state")
        return {RoomState(r["state"]): r["n"] for r in rows}

    async def due(self, now: datetime, limit: int) -> list[Room]:
        rows = await self._u.fetch(
            f"""SELECT {ROOM_COLUMNS} FROM rooms
                WHERE (state IN ('QUEUING', 'OPEN') AND lock_at <= $1)
                   OR (state = 'LOCKED' AND settle_at <= $1)
                   OR state = 'SETTLING'
                ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED""",
            now,
            limit,
        )
        return [room_from_row(r) for r in rows]


class PostgresBetRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return await self._u.next_id("bets")

    async def placement_view(
        self, user_id: int, room_id: int, request_key: str
    ) -> BetPlacementView:
        # No row locks: the flush re-checks the room and the balance read here (see the
        # module docstring). The balance read lets the stake's ledger post be checked here
        # and written with the flush. A room still QUEUING is read again, locked, in the
        # transaction: the bet that opens it depends on how many bets it has, and racing
        # bets would each find it changed (room first, then the account: settlement's order).
        account = user_account(user_id)
        u = self._u
        args = (user_id, room_id, request_key, account)
        row = await u.fetchrow_unlocked(_PLACEMENT_VIEW.format(lock=""), *args)
        locked = row is not None and row["state"] == RoomState.QUEUING.value
        if locked:
            row = await u.fetchrow(_PLACEMENT_VIEW.format(lock="FOR UPDATE"), *args)
        assert row is not None
        if not row["has_bet"]:
            u.known_without_bet.add((user_id, room_id))
        if row["bettor_balance"] is not None:
            u.read_balances[account] = row["bettor_balance"]
        room = None if row["id"] is None else room_from_row(row)
        if room is not None and not locked:
            u.read_rooms[room.id] = _room_mutable(room)
        return BetPlacementView(
            previous_ref=row["previous_ref"],
            room=room,
            has_bet=row["has_bet"],
            user_exists=row["user_exists"],
            betting_paused=row["betting_paused"],
        )

    async def add(self, bet: Bet) -> Result[None, AlreadyBet]:
        key = (bet.user_id, bet.room_id)
        u = self._u
        if key in u.staged_bet_keys:
            return Failure(AlreadyBet(bet.room_id, bet.user_id))
        if key not in u.known_without_bet and await u.fetchval(
            "SELECT EXISTS (SELECT 1 FROM bets WHERE user_id = $1 AND room_id = $2)", *key
        ):
            return Failure(AlreadyBet(bet.room_id, bet.user_id))
        # A concurrent insert of the same pair fails the flush on the UNIQUE constraint.
        u.known_without_bet.discard(key)
        u.staged_bet_keys.add(key)
        u.new_bets[bet.id] = bet  # frozen: nothing can change it behind the stage
        return Success(None)

    async def _many(self, where: str, *args: object) -> list[Bet]:
        rows = await self._u.fetch(f"SELECT {BET_COLUMNS} FROM bets WHERE {where}", *args)
        return [bet_from_row(r) for r in rows]

    async def get(self, bet_id: int) -> Bet | None:
        found = await self._many("id = $1", bet_id)
        return found[0] if found else None

    async def get_by_user_and_room(self, user_id: int, room_id: int) -> Bet | None:
        found = await self._many("user_id = $1 AND room_id = $2", user_id, room_id)
        return found[0] if found else None

    async def list_for_room(self, room_id: int) -> list[Bet]:
        return await self._many("room_id = $1 ORDER BY id", room_id)

    async def bettor_ids(self, room_id: int) -> list[int]:
        rows = await self._u.fetch(
            "SELECT user_id FROM bets WHERE room_id = $1 ORDER BY id", room_id
        )
        return [row[0] for row in rows]

    async def list_for_user(self, user_id: int, limit: int = 50) -> list[Bet]:
        return await self._many("user_id = $1 ORDER BY id DESC LIMIT $2", user_id, limit)

    async def record_results(self, results: Sequence[BetResult]) -> None:
        new_bets, updates = self._u.new_bets, self._u.bet_updates
        for result in results:
            bet_id, reason = result.bet_id, result.refund_reason
            staged = new_bets.get(bet_id)
            if staged is not None:  # placed in this unit of work: not in the table yet
                new_bets[bet_id] = staged.model_copy(
                    update={
                        "status": result.status,
                        "payout": result.payout,
                        "refund_reason": reason,
                    }
                )
            else:
                updates[bet_id] = (
                    result.status.value,
                    result.payout,
                    None if reason is None else reason.value,
                )

    async def totals(self) -> BetTotals:
        row = await self._u.fetchrow("SELECT count(*) AS n, coalesce(sum(stake), 0) AS v FROM bets")
        assert row is not None
        return BetTotals(count=row["n"], volume=int(row["v"]))


class PostgresLedgerRepository(_Repo):
    __slots__ = ()

    async def post(self, entry: JournalEntry) -> Result[bool, InsufficientFunds]:
        u = self._u
        if entry.key in u.staged_entry_keys:
            return Success(False)
        net = entry.net_by_account()
        debited = [a for a, n in net.items() if n < 0 and not may_go_negative(a)]
        if debited and all(a in u.read_balances for a in debited):
            return self._stage(entry, net, debited)
        accounts = [p.account for p in entry.postings]
        row = await self._u.fetchrow(
            "SELECT * FROM ledger_post($1, $2, $3, $4, $5::text[], $6::bigint[], $7::boolean[])",
            entry.key,
            entry.kind.value,
            entry.at,
            entry.memo,
            accounts,
            [p.amount for p in entry.postings],
            [may_go_negative(a) for a in accounts],
        )
        assert row is not None
        status = row["status"]
        if status == "applied":
            return Success(True)
        if status == "replay":
            return Success(False)
        account = row["short_account"]
        needed = -entry.net_by_account()[account]
        return Failure(InsufficientFunds(account, needed, row["available"]))

    def _stage(
        self, entry: JournalEntry, net: dict[str, int], debited: list[str]
    ) -> Result[bool, InsufficientFunds]:
        """Check against balances this unit of work has read, and write with the flush, which
        debits only while the balance still covers it. (A replayed key then fails the flush
        on the UNIQUE key: a conflict, and the repeated unit of work sees the replay.)"""
        u = self._u
        for account in debited:
            available = u.read_balances[account]
            if available + net[account] < 0:
                return Failure(InsufficientFunds(account, -net[account], available))
        for account, amount in net.items():
            if account in u.read_balances:
                u.read_balances[account] += amount
            u.staged_deltas[account] = u.staged_deltas.get(account, 0) + amount
        u.staged_entries.append(entry)
        u.staged_entry_keys.add(entry.key)
        return Success(True)

    async def balance(self, account: str) -> int:
        value = await self._u.fetchval("SELECT balance FROM accounts WHERE name = $1", account)
        return int(value or 0)

    async def balances(self, accounts: Sequence[str]) -> dict[str, int]:
        rows = await self._u.fetch(
            "SELECT name, balance FROM accounts WHERE name = ANY ($1::text[])", list(accounts)
        )
        found = {r["name"]: r["balance"] for r in rows}
        return {a: found.get(a, 0) for a in accounts}

    # A transfer row reads as its two postings (from, -amount) and (to, amount).
    _ENTRY = """SELECT e.key, e.kind, e.at, e.memo,
                       CASE WHEN e.amount IS NULL
                            THEN (SELECT array_agg(p.account ORDER BY p.line) FROM postings p
                                  WHERE p.entry_id = e.id)
                            ELSE ARRAY[e.from_account, e.to_account] END AS accounts,
                       CASE WHEN e.amount IS NULL
                            THEN (SELECT array_agg(p.amount ORDER BY p.line) FROM postings p
                                  WHERE p.entry_id = e.id)
                            ELSE ARRAY[-e.amount, e.amount] END AS amounts
                FROM journal_entries e"""

    async def get_entry(self, key: str) -> JournalEntry | None:
        row = await self._u.fetchrow(f"{self._ENTRY} WHERE e.key = $1", key)
        return None if row is None else entry_from_row(row)

    async def entries_for(self, account: str, limit: int = 50) -> list[JournalEntry]:
        rows = await self._u.fetch(
            f"""{self._ENTRY}
                WHERE e.id IN (
                    SELECT id FROM (
                        (SELECT DISTINCT entry_id AS id FROM postings WHERE account = $1
                         ORDER BY entry_id DESC LIMIT $2)
                        UNION
                        (SELECT id FROM journal_entries WHERE from_account = $1
                         ORDER BY id DESC LIMIT $2)
                        UNION
                        (SELECT id FROM journal_entries WHERE to_account = $1
                         ORDER BY id DESC LIMIT $2)) AS ids
                    ORDER BY id DESC LIMIT $2)
                ORDER BY e.id DESC""",
            account,
            limit,
        )
        return [entry_from_row(r) for r in rows]

    async def trial_balance(self) -> int:
        return int(await self._u.fetchval("SELECT coalesce(sum(balance), 0) FROM accounts"))

    async def total_by_prefix(self, prefixes: Sequence[str]) -> dict[str, int]:
        rows = await self._u.fetch(
            """SELECT p.prefix, coalesce(sum(a.balance), 0) AS total
               FROM unnest($1::text[]) AS p (prefix)
               LEFT JOIN accounts a ON starts_with(a.name, p.prefix)
               GROUP BY p.prefix""",
            list(prefixes),
        )
        totals = {r["prefix"]: int(r["total"]) for r in rows}
        return {p: totals.get(p, 0) for p in prefixes}


class PostgresReferralRepository(_Repo):
    __slots__ = ()

    async def record_reward(
        self, referrer_id: int, level: int, amount: int, room_id: int, bet_id: int
    ) -> None:
        self._u.staged_rewards.append((referrer_id, level, amount, room_id, bet_id))

    async def earnings(self, user_id: int) -> dict[int, int]:
        rows = await self._u.fetch(
            """SELECT level, sum(amount) AS total FROM referral_rewards
               WHERE referrer_id = $1 GROUP BY level""",
            user_id,
        )
        return {r["level"]: int(r["total"]) for r in rows}


class PostgresOutboxRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return await self._u.next_id("outbox")

    async def add(self, message: OutboxMessage) -> None:
        staged = self._u.new_outbox
        if message.dedupe_key not in staged:  # the database ignores keys it has already
            staged[message.dedupe_key] = message

    async def claim_due(self, now: datetime, limit: int) -> list[OutboxMessage]:
        rows = await self._u.fetch(
            f"""SELECT {OUTBOX_COLUMNS} FROM outbox
                WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1
                ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED""",
            now,
            limit,
        )
        return [outbox_from_row(r) for r in rows]

    async def mark_sent(self, message_id: int, at: datetime) -> None:
        self._u.outbox_updates[message_id] = ("sent", at, None)

    async def reschedule(self, message_id: int, at: datetime, error: str) -> None:
        self._u.outbox_updates[message_id] = ("retry", at, error)

    async def postpone(self, message_id: int, at: datetime) -> None:
        self._u.outbox_updates[message_id] = ("postpone", at, None)

    async def give_up(self, message_id: int, at: datetime, error: str) -> None:
        self._u.outbox_updates[message_id] = ("give_up", at, error)

    async def pending_count(self) -> int:
        return int(
            await self._u.fetchval(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND gave_up_at IS NULL"
            )
        )


class PostgresAuditRepository(_Repo):
    __slots__ = ()

    async def append(self, actor: str, action: str, details: dict[str, str | int | None]) -> None:
        self._u.staged_audit.append((self._u.store.clock.now(), actor, action, json.dumps(details)))

    async def seal(self, batch: int = 10_000) -> int:
        """Chain the records of finished transactions onto the sealed log, in transaction id
        order; returns how many were sealed. One sealer runs at a time (advisory lock).

        A record is sealed once no transaction that could still insert one with a lower
        transaction id is running: the boundary is the oldest transaction id the statement's
        snapshot sees as running (this one's included), leaving out those known to run in
        another database of the cluster (they cannot write this table). Such transactions
        (another application's, a benchmark's) would otherwise hold sealing back for as long
        as they run."""
        u = self._u
        await u.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_SEAL_LOCK)
        last = await u.fetchrow(
            "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"
        )
        rows = await u.fetch(_SEALABLE, batch)
        if not rows:
            return 0
        seq, prev = (0, GENESIS_HASH) if last is None else (last["seq"], last["hash"])
        ids, seqs, prevs, hashes = [], [], [], []
        for r in rows:
            seq += 1
            record = make_record(seq, r["at"], r["actor"], r["action"], r["details"], prev)
            ids.append(r["id"])
            seqs.append(seq)
            prevs.append(prev)
            hashes.append(record.hash)
            prev = record.hash
        await u.execute(
            """UPDATE audit_log AS t SET seq = s.seq, prev_hash = s.prev_hash, hash = s.hash
               FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[])
                    AS s (id, seq, prev_hash, hash)
               WHERE t.id = s.id AND t.id = ANY ($1::bigint[])""",
            ids,
            seqs,
            prevs,
            hashes,
        )
        return len(rows)

    async def seal_visible(self, wait: float = AUDIT_SEAL_WAIT) -> bool:
        """Seal until every record committed before the call is sealed, for at most
        ``wait`` seconds (a transaction of this database that started earlier and is
        still running holds the later records back until it ends); whether all were."""
        u = self._u
        newest = await u.fetchval("SELECT max(xid::text::bigint) FROM audit_log WHERE seq IS NULL")
        if newest is None:
            return True
        deadline = time.monotonic() + wait
        pause = 0.005
        while True:
            while await self.seal() > 0:
                pass
            if not await u.fetchval(
                """SELECT EXISTS (SELECT 1 FROM audit_log
                                  WHERE seq IS NULL AND xid <= $1::text::xid8)""",
                str(newest),
            ):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)

    async def records(self, after_seq: int = 0, limit: int = 1000) -> list[AuditRecord]:
        await self.seal_visible()
        rows = await self._u.fetch(
            """SELECT seq, at, actor, action, details, prev_hash, hash FROM audit_log
               WHERE seq > $1 ORDER BY seq LIMIT $2""",
            after_seq,
            limit,
        )
        return [
            AuditRecord(
                seq=r["seq"],
                at=r["at"],
                actor=r["actor"],
                action=r["action"],
                details=r["details"],
                prev_hash=r["prev_hash"],
                hash=r["hash"],
            )
            for r in rows
        ]


class PostgresIdempotencyRepository(_Repo):
    __slots__ = ()

    async def get(self, key: str) -> str | None:
        value = await self._u.fetchval(
            f"SELECT {_recorded_result('$1')}",
            key,
        )
        return None if value is None else str(value)

    async def put(self, key: str, result_ref: str) -> None:
        """A bet's key (``bet:...``, for a bet this unit of work adds) is written into the
        bet's row (migration 0008); any other key into ``idempotency_keys``. Either way a
        UNIQUE constraint catches a race."""
        u = self._u
        if key in u.staged_idempotency or key in u.staged_bet_request_keys:
            raise ValueError(f"idempotency key {key!r} already used")
        if key.startswith(BET_KEY_PREFIX):
            bet_id = int(result_ref) if result_ref.isdigit() else None
            if bet_id is None or bet_id not in u.new_bets:
                raise ValueError(
                    f"the bet key {key!r} must be put in the unit of work adding bet "
                    f"{result_ref}, before its next statement"
                )
            u.staged_bet_request_keys[key] = bet_id
            return
        u.staged_idempotency[key] = result_ref


class PostgresDepositRepository(_Repo):
    __slots__ = ()

    async def add(self, deposit: Deposit) -> bool:
        inserted = await self._u.fetchval(
            """INSERT INTO deposits (signature, address, instruction_index, user_id, amount,
                                     credited_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT DO NOTHING RETURNING true""",
            deposit.signature,
            deposit.address,
            deposit.instruction_index,
            deposit.user_id,
            deposit.amount,
            deposit.credited_at,
        )
        return bool(inserted)

    async def exists(self, signature: str, address: str, instruction_index: int) -> bool:
        return bool(
            await self._u.fetchval(
                """SELECT EXISTS (SELECT 1 FROM deposits WHERE signature = $1 AND address = $2
                                  AND instruction_index = $3)""",
                signature,
                address,
                instruction_index,
            )
        )

    async def get_cursor(self, address: str) -> str | None:
        value = await self._u.fetchval(
            "SELECT signature FROM deposit_cursors WHERE address = $1", address
        )
        return None if value is None else str(value)

    async def set_cursor(self, address: str, signature: str) -> None:
        self._u.staged_cursors[address] = signature


class PostgresWithdrawalRepository(_Repo):
    __slots__ = ()

    async def next_id(self) -> int:
        return await self._u.next_id("withdrawals")

    async def add(self, withdrawal: Withdrawal) -> None:
        self._u.new_withdrawals[withdrawal.id] = withdrawal_record(withdrawal)

    async def get(self, withdrawal_id: int) -> Withdrawal | None:
        row = await self._u.fetchrow(
            f"SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE id = $1", withdrawal_id
        )
        return None if row is None else withdrawal_from_row(row)

    async def get_for_update(self, withdrawal_id: int) -> Withdrawal | None:
        row = await self._u.fetchrow(
            f"SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE id = $1 FOR UPDATE", withdrawal_id
        )
        return None if row is None else withdrawal_from_row(row)

    async def update(self, withdrawal: Withdrawal) -> None:
        record = withdrawal_record(withdrawal)
        if withdrawal.id in self._u.new_withdrawals:
            self._u.new_withdrawals[withdrawal.id] = record
        else:
            self._u.withdrawal_updates[withdrawal.id] = record

    async def list_by_state(
        self, states: Sequence[WithdrawalState], limit: int
    ) -> list[Withdrawal]:
        rows = await self._u.fetch(
            f"""SELECT {WITHDRAWAL_COLUMNS} FROM withdrawals WHERE state = ANY ($1::text[])
                ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED""",
            [s.value for s in states],
            limit,
        )
        return [withdrawal_from_row(r) for r in rows]

    async def pending_total(self) -> int:
        return int(
            await self._u.fetchval(
                "SELECT coalesce(sum(amount), 0) FROM withdrawals WHERE state = ANY ($1::text[])",
                _PENDING_WITHDRAWAL_STATES,
            )
        )


class PostgresControlsRepository(_Repo):
    __slots__ = ()

    async def get(self) -> PlatformControls:
        row = await self._u.fetchrow(
            "SELECT betting_paused, withdrawals_paused FROM platform_controls"
        )
        if row is None:
            return PlatformControls()
        return PlatformControls(row["betting_paused"], row["withdrawals_paused"])

    async def set(self, controls: PlatformControls) -> None:
        await self._u.execute(
            """INSERT INTO platform_controls (id, betting_paused, withdrawals_paused)
               VALUES (true, $1, $2)
               ON CONFLICT (id) DO UPDATE
               SET betting_paused = excluded.betting_paused,
                   withdrawals_paused = excluded.withdrawals_paused""",
            controls.betting_paused,
            controls.withdrawals_paused,
        )


class _Flush:
    """One statement of data-modifying CTEs, built from the staged writes.

    Updates join their rows to an ``unnest`` of parameters and also say ``t.id = ANY (ids)``:
    a generic plan cannot see how few rows the arrays hold, and without the index condition
    it may scan the whole table.

    The statement is built in two passes that run the same code: the first only collects
    the parameters and the statement's shape (each part's text without its placeholders,
    each row set's single-or-many); the text of a shape seen before comes from
    ``_FLUSH_TEXTS``, and only a new shape is written out in full by a second pass
    (``with_text``). Writing the text was a seventh of a bet's client time."""

    __slots__ = ("added", "args", "expected", "parts", "shape", "with_text")

    def __init__(self, with_text: bool) -> None:
        self.with_text = with_text
        self.parts: list[str] = []
        self.args: list[object] = []
        self.shape: list[object] = []
        self.added = 0
        self.expected: list[str] = []  # "(SELECT count(*) FROM wN) = $k", with_text only

    def arg(self, value: object, cast: str) -> str:
        self.args.append(value)
        return f"${len(self.args)}::{cast}" if self.with_text else ""

    def add(self, sql: str) -> None:
        self.shape.append(sql)
        if self.with_text:
            self.parts.append(f"w{self.added} AS ({sql})")
        self.added += 1

    @property
    def last_part(self) -> str:
        """The name of the part added last (to refer to its RETURNING rows)."""
        return f"w{self.added - 1}"

    def expect(self, rows: int) -> None:
        """The part added last (``RETURNING 1``) must write ``rows`` rows, or the whole
        statement aborts as a serialization failure (``rooms_rows_unchanged``)."""
        self.shape.append("expect")
        count = self.arg(rows, "bigint")
        if self.with_text:
            self.expected.append(f"(SELECT count(*) FROM {self.last_part}) = {count}")

    def rows(self, casts: Sequence[str], records: Sequence[Sequence[Any]]) -> str:
        """A FROM item of ``records`` (at least one; their columns' types are ``casts``): a
        ``VALUES`` row of scalar parameters when there is one (the usual case: one bet;
        cheaper to encode and to execute than arrays), else an ``unnest`` of arrays."""
        single = len(records) == 1
        self.shape.append(single)
        if single:
            if not self.with_text:
                self.args.extend(records[0])
                return ""
            values = (self.arg(v, t) for v, t in zip(records[0], casts, strict=True))
            return f"(VALUES ({', '.join(values)}))"
        columns = [list(c) for c in zip(*records, strict=True)]
        if not self.with_text:
            self.args.extend(columns)
            return ""
        arrays = (self.arg(c, t + "[]") for c, t in zip(columns, casts, strict=True))
        return f"unnest({', '.join(arrays)})"

    def matches(self, column: str, values: list[Any], cast: str) -> str:
        """``column`` is one of ``values``: the index condition beside a join to rows."""
        single = len(values) == 1
        self.shape.append(single)
        if single:
            return f"{column} = {self.arg(values[0], cast)}"
        return f"{column} = ANY ({self.arg(values, cast + '[]')})"

    @property
    def sql(self) -> str:
        # The re-checked parts are read by the main query, so they run first, in the order
        # they were added (rooms before accounts: see _write_flush).
        final = f"rooms_rows_unchanged({' AND '.join(self.expected)})" if self.expected else "1"
        return "WITH " + ",\n".join(self.parts) + f"\nSELECT {final}"


# Flush statement texts by shape (see _Flush); shapes are few, but the cache is bounded.
_FLUSH_TEXTS: dict[tuple[object, ...], str] = {}
_FLUSH_TEXTS_MAX = 1024


_ROOM_MUTABLE = (
    "state",
    "yes_pool",
    "no_pool",
    "yes_bets",
    "no_bets",
    "opened_at",
    "settling_since",
    "trigger_at",
    "outcome",
    "settlement_value",
    "settlement_sources",
    "closed_at",
    "close_reason",
)
_ROOM_MUTABLE_TYPES = (
    "text",
    "bigint",
    "bigint",
    "integer",
    "integer",
    "timestamptz",
    "timestamptz",
    "timestamptz",
    "text",
    "numeric",
    "text",
    "timestamptz",
    "text",
)
_POOLS = _ROOM_MUTABLE[1:5]  # yes_pool, no_pool, yes_bets, no_bets
# The types of BET_COLUMNS and request_key, and of OUTBOX_COLUMNS, as the flush sends them.
_BET_CASTS = (
    *("bigint", "bigint", "bigint", "text", "bigint", "timestamptz", "text", "text", "bigint"),
    *("text", "text"),
)
_OUTBOX_CASTS = (
    *("bigint", "bigint", "text", "text", "text", "timestamptz", "timestamptz", "integer"),
    *("timestamptz", "text", "timestamptz"),
)
_ROOM_MUTABLE_SELECT = ", ".join(
    "ARRAY(SELECT jsonb_array_elements_text(u.settlement_sources::jsonb)) AS settlement_sources"
    if c == "settlement_sources"
    else f"u.{c}"
    for c in _ROOM_MUTABLE
)
_WITHDRAWAL_MUTABLE = (
    "state",
    "approvals",
    "signature",
    "blockhash",
    "last_valid_block_height",
    "failure_reason",
    "updated_at",
)


def _value(member: StrEnum | None) -> str | None:
    return None if member is None else member.value


def _room_mutable(room: Room) -> tuple[Any, ...]:
    """The room's _ROOM_MUTABLE values, as the flush sends them."""
    outcome = room.outcome
    return (
        room.state.value,
        room.yes_pool,
        room.no_pool,
        room.yes_bets,
        room.no_bets,
        room.opened_at,
        room.settling_since,
        room.trigger_at,
        None if outcome is None else outcome.value,
        room.settlement_value,
        json.dumps(room.settlement_sources) if room.settlement_sources else "[]",
        room.closed_at,
        room.close_reason,
    )


def _is_transfer(entry: JournalEntry) -> bool:
    """Whether the entry is kept as one transfer row: two postings, on two accounts, the
    first paying a positive amount to the second (read back as the same two postings)."""
    postings = entry.postings
    if len(postings) != 2:
        return False
    first, second = postings
    return first.amount < 0 and second.amount == -first.amount and first.account != second.account


def _add_posted_entries(f: _Flush, entries: list[JournalEntry]) -> None:
    """Entries of more (or other) than two postings: the entry rows and their postings (the
    postings_balanced trigger checks each sums to zero)."""
    lines = [(e.key, n, p.account, p.amount) for e in entries for n, p in enumerate(e.postings, 1)]
    keys, numbers, accounts, amounts = (list(c) for c in zip(*lines, strict=True))
    f.add(
        f"""INSERT INTO journal_entries (key, kind, at, memo)
            SELECT * FROM unnest({f.arg([e.key for e in entries], "text[]")},
                                 {f.arg([e.kind.value for e in entries], "text[]")},
                                 {f.arg([e.at for e in entries], "timestamptz[]")},
                                 {f.arg([e.memo for e in entries], "text[]")})
            RETURNING id, key"""
    )
    entry_cte = f.last_part
    f.add(
        f"""INSERT INTO postings (entry_id, line, account, amount)
            SELECT e.id, s.line, s.account, s.amount
            FROM unnest({f.arg(keys, "text[]")}, {f.arg(numbers, "integer[]")},
                        {f.arg(accounts, "text[]")}, {f.arg(amounts, "bigint[]")})
                 AS s (key, line, account, amount)
            JOIN {entry_cte} AS e ON e.key = s.key"""
    )


def _set_from(columns: Sequence[str]) -> str:
    return ", ".join(f"{c} = s.{c}" for c in columns)


class PostgresUnitOfWork:
    """One transaction on one pooled connection (see the module docstring)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.users = PostgresUserRepository(self)
        self.rooms = PostgresRoomRepository(self)
        self.bets = PostgresBetRepository(self)
        self.ledger = PostgresLedgerRepository(self)
        self.referrals = PostgresReferralRepository(self)
        self.outbox = PostgresOutboxRepository(self)
        self.audit = PostgresAuditRepository(self)
        self.idempotency = PostgresIdempotencyRepository(self)
        self.deposits = PostgresDepositRepository(self)
        self.withdrawals = PostgresWithdrawalRepository(self)
        self.controls = PostgresControlsRepository(self)
        self._connection: asyncpg.Connection | None = None
        self._transaction: Any = None
        self._reset()

    def _reset(self) -> None:
        self.staged_users: dict[int, tuple[int, int | None, str | None, int | None, str | None]]
        self.staged_users = {}
        self.new_rooms: dict[int, dict[str, Any]] = {}
        self.room_updates: dict[int, tuple[Any, ...]] = {}  # _ROOM_MUTABLE, in order
        # Rooms read without a lock (placement_view): _ROOM_MUTABLE as read; the pool
        # increments of those still OPEN, and the other changes with the values read.
        self.read_rooms: dict[int, tuple[Any, ...]] = {}
        self.room_increments: dict[int, tuple[int, int, int, int]] = {}
        self.guarded_room_updates: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self.new_bets: dict[int, Bet] = {}
        self.staged_bet_keys: set[tuple[int, int]] = set()
        self.known_without_bet: set[tuple[int, int]] = set()
        self.bet_updates: dict[int, tuple[str, int, str | None]] = {}
        self.staged_rewards: list[tuple[int, int, int, int, int]] = []
        self.staged_entries: list[JournalEntry] = []
        self.staged_entry_keys: set[str] = set()
        self.staged_deltas: dict[str, int] = {}
        self.read_balances: dict[str, int] = {}  # accounts read without a lock: balance
        self.new_outbox: dict[str, OutboxMessage] = {}
        self.outbox_updates: dict[int, tuple[str, datetime, str | None]] = {}
        self.staged_audit: list[tuple[datetime, str, str, str]] = []
        self.staged_idempotency: dict[str, str] = {}
        self.staged_bet_request_keys: dict[str, int] = {}  # key -> a bet of new_bets
        self.staged_cursors: dict[str, str] = {}
        self.new_withdrawals: dict[int, dict[str, Any]] = {}
        self.withdrawal_updates: dict[int, dict[str, Any]] = {}
        self.staged_events: list[DomainEvent] = []

    @property
    def connection(self) -> asyncpg.Connection:
        if self._connection is None:
            raise RuntimeError("the unit of work is used outside `async with`")
        return self._connection

    # --- transaction ------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        # (Nothing is staged: __init__ and __aexit__ reset.)
        self._connection = await translate_errors(self.store.pool.acquire)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._transaction is not None:
                with contextlib.suppress(Exception):  # a lost connection rolled back already
                    await self._transaction.rollback()
        finally:
            self._transaction = None
            await self._release()
            self._reset()

    async def _release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            # A connection lost mid-transaction may have been taken back by the pool already.
            with contextlib.suppress(asyncpg.InterfaceError):
                await self.store.pool.release(connection)

    def emit(self, *events: DomainEvent) -> None:
        self.staged_events.extend(events)

    async def commit(self) -> None:
        if self._transaction is None:  # nothing sent yet, or reads only: the flush alone
            statement = self._build_flush()
            if statement is not None:  # (staged writes are reset below, as after a flush)
                await self._send(self.connection.execute, *statement)
        else:
            await self.flush()
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await translate_errors(transaction.commit)
        events = self.staged_events
        self._reset()
        self.store.publish(events)

    async def rollback(self) -> None:
        self._reset()
        transaction, self._transaction = self._transaction, None
        if transaction is not None:
            await translate_errors(transaction.rollback)

    async def _begin(self) -> None:
        # The first statement of a unit of work begins its transaction, and one may go on
        # after commit or rollback, like the in-memory one: the next statement begins anew.
        self._transaction = self.connection.transaction()
        await translate_errors(self._transaction.start)

    # --- statements ---------------------------------------------------------------------

    async def next_id(self, sequence: str) -> int:
        # nextval is not transactional: it needs no open transaction and survives rollback.
        return await translate_errors(lambda: self.store.next_id(self.connection, sequence))

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        await self.flush()
        return await self._run(self.connection.fetch, sql, *args)

    async def fetchrow(self, sql: str, *args: object) -> asyncpg.Record | None:
        await self.flush()
        return await self._run(self.connection.fetchrow, sql, *args)

    async def fetchrow_unlocked(self, sql: str, *args: object) -> asyncpg.Record | None:
        """A read whose rows the flush re-checks: outside a transaction when it is the unit
        of work's first statement (one BEGIN fewer), else in it (a flush of staged writes
        begins one)."""
        await self.flush()
        return await self._send(self.connection.fetchrow, sql, *args)

    async def fetchval(self, sql: str, *args: object) -> Any:
        await self.flush()
        return await self._run(self.connection.fetchval, sql, *args)

    async def execute(self, sql: str, *args: object) -> str:
        await self.flush()
        return await self._run(self.connection.execute, sql, *args)

    async def _run(self, method: Callable[..., Awaitable[T]], sql: str, *args: object) -> T:
        """The statement in the unit of work's transaction, begun first if none is open."""
        if self._transaction is None:
            await self._begin()
        return await self._send(method, sql, *args)

    async def _send(self, method: Callable[..., Awaitable[T]], sql: str, *args: object) -> T:
        """The statement in the open transaction, or by itself when none is open."""
        return await translate_errors(lambda: method(sql, *args))

    async def flush(self) -> None:
        """Send every staged write as one statement."""
        statement = self._build_flush()
        if statement is None:
            return
        self._reset_staged_writes()
        await self._run(self.connection.execute, *statement)

    def _reset_staged_writes(self) -> None:
        kept = (self.staged_events, self.known_without_bet, self.read_balances, self.read_rooms)
        self._reset()
        self.staged_events, self.known_without_bet, self.read_balances, self.read_rooms = kept

    def _build_flush(self) -> tuple[str, *tuple[object, ...]] | None:
        """The flush statement and its parameters, or None when nothing is staged."""
        self._merge_outbox_updates()
        f = _Flush(with_text=False)
        self._write_flush(f)
        if not f.shape:
            return None
        shape = tuple(f.shape)
        sql = _FLUSH_TEXTS.get(shape)
        if sql is None:
            f = _Flush(with_text=True)
            self._write_flush(f)
            sql = f.sql
            if len(_FLUSH_TEXTS) >= _FLUSH_TEXTS_MAX:
                _FLUSH_TEXTS.clear()
            _FLUSH_TEXTS[shape] = sql
        return (sql, *f.args)

    def _write_flush(self, f: _Flush) -> None:
        # Rooms first: their re-checks run first, so a room's row is locked before any
        # account's, the order settlement locks them in (RULES 8).
        if self.room_increments:
            room_ids = list(self.room_increments)
            source = f.rows(("bigint",) * 5, [(i, *d) for i, d in self.room_increments.items()])
            f.add(
                f"""UPDATE rooms AS t SET {", ".join(f"{c} = t.{c} + s.{c}" for c in _POOLS)}
                    FROM {source} AS s (id, {", ".join(_POOLS)})
                    WHERE t.id = s.id AND {f.matches("t.id", room_ids, "bigint")}
                      AND t.state = '{RoomState.OPEN.value}'
                    RETURNING 1"""
            )
            f.expect(len(room_ids))
        if self.guarded_room_updates:
            guarded = self.guarded_room_updates
            self._add_room_updates(
                f, {i: new for i, (new, _) in guarded.items()}, [r for _, r in guarded.values()]
            )
        if self.room_updates:
            self._add_room_updates(f, self.room_updates, None)
        if self.staged_entries:
            self._add_entries(f)
        if self.staged_users:
            cols = list(zip(*self.staged_users.values(), strict=True))
            ids = f.arg(list(cols[0]), "bigint[]")
            f.add(
                f"""UPDATE users AS t SET telegram_id = s.telegram_id, username = s.username,
                        referrer_id = s.referrer_id, deposit_address = s.deposit_address
                    FROM unnest({ids},
                                {f.arg(list(cols[1]), "bigint[]")},
                                {f.arg(list(cols[2]), "text[]")},
                                {f.arg(list(cols[3]), "bigint[]")},
                                {f.arg(list(cols[4]), "text[]")})
                         AS s (id, telegram_id, username, referrer_id, deposit_address)
                    WHERE t.id = s.id AND t.id = ANY ({ids})"""
            )
        if self.new_rooms:
            records = f.arg(list(self.new_rooms.values()), "jsonb")
            f.add(
                f"INSERT INTO rooms SELECT * FROM jsonb_populate_recordset(NULL::rooms, {records})"
            )
        if self.new_bets:
            bets = self.new_bets.values()
            request_keys = {b: k for k, b in self.staged_bet_request_keys.items()}
            f.add(
                f"""INSERT INTO bets ({BET_COLUMNS}, request_key)
                    SELECT * FROM {
                    f.rows(
                        _BET_CASTS,
                        [
                            (
                                b.id,
                                b.room_id,
                                b.user_id,
                                b.side.value,
                                b.stake,
                                b.placed_at,
                                b.idempotency_key,
                                b.status.value,
                                b.payout,
                                _value(b.refund_reason),
                                request_keys.get(b.id),
                            )
                            for b in bets
                        ],
                    )
                } AS s"""
            )
        if self.bet_updates:
            ids = f.arg(list(self.bet_updates), "bigint[]")
            status, payout, reason = zip(*self.bet_updates.values(), strict=True)
            f.add(
                f"""UPDATE bets AS t SET status = s.status, payout = s.payout,
                        refund_reason = s.refund_reason
                    FROM unnest({ids}, {f.arg(list(status), "text[]")},
                                {f.arg(list(payout), "bigint[]")}, {f.arg(list(reason), "text[]")})
                         AS s (id, status, payout, refund_reason)
                    WHERE t.id = s.id AND t.id = ANY ({ids})"""
            )
        if self.staged_rewards:
            cols = list(zip(*self.staged_rewards, strict=True))
            f.add(
                f"""INSERT INTO referral_rewards (referrer_id, level, amount, room_id, bet_id)
                    SELECT * FROM unnest({f.arg(list(cols[0]), "bigint[]")},
                                         {f.arg(list(cols[1]), "smallint[]")},
                                         {f.arg(list(cols[2]), "bigint[]")},
                                         {f.arg(list(cols[3]), "bigint[]")},
                                         {f.arg(list(cols[4]), "bigint[]")})"""
            )
        if self.new_outbox:
            self._add_new_outbox(f)
        if self.outbox_updates:
            updates = self.outbox_updates
            ids = f.arg(list(updates), "bigint[]")
            f.add(
                f"""UPDATE outbox AS t SET
                        sent_at = CASE WHEN s.what = 'sent' THEN s.at ELSE t.sent_at END,
                        gave_up_at = CASE WHEN s.what = 'give_up' THEN s.at ELSE t.gave_up_at END,
                        next_attempt_at = CASE WHEN s.what IN ('retry', 'postpone') THEN s.at
                                               ELSE t.next_attempt_at END,
                        attempts = t.attempts + (s.what = 'retry')::integer,
                        last_error = coalesce(s.error, t.last_error)
                    FROM unnest({ids}, {f.arg([u[0] for u in updates.values()], "text[]")},
                                {f.arg([u[1] for u in updates.values()], "timestamptz[]")},
                                {f.arg([u[2] for u in updates.values()], "text[]")})
                         AS s (id, what, at, error)
                    WHERE t.id = s.id AND t.id = ANY ({ids})"""
            )
        if self.staged_audit:
            source = f.rows(("timestamptz", "text", "text", "text"), self.staged_audit)
            f.add(
                f"""INSERT INTO audit_log (at, actor, action, details)
                    SELECT s.at, s.actor, s.action, s.details::jsonb
                    FROM {source} AS s (at, actor, action, details)"""
            )
        if self.staged_idempotency:
            source = f.rows(("text", "text"), list(self.staged_idempotency.items()))
            f.add(f"INSERT INTO idempotency_keys (key, result_ref) SELECT * FROM {source} AS s")
        if self.staged_cursors:
            f.add(
                f"""INSERT INTO deposit_cursors (address, signature)
                    SELECT * FROM unnest({f.arg(list(self.staged_cursors), "text[]")},
                                         {f.arg(list(self.staged_cursors.values()), "text[]")})
                    ON CONFLICT (address) DO UPDATE SET signature = excluded.signature"""
            )
        if self.new_withdrawals:
            records = f.arg(list(self.new_withdrawals.values()), "jsonb")
            f.add(
                f"""INSERT INTO withdrawals
                    SELECT * FROM jsonb_populate_recordset(NULL::withdrawals, {records})"""
            )
        if self.withdrawal_updates:
            records = f.arg(list(self.withdrawal_updates.values()), "jsonb")
            ids = f.arg(list(self.withdrawal_updates), "bigint[]")
            f.add(
                f"""UPDATE withdrawals AS t SET {_set_from(_WITHDRAWAL_MUTABLE)}
                    FROM jsonb_populate_recordset(NULL::withdrawals, {records}) AS s
                    WHERE t.id = s.id AND t.id = ANY ({ids})"""
            )

    def _add_room_updates(
        self, f: _Flush, updates: dict[int, tuple[Any, ...]], read: list[tuple[Any, ...]] | None
    ) -> None:
        """Rooms written as they are; with ``read`` (the values read, in the same order),
        only where every column but the sources still holds the value read."""
        # Typed arrays, one per column (no JSON to write and parse); the sources are
        # a JSON array each (an array of arrays must be rectangular).
        room_ids = list(updates)
        casts: tuple[str, ...] = ("bigint", *_ROOM_MUTABLE_TYPES)
        records = [(i, *values) for i, values in updates.items()]
        names = list(_ROOM_MUTABLE)
        condition = ""
        if read is not None:
            checked = [i for i, c in enumerate(_ROOM_MUTABLE) if c != "settlement_sources"]
            casts += tuple(_ROOM_MUTABLE_TYPES[i] for i in checked)
            records = [
                (*r, *(was[i] for i in checked)) for r, was in zip(records, read, strict=True)
            ]
            names += [f"read_{_ROOM_MUTABLE[i]}" for i in checked]
            now_values = ", ".join(f"t.{_ROOM_MUTABLE[i]}" for i in checked)
            read_values = ", ".join(f"s.read_{_ROOM_MUTABLE[i]}" for i in checked)
            condition = f" AND ({now_values}) IS NOT DISTINCT FROM ({read_values}) RETURNING 1"
        source = f.rows(casts, records)
        passed = "".join(f", u.{n}" for n in names[len(_ROOM_MUTABLE) :])
        f.add(
            f"""UPDATE rooms AS t SET {_set_from(_ROOM_MUTABLE)}
                FROM (SELECT u.id, {_ROOM_MUTABLE_SELECT}{passed}
                      FROM {source} AS u (id, {", ".join(names)})) AS s
                WHERE t.id = s.id AND {f.matches("t.id", room_ids, "bigint")}{condition}"""
        )
        if read is not None:
            f.expect(len(room_ids))

    def _add_entries(self, f: _Flush) -> None:
        transfers: list[JournalEntry] = []
        others: list[JournalEntry] = []
        for e in self.staged_entries:
            (transfers if _is_transfer(e) else others).append(e)
        if transfers:
            # One row each, the amount moving from the first account to the second.
            f.add(
                f"""INSERT INTO journal_entries (key, kind, at, memo, from_account, to_account,
                                             amount)
                    SELECT * FROM {
                    f.rows(
                        ("text", "text", "timestamptz", "text", "text", "text", "bigint"),
                        [
                            (
                                e.key,
                                e.kind.value,
                                e.at,
                                e.memo,
                                e.postings[0].account,
                                e.postings[1].account,
                                e.postings[1].amount,
                            )
                            for e in transfers
                        ],
                    )
                } AS s"""
            )
        if others:
            _add_posted_entries(f, others)
        # Accounts this unit of work has read exist: update them. The others are credited
        # (a debit needs a balance read) and may be new: upsert them, in name order
        # (RULES 8). An upsert cannot serve both: its proposed row must pass the CHECK.
        held = sorted(a for a in self.staged_deltas if a in self.read_balances)
        other = sorted(a for a in self.staged_deltas if a not in self.read_balances)
        deltas = self.staged_deltas
        if held:  # read without a lock: debited only while the balance covers it
            source = f.rows(("text", "bigint"), [(a, deltas[a]) for a in held])
            f.add(
                f"""UPDATE accounts AS t SET balance = t.balance + s.delta
                    FROM {source} AS s (name, delta)
                    WHERE t.name = s.name AND {f.matches("t.name", held, "text")}
                      AND t.balance + s.delta >= 0
                    RETURNING 1"""
            )
            f.expect(len(held))
        if other:
            source = f.rows(
                ("text", "bigint", "boolean"), [(a, deltas[a], may_go_negative(a)) for a in other]
            )
            f.add(
                f"""INSERT INTO accounts (name, balance, may_go_negative)
                    SELECT * FROM {source} AS s
                    ON CONFLICT (name)
                    DO UPDATE SET balance = accounts.balance + excluded.balance"""
            )

    def _merge_outbox_updates(self) -> None:
        """A message created and settled in the same unit of work goes in as it ends up."""
        if not (self.new_outbox and self.outbox_updates):
            return
        for m in self.new_outbox.values():
            update = self.outbox_updates.pop(m.id, None)
            if update is not None:
                what, at, error = update
                if what == "sent":
                    m.sent_at = at
                elif what == "give_up":
                    m.gave_up_at, m.last_error = at, error
                else:
                    m.attempts += what == "retry"
                    m.next_attempt_at = at
                    m.last_error = error or m.last_error

    def _add_new_outbox(self, f: _Flush) -> None:
        messages = list(self.new_outbox.values())
        f.add(
            f"""INSERT INTO outbox ({OUTBOX_COLUMNS})
                SELECT s.id, s.user_id, s.kind, s.payload::jsonb, s.dedupe_key, s.created_at,
                       s.next_attempt_at, s.attempts, s.sent_at, s.last_error, s.gave_up_at
                FROM {
                f.rows(
                    _OUTBOX_CASTS,
                    [
                        (
                            m.id,
                            m.user_id,
                            m.kind.value,
                            json.dumps(m.payload),
                            m.dedupe_key,
                            m.created_at,
                            m.next_attempt_at,
                            m.attempts,
                            m.sent_at,
                            m.last_error,
                            m.gave_up_at,
                        )
                        for m in messages
                    ],
                )
            } AS s (id, user_id, kind, payload, dedupe_key, created_at, next_attempt_at,
                           attempts, sent_at, last_error, gave_up_at)
                ON CONFLICT (dedupe_key) DO NOTHING"""
        )
