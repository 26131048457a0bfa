"""A real PostgreSQL for the tests: one fresh database per test run, emptied per test.

The server comes from ``ROOMS_TEST_ADMIN_URL`` (default: the local one, user postgres). It
must be up: tests that need it fail rather than skip (``.ci/run`` starts it when down).
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.postgres.migrate import migrate
from rooms_adapters.postgres.rows import (
    BET_COLUMNS,
    ROOM_COLUMNS,
    USER_COLUMNS,
    bet_from_row,
    entry_from_row,
    room_from_row,
    user_from_row,
)
from rooms_adapters.postgres.store import PostgresSettings, PostgresStore
from rooms_adapters.postgres.uow import PostgresUnitOfWork
from rooms_core.ports.clock import Clock
from tests.support import START, Platform, make_platform

ADMIN_URL = os.environ.get("ROOMS_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = (
    "users, rooms, bets, accounts, journal_entries, postings, referral_rewards, outbox, "
    "audit_log, idempotency_keys, deposits, deposit_cursors, withdrawals, wallet_keys, "
    "oracle_decisions, turnkey_wallets, platform_controls"
)
SEQUENCES = ("users", "rooms", "bets", "outbox", "withdrawals")
T = TypeVar("T")


def run_in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on a private event loop, even from inside another one."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as error:
            box["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def database_url(name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _create(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(database_url(name))
    try:
        await migrate(connection)
    finally:
        await connection.close()


async def _drop(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """The URL of a new, migrated database, dropped after the run."""
    name = f"rooms_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    run_in_thread(lambda: _create(name))
    try:
        yield database_url(name)
    finally:
        run_in_thread(lambda: _drop(name))


async def empty_store(dsn: str, clock: Clock, pool_max: int = 10) -> PostgresStore:
    """A store on an emptied database."""
    store = await PostgresStore.connect(
        PostgresSettings(dsn=dsn, pool_min=1, pool_max=pool_max), clock
    )
    async with store.pool.acquire() as connection:
        await connection.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
        for sequence in SEQUENCES:
            await connection.execute(f"ALTER SEQUENCE {sequence}_id_seq RESTART")
    return store


async def pg_platform(
    dsn: str, pool_max: int = 12, **options: Any
) -> tuple[Platform, PostgresStore]:
    """The services over PostgreSQL (an emptied database); the rest in memory."""
    pg = await empty_store(dsn, VirtualClock(START), pool_max=pool_max)
    platform = make_platform(uow=lambda: PostgresUnitOfWork(pg), **options)
    pg.clock = platform.clock
    return platform, pg


async def load_books(pg: PostgresStore) -> InMemoryStore:
    """Everything committed in the database, loaded into an in-memory store, so the same
    ``books_checks`` and test assertions run on both backends."""
    books = InMemoryStore(clock=pg.clock)
    async with pg.pool.acquire() as c:
        for r in await c.fetch(f"SELECT {USER_COLUMNS} FROM users"):
            books.users[r["id"]] = user_from_row(r)
        for r in await c.fetch(f"SELECT {ROOM_COLUMNS} FROM rooms"):
            books.rooms[r["id"]] = room_from_row(r)
        for r in await c.fetch(f"SELECT {BET_COLUMNS} FROM bets ORDER BY id"):
            bet = bet_from_row(r)
            books.bets[bet.id] = bet
            books.bet_by_user_room[(bet.user_id, bet.room_id)] = bet.id
            books.bets_by_room[bet.room_id].append(bet.id)
            books.bets_by_user[bet.user_id].append(bet.id)
        for r in await c.fetch(
            """SELECT e.key, e.kind, e.at, e.memo,
                      coalesce(array_agg(p.account ORDER BY p.line)
                                   FILTER (WHERE p.entry_id IS NOT NULL),
                               ARRAY[e.from_account, e.to_account]) AS accounts,
                      coalesce(array_agg(p.amount ORDER BY p.line)
                                   FILTER (WHERE p.entry_id IS NOT NULL),
                               ARRAY[-e.amount, e.amount]) AS amounts
               FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id
               GROUP BY e.id ORDER BY e.id"""
        ):
            entry = entry_from_row(r)
            books.entries[entry.key] = entry
            for posting in entry.postings:
                books.entries_by_account[posting.account].append(entry)
        for r in await c.fetch("SELECT name, balance FROM accounts"):
            books.balances[r["name"]] = r["balance"]
    async with PostgresUnitOfWork(pg) as uow:
        books.audit = await uow.audit.records(limit=1_000_000)
        await uow.commit()
    return books
