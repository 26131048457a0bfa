"""Signer state in PostgreSQL: the local signer's sealed keys (``wallet_keys``, migration
0003) and the Turnkey signer's wallet directory (``turnkey_wallets``, migration 0005)."""

from __future__ import annotations

import asyncpg

from rooms_adapters.postgres.store import PostgresStore
from rooms_adapters.postgres.uow import translate_errors
from rooms_adapters.solana.local_signer import SealedKey


def _sealed(row: asyncpg.Record | None) -> SealedKey | None:
    if row is None:
        return None
    return SealedKey(row["owner"], row["address"], bytes(row["nonce"]), bytes(row["ciphertext"]))


class PostgresKeyVault:
    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def _one(self, sql: str, *args: object) -> SealedKey | None:
        async def call() -> asyncpg.Record | None:
            async with self.store.pool.acquire() as connection:
                row: asyncpg.Record | None = await connection.fetchrow(sql, *args)
                return row

        return _sealed(await translate_errors(call))

    async def by_owner(self, owner: str) -> SealedKey | None:
        return await self._one(
            "SELECT owner, address, nonce, ciphertext FROM wallet_keys WHERE owner = $1", owner
        )

    async def by_address(self, address: str) -> SealedKey | None:
        return await self._one(
            "SELECT owner, address, nonce, ciphertext FROM wallet_keys WHERE address = $1",
            address,
        )

    async def add(self, key: SealedKey) -> SealedKey:
        kept = await self._one(
            """WITH new AS (
                   INSERT INTO wallet_keys (owner, address, nonce, ciphertext)
                   VALUES ($1, $2, $3, $4) ON CONFLICT (owner) DO NOTHING
                   RETURNING owner, address, nonce, ciphertext)
               SELECT * FROM new
               UNION ALL
               SELECT owner, address, nonce, ciphertext FROM wallet_keys
               WHERE owner = $1 AND NOT EXISTS (SELECT 1 FROM new)""",
            key.owner,
            key.address,
            key.nonce,
            key.ciphertext,
        )
        if kept is None:  # the concurrent insert that won is not visible yet: read it
            kept = await self.by_owner(key.owner)
        assert kept is not None
        return kept


class PostgresWalletDirectory:
    """The Turnkey signer's owner -> address directory (table ``turnkey_wallets``)."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def _value(self, sql: str, *args: object) -> str | None:
        async def call() -> str | None:
            async with self.store.pool.acquire() as connection:
                value = await connection.fetchval(sql, *args)
                return None if value is None else str(value)

        return await translate_errors(call)

    async def address_of(self, owner: str) -> str | None:
        return await self._value("SELECT address FROM turnkey_wallets WHERE owner = $1", owner)

    async def owner_of(self, address: str) -> str | None:
        return await self._value("SELECT owner FROM turnkey_wallets WHERE address = $1", address)

    async def add(self, owner: str, address: str) -> str:
        await self._value(
            """INSERT INTO turnkey_wallets (owner, address) VALUES ($1, $2)
               ON CONFLICT (owner) DO NOTHING""",
            owner,
            address,
        )
        kept = await self.address_of(owner)
        assert kept is not None
        return kept
