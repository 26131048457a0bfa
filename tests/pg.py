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

from rooms_adapters.postgres.migrate import migrate
from rooms_adapters.postgres.store import PostgresSettings, PostgresStore
from rooms_core.ports.clock import Clock

ADMIN_URL = os.environ.get("ROOMS_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TABLES = (
    "users, rooms, bets, accounts, journal_entries, postings, referral_rewards, outbox, "
    "audit_log, idempotency_keys, deposits, deposit_cursors, withdrawals"
)
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
        await connection.execute(f"TRUNCATE {TABLES} CASCADE")
    return store
