"""The ledger state machine of the core tests, on PostgreSQL: the same rules and invariants,
checked after every step against what the database committed (fewer examples: each step
is real transactions)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.postgres.store import PostgresStore
from tests.core.test_state_machine import LedgerMachine
from tests.pg import load_books, pg_platform
from tests.support import Platform

pytestmark = pytest.mark.heavy


class PostgresLedgerMachine(LedgerMachine):
    dsn = ""

    def make_platform(self) -> Platform:
        platform, self.pg = self.run(pg_platform(self.dsn, pool_max=4))
        return platform

    def books(self) -> InMemoryStore:
        return self.run(load_books(self.pg))

    def teardown(self) -> None:
        pg: PostgresStore = self.pg
        self.run(pg.close())
        super().teardown()


def test_ledger_state_machine_on_postgres(pg_database: str) -> None:
    PostgresLedgerMachine.dsn = pg_database
    run_state_machine_as_test(
        PostgresLedgerMachine,
        settings=settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
