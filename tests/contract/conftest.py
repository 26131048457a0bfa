"""Storage backends the repository contract runs against: every test in this folder runs
unchanged on the in-memory adapter and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.memory.uow import InMemoryUnitOfWork
from rooms_adapters.postgres.uow import PostgresUnitOfWork
from rooms_core.ports.storage import UnitOfWork
from tests.pg import empty_store
from tests.support import START

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory", "postgres"])
async def new_uow(request: pytest.FixtureRequest) -> AsyncIterator[UowFactory]:
    clock = VirtualClock(START)
    if request.param == "memory":
        store = InMemoryStore(clock=clock)
        yield lambda: InMemoryUnitOfWork(store)
        return
    pg = await empty_store(request.getfixturevalue("pg_database"), clock)
    try:
        yield lambda: PostgresUnitOfWork(pg)
    finally:
        await pg.close()
