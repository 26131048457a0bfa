"""Storage backends the repository contract runs against. The Postgres adapter adds its
own parameter here; every test in this folder then runs unchanged against it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.memory.uow import InMemoryUnitOfWork
from rooms_core.ports.storage import UnitOfWork
from tests.support import START

UowFactory = Callable[[], UnitOfWork]


@pytest.fixture(params=["memory"])
def new_uow(request: pytest.FixtureRequest) -> UowFactory:
    if request.param == "memory":
        store = InMemoryStore(clock=VirtualClock(START))
        return lambda: InMemoryUnitOfWork(store)
    raise NotImplementedError(request.param)
