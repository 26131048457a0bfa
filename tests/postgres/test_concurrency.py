"""Concurrency and crashes against the real server: many connections, several processes,
connections dropped and processes killed in the middle of a settlement."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import cast

import asyncpg
import pytest
from returns.result import Failure, Result, Success

from rooms_adapters.postgres.store import PostgresStore
from rooms_adapters.postgres.uow import BET_KEY_PREFIX, PostgresUnitOfWork
from rooms_core.errors import (
    AlreadyBet,
    AlreadySettled,
    BetError,
    InsufficientBalance,
    SettlementInProgress,
)
from rooms_core.ledger import escrow_account, user_account
from rooms_core.models import Bet, BetStatus, NotificationKind, OutboxMessage, Side
from rooms_core.money import sol
from rooms_core.ports.storage import StorageUnavailable
from rooms_core.room import RoomState
from rooms_core.services import bets, settlement
from rooms_core.services.bets import bet_request_key
from rooms_core.services.retry import retrying
from tests.pg import load_books, pg_platform
from tests.support import START, Platform, ok

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def platform_pg(pg_database: str) -> AsyncIterator[tuple[Platform, PostgresStore]]:
    platform, pg = await pg_platform(pg_database, pool_max=12)
    try:
        yield platform, pg
    finally:
        await pg.close()


async def assert_books_balance(pg: PostgresStore) -> None:
    checks = (await load_books(pg)).books_checks()
    assert all(checks.values()), checks


async def test_200_concurrent_bets_from_50_users_into_one_room(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    host = await platform.user()
    room = await platform.room(host)
    deposits = [sol("0.5") * (i % 5) for i in range(50)]  # 0, 0.5, 1, 1.5, 2 SOL
    people = [await platform.user(deposit=d) for d in deposits]
    stakes = [sol("0.6"), sol("0.9"), sol("1.2"), sol("1.8")]
    rng = random.Random(7)
    requests = [
        (person, rng.choice(list(Side)), stake, f"r{n}-{stake}")
        for n, person in enumerate(people)
        for stake in stakes
    ]
    rng.shuffle(requests)

    async def place(user_id: int, side: Side, stake: int, key: str) -> Result[Bet, BetError]:
        return await bets.place_bet(
            platform.deps,
            user_id=user_id,
            room_id=room.id,
            side=side,
            stake=stake,
            idempotency_key=key,
        )

    results = await asyncio.gather(
        *(
            retrying(partial(place, person.id, side, stake, key))
            for person, side, stake, key in requests
        )
    )

    placed = [r.unwrap() for r in results if isinstance(r, Success)]
    refusals = [r.failure() for r in results if isinstance(r, Failure)]
    assert all(isinstance(e, AlreadyBet | InsufficientBalance) for e in refusals), refusals
    by_user = Counter(b.user_id for b in placed)
    assert max(by_user.values()) == 1  # one bet per user and room
    able = {p.id for p, d in zip(people, deposits, strict=True) if d >= min(stakes)}
    assert set(by_user) == able  # everyone who could afford a stake got exactly one bet
    async with platform.deps.uow() as uow:
        balances = await uow.ledger.balances([user_account(p.id) for p in people])
        escrow = await uow.ledger.balance(escrow_account(room.id))
        stored = await uow.rooms.get(room.id)
    stake_of = {b.user_id: b.stake for b in placed}
    for person, deposit in zip(people, deposits, strict=True):
        assert balances[user_account(person.id)] == deposit - stake_of.get(person.id, 0)
        assert balances[user_account(person.id)] >= 0
    assert escrow == sum(stake_of.values())
    assert stored is not None
    assert stored.total_pool == escrow
    assert stored.bettors == len(placed)
    await assert_books_balance(pg)


async def _room_with_bets(platform: Platform, n: int = 6) -> tuple[int, list[int]]:
    host = await platform.user()
    room = await platform.room(host, target="200", minutes=60)
    people = [await platform.user() for _ in range(n)]
    for i, person in enumerate(people):
        await platform.bet(person, room, Side.YES if i % 2 else Side.NO, sol(1 + i))
    platform.clock.advance(61 * 60)
    return room.id, [p.id for p in people]


async def test_ten_concurrent_settlements_pay_out_once(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    room_id, _ = await _room_with_bets(platform)
    observation = platform.observation("250")

    results = await asyncio.gather(
        *(
            settlement.settle_room(
                platform.deps, room_id=room_id, observation=observation, instant=False
            )
            for _ in range(10)
        )
    )

    assert sum(isinstance(r, Success) for r in results) == 1
    losers = [r.failure() for r in results if isinstance(r, Failure)]
    assert all(isinstance(e, SettlementInProgress | AlreadySettled) for e in losers), losers
    books = await load_books(pg)
    assert [k for k in books.entries if k.startswith("settle:")] == [f"settle:{room_id}"]
    assert books.rooms[room_id].state is RoomState.SETTLED
    assert books.balances[escrow_account(room_id)] == 0
    assert all(books.bets[i].status is not BetStatus.ACTIVE for i in books.bets_by_room[room_id])
    assert all(books.books_checks().values())


class DroppedUnitOfWork(PostgresUnitOfWork):
    """Loses its connection (the server ends its backend) at its next flush with staged
    bet changes, as on a server restart or failover."""

    drops_left = 1

    async def flush(self) -> None:
        if (self.bet_updates or self.new_bets) and DroppedUnitOfWork.drops_left:
            DroppedUnitOfWork.drops_left -= 1
            pid = self.connection.get_server_pid()
            async with self.store.pool.acquire() as other:
                await other.execute("SELECT pg_terminate_backend($1)", pid)
            await asyncio.sleep(0.05)  # the server's goodbye reaches the client
        await super().flush()


async def _snapshot(pg: PostgresStore) -> tuple[dict[str, int], dict[int, str], int]:
    books = await load_books(pg)
    return (
        {a: v for a, v in books.balances.items() if v},
        {i: b.status.value for i, b in books.bets.items()},
        len(books.entries),
    )


async def test_a_settlement_whose_connection_drops_leaves_nothing_and_a_retry_settles(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    room_id, _ = await _room_with_bets(platform)
    before = await _snapshot(pg)
    state_before = (await platform.get_room(room_id)).state
    DroppedUnitOfWork.drops_left = 1
    dropping = platform.deps.__class__(
        uow=lambda: DroppedUnitOfWork(pg),
        clock=platform.deps.clock,
        oracle=platform.deps.oracle,
        tokens=platform.deps.tokens,
        settings=platform.deps.settings,
    )
    observation = platform.observation("250")

    with pytest.raises(StorageUnavailable):
        await settlement.settle_room(
            dropping, room_id=room_id, observation=observation, instant=False
        )

    assert await _snapshot(pg) == before  # the ledger post before the drop was rolled back
    assert (await platform.get_room(room_id)).state is state_before is RoomState.OPEN
    plan = ok(
        await retrying(
            lambda: settlement.settle_room(
                dropping, room_id=room_id, observation=observation, instant=False
            )
        )
    )
    assert plan.outcome is Side.YES
    assert (await platform.get_room(room_id)).state is RoomState.SETTLED
    await assert_books_balance(pg)


async def test_a_bet_whose_connection_drops_is_retried_once(
    platform_pg: tuple[Platform, PostgresStore],
) -> None:
    platform, pg = platform_pg
    host, person = await platform.user(), await platform.user(deposit=sol(5))
    room = await platform.room(host)
    DroppedUnitOfWork.drops_left = 1
    deps = platform.deps.__class__(
        uow=lambda: DroppedUnitOfWork(pg),
        clock=platform.deps.clock,
        oracle=platform.deps.oracle,
        tokens=platform.deps.tokens,
        settings=platform.deps.settings,
    )

    bet = ok(
        await retrying(
            lambda: bets.place_bet(
                deps,
                user_id=person.id,
                room_id=room.id,
                side=Side.YES,
                stake=sol(2),
                idempotency_key="once",
            )
        )
    )

    assert DroppedUnitOfWork.drops_left == 0  # the first attempt did lose its connection
    assert await platform.balance(person) == sol(3)
    async with platform.deps.uow() as uow:
        assert [b.id for b in await uow.bets.list_for_room(room.id)] == [bet.id]
    await assert_books_balance(pg)


def _spawn(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.postgres.worker", *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _await_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "READY", (line, process.stderr.read() if process.stderr else "")


def _go(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("GO\n")
        worker.stdin.flush()


def _result(process: subprocess.Popen[str]) -> object:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


async def test_a_settling_process_killed_midway_leaves_nothing_and_a_retry_settles(
    platform_pg: tuple[Platform, PostgresStore], pg_database: str
) -> None:
    platform, pg = platform_pg
    room_id, _ = await _room_with_bets(platform)
    before = await _snapshot(pg)
    seconds = (platform.clock.now() - START).total_seconds()

    worker = _spawn("settle-and-hang", pg_database, str(room_id), str(seconds), "250")
    await asyncio.to_thread(_await_ready, worker)  # its ledger post is done, uncommitted
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)

    # The server notices the dead client and rolls its transaction back.
    for _ in range(100):
        async with pg.pool.acquire() as c:
            busy = await c.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        if not busy:
            break
        await asyncio.sleep(0.1)
    assert await _snapshot(pg) == before
    ok(
        await settlement.settle_room(
            platform.deps, room_id=room_id, observation=platform.observation("250"), instant=False
        )
    )
    assert (await platform.get_room(room_id)).state is RoomState.SETTLED
    await assert_books_balance(pg)


async def test_two_dispatcher_processes_never_send_a_message_twice(
    platform_pg: tuple[Platform, PostgresStore], pg_database: str
) -> None:
    platform, _ = platform_pg
    person = await platform.user(deposit=0)
    async with platform.deps.uow() as uow:
        for i in range(300):
            await uow.outbox.add(
                OutboxMessage(
                    id=await uow.outbox.next_id(),
                    user_id=person.id,
                    kind=NotificationKind.BET_CONFIRMED,
                    payload={"n": i},
                    dedupe_key=f"m{i}",
                    created_at=START,
                    next_attempt_at=START,
                )
            )
        await uow.commit()
    workers = [_spawn("dispatch", pg_database) for _ in range(2)]
    for worker in workers:
        await asyncio.to_thread(_await_ready, worker)
    _go(workers)

    sent = [await asyncio.to_thread(_result, w) for w in workers]

    first, second = (set(cast(list[int], s)) for s in sent)
    assert first  # both did work...
    assert second
    assert not first & second  # ...and none twice
    async with platform.deps.uow() as uow:
        assert await uow.outbox.pending_count() == 0
    assert len(first | second) == 300


async def test_two_engine_processes_settle_each_due_room_once(
    platform_pg: tuple[Platform, PostgresStore], pg_database: str
) -> None:
    platform, pg = platform_pg
    host = await platform.user()
    people = [await platform.user() for _ in range(4)]
    room_ids = []
    for n in range(24):
        room = await platform.room(host, target="200", minutes=60)
        for i, person in enumerate(people[:2] if n % 3 else people):
            await platform.bet(person, room, Side.YES if i % 2 else Side.NO, sol(1))
        room_ids.append(room.id)
    # Lock them all (one job each), then let both processes settle them.
    platform.clock.advance(50 * 60)
    for room_id in room_ids:
        ok(await settlement.advance_room(platform.deps, room_id=room_id))
    platform.clock.advance(11 * 60)
    seconds = (platform.clock.now() - START).total_seconds()
    workers = [_spawn("due", pg_database, str(seconds), "250") for _ in range(2)]
    for worker in workers:
        await asyncio.to_thread(_await_ready, worker)
    _go(workers)

    done = [await asyncio.to_thread(_result, w) for w in workers]

    outcomes = [cast(list[tuple[int, str]], d) for d in done]
    settled = Counter(room_id for pairs in outcomes for room_id, what in pairs if what == "SETTLED")
    assert all(outcomes)  # both did work
    assert settled == Counter(room_ids)  # every room settled, by exactly one process
    books = await load_books(pg)
    assert all(books.rooms[i].state is RoomState.SETTLED for i in room_ids)
    assert all(books.books_checks().values())


async def test_the_database_refuses_a_negative_balance_even_without_the_code(
    platform_pg: tuple[Platform, PostgresStore], pg_database: str
) -> None:
    platform, _ = platform_pg
    person = await platform.user(deposit=sol(1))
    bare = await asyncpg.connect(pg_database)
    try:
        with pytest.raises(asyncpg.CheckViolationError):
            await bare.execute(
                "UPDATE accounts SET balance = -1 WHERE name = $1", user_account(person.id)
            )
        with pytest.raises(asyncpg.CheckViolationError, match="does not sum to zero"):
            await bare.execute(
                """WITH e AS (INSERT INTO journal_entries (key, kind, at)
                              VALUES ('bad', 'DEPOSIT', now()) RETURNING id)
                   INSERT INTO postings (entry_id, line, account, amount)
                   SELECT id, 1, $1, 5 FROM e""",
                user_account(person.id),
            )
        for columns, values in [
            ("from_account, to_account, amount", "$1, $1, 5"),  # to itself
            ("from_account, to_account, amount", "'platform:fees', $1, 0"),  # nothing
            ("from_account, to_account, amount", "'platform:fees', $1, -5"),  # backwards
            ("from_account, amount", "$1, 5"),  # half a transfer
        ]:
            with pytest.raises(asyncpg.CheckViolationError, match="journal_entries_transfer"):
                await bare.execute(
                    f"""INSERT INTO accounts (name, may_go_negative) VALUES ('platform:fees', false)
                        ON CONFLICT DO NOTHING;
                        INSERT INTO journal_entries (key, kind, at, {columns})
                        VALUES ('bad-transfer', 'DEPOSIT', now(), {values})""".replace(
                        "$1", f"'{user_account(person.id)}'"
                    )
                )
        # Bets keep their request keys; idempotency_keys may not take one (disjoint sets).
        assert bet_request_key(person.id, "k").startswith(BET_KEY_PREFIX)
        with pytest.raises(asyncpg.CheckViolationError, match="not_a_bet_key"):
            await bare.execute("INSERT INTO idempotency_keys VALUES ('bet:1:k', '1')")
        # A room's state and outcome are known values (foreign keys, migration 0010).
        room = await platform.room(person)
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="rooms_state_known"):
            await bare.execute("UPDATE rooms SET state = 'PAUSED' WHERE id = $1", room.id)
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="rooms_outcome_known"):
            await bare.execute(
                "UPDATE rooms SET state = 'SETTLED', outcome = 'MAYBE' WHERE id = $1", room.id
            )
        with pytest.raises(asyncpg.ForeignKeyViolationError, match="rooms_state_known"):
            await bare.execute("DELETE FROM room_states WHERE state = 'QUEUING'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await bare.execute("DELETE FROM journal_entries")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await bare.execute("UPDATE journal_entries SET amount = amount + 1")
    finally:
        await bare.close()
