"""Sealed wallet keys kept in PostgreSQL: a restarted signer signs with them; one key per
owner even when created concurrently; nothing in the table opens without the master key."""

from __future__ import annotations

import asyncio

from solders.pubkey import Pubkey
from solders.signature import Signature

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.solana.local_signer import LocalSigner, MasterKey
from rooms_adapters.solana.postgres_vault import PostgresKeyVault, PostgresWalletDirectory
from tests.pg import empty_store
from tests.support import START

MASTER = bytes(range(32))


async def test_keys_survive_a_restart_and_stay_sealed(pg_database: str) -> None:
    store = await empty_store(pg_database, VirtualClock(START))
    try:
        first = LocalSigner(MasterKey(MASTER), PostgresKeyVault(store))
        created = await asyncio.gather(*(first.create_wallet("user:1") for _ in range(5)))
        addresses = {c.unwrap() for c in created}
        assert len(addresses) == 1
        (address,) = addresses

        restarted = LocalSigner(MasterKey(MASTER), PostgresKeyVault(store))
        raw = (await restarted.sign(address, b"withdraw 1 SOL")).unwrap()
        assert Signature(raw).verify(Pubkey.from_string(address), b"withdraw 1 SOL")

        async with store.pool.acquire() as connection:
            row = await connection.fetchrow("SELECT * FROM wallet_keys WHERE owner = 'user:1'")
        assert row is not None
        assert len(row["ciphertext"]) == 48
        wrong = LocalSigner(MasterKey(bytes(32)), PostgresKeyVault(store))
        assert "does not open" in (await wrong.sign(address, b"m")).failure().reason
    finally:
        await store.close()


async def test_the_turnkey_directory_keeps_one_address_per_owner(pg_database: str) -> None:
    store = await empty_store(pg_database, VirtualClock(START))
    try:
        directory = PostgresWalletDirectory(store)
        assert await directory.add("user:1", "Addr1") == "Addr1"
        assert await directory.add("user:1", "Addr2") == "Addr1"  # the first one stays
        assert await directory.owner_of("Addr1") == "user:1"
        assert await directory.address_of("user:2") is None
    finally:
        await store.close()
