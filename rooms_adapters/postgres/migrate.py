"""Applying the SQL migrations in order, once each, safely from several processes at once.

Each file in ``migrations/`` named ``NNNN_name.sql`` is one version. A run takes a
transaction-scoped advisory lock, reads the versions recorded in ``schema_migrations`` and
applies the missing ones in order, each in the same transaction as its record: a failing
file leaves nothing behind, and a second process waits for the first and then finds
nothing to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import asyncpg

MIGRATIONS_PACKAGE = "rooms_adapters.postgres"
_LOCK_KEY = 0x524F4F4D53  # "ROOMS": one advisory lock id for every migration run
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """Every migration shipped with the package, in version order."""
    folder = resources.files(MIGRATIONS_PACKAGE).joinpath("migrations")
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return found


async def migrate(connection: asyncpg.Connection) -> list[Migration]:
    """Apply what is missing; returns the migrations applied by this call (maybe none)."""
    applied: list[Migration] = []
    async with connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await connection.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {
            r["version"] for r in await connection.fetch("SELECT version FROM schema_migrations")
        }
        for migration in available_migrations():
            if migration.version in done:
                continue
            await connection.execute(migration.sql)
            await connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
            applied.append(migration)
    return applied


async def migrate_dsn(dsn: str) -> list[Migration]:
    connection = await asyncpg.connect(dsn)
    try:
        return await migrate(connection)
    finally:
        await connection.close()


async def migration_status(dsn: str) -> list[tuple[Migration, datetime | None]]:
    """Every shipped migration with when it was applied (None: pending)."""
    connection = await asyncpg.connect(dsn)
    try:
        exists = await connection.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
        applied: dict[int, datetime] = {}
        if exists:
            rows = await connection.fetch("SELECT version, applied_at FROM schema_migrations")
            applied = {r["version"]: r["applied_at"] for r in rows}
    finally:
        await connection.close()
    return [(m, applied.get(m.version)) for m in available_migrations()]
