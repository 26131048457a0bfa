"""The connection pool and what the units of work of one process share."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import asyncpg

from rooms_core.events import DomainEvent
from rooms_core.ports.clock import Clock
from rooms_core.ports.storage import StorageUnavailable

DATABASE_URL_VARIABLE = "ROOMS_DATABASE_URL"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/rooms"


class DatabaseSettingsError(ValueError):
    """A database setting in the environment is malformed."""


DEFAULT_POOL_MIN = 2
DEFAULT_POOL_MAX = 10


@dataclass(frozen=True, slots=True)
class PostgresSettings:
    """``dsn`` comes from ``ROOMS_DATABASE_URL``; the pool sizes from ``ROOMS_DB_POOL_MIN``
    and ``ROOMS_DB_POOL_MAX``; ``statement_timeout`` (seconds) bounds any one statement."""

    dsn: str = DEFAULT_DATABASE_URL
    pool_min: int = DEFAULT_POOL_MIN
    pool_max: int = DEFAULT_POOL_MAX
    statement_timeout: float = 30.0
    id_block: int = 64  # ids fetched from a sequence at a time (see PostgresStore.next_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PostgresSettings:
        env = os.environ if env is None else env

        def number(name: str, default: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                value = int(raw)
            except ValueError:
                raise DatabaseSettingsError(f"{name} must be a whole number, not {raw!r}") from None
            if value < 1:
                raise DatabaseSettingsError(f"{name} must be at least 1, not {value}")
            return value

        pool_min = number("ROOMS_DB_POOL_MIN", DEFAULT_POOL_MIN)
        pool_max = number("ROOMS_DB_POOL_MAX", DEFAULT_POOL_MAX)
        if pool_min > pool_max:
            raise DatabaseSettingsError(
                f"ROOMS_DB_POOL_MIN ({pool_min}) is above ROOMS_DB_POOL_MAX ({pool_max})"
            )
        dsn = env.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL
        if not dsn.startswith(("postgresql://", "postgres://")):
            raise DatabaseSettingsError(
                f"{DATABASE_URL_VARIABLE} must be a postgresql:// URL, not {dsn!r}"
            )
        return cls(dsn=dsn, pool_min=pool_min, pool_max=pool_max)


async def _init_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


async def _no_session_reset(connection: asyncpg.Connection) -> None:
    """Released connections need no reset round trip: units of work end their transaction
    before release and leave no session state (no LISTEN, no session-level advisory locks
    or settings, no open cursors); asyncpg's default reset would cost every unit of work
    one more round trip."""


@dataclass(eq=False)
class PostgresStore:
    """One process's handle on the database: the pool, id blocks, event subscribers."""

    pool: asyncpg.Pool
    clock: Clock
    settings: PostgresSettings
    subscribers: list[Callable[[DomainEvent], None]] = field(default_factory=list)
    _id_blocks: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    async def connect(cls, settings: PostgresSettings, clock: Clock) -> PostgresStore:
        try:
            pool = await asyncpg.create_pool(
                settings.dsn,
                min_size=settings.pool_min,
                max_size=settings.pool_max,
                init=_init_connection,
                reset=_no_session_reset,
                server_settings={
                    "statement_timeout": str(int(settings.statement_timeout * 1000)),
                    "application_name": "rooms",
                },
            )
        except (OSError, asyncpg.PostgresError) as error:
            raise StorageUnavailable(f"cannot connect to the database: {error}") from error
        return cls(pool=pool, clock=clock, settings=settings)

    async def close(self) -> None:
        await self.pool.close()

    async def next_id(self, connection: asyncpg.Connection, sequence: str) -> int:
        """A fresh id from ``<sequence>_id_seq``. Ids are fetched in blocks, so they are
        unique and never reused, and increase within a process, but two processes
        interleave (as with any sequence cache)."""
        block = self._id_blocks.get(sequence)
        if not block:
            rows = await connection.fetch(
                "SELECT nextval($1::regclass) AS id FROM generate_series(1, $2)",
                f"{sequence}_id_seq",
                self.settings.id_block,
            )
            block = self._id_blocks.setdefault(sequence, [])
            block.extend(sorted((r["id"] for r in rows), reverse=True))
        return block.pop()

    def publish(self, events: list[DomainEvent]) -> None:
        for event in events:
            for subscriber in self.subscribers:
                subscriber(event)
