"""The signer and the chain of a Postgres deployment, from the environment: Turnkey when
``ROOMS_TURNKEY_ORGANIZATION_ID`` is set, else the local signer over the database's sealed
keys (``ROOMS_MASTER_KEY`` or ``ROOMS_MASTER_KEY_FILE``); the chain over the RPC endpoints.
Shared by ``rooms worker`` (custody) and ``rooms bot`` (deposit addresses, solvency)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import anyio
import typer
from returns.result import Success

if TYPE_CHECKING:  # imported where used: `rooms --help` loads this module, not the core
    from rooms_adapters.postgres.store import PostgresStore
    from rooms_core.ports.signer import Signer
    from rooms_core.services.custody import Custody

HOT_WALLET_OWNER = "platform:hot"

RpcUrls = Annotated[
    str | None,
    typer.Option(
        "--rpc-url",
        envvar="ROOMS_SOLANA_RPC_URLS",
        help="Solana RPC endpoint(s), comma-separated (failover in that order). With it, "
        "the engine credits deposits, sweeps them and pays withdrawals (PostgreSQL only); "
        "the signer's settings (ROOMS_MASTER_KEY(_FILE) or ROOMS_TURNKEY_*) must be set.",
        show_default=False,
    ),
]

Closers = list[Callable[[], Awaitable[None]]]


class WalletsNotReady(Exception):
    """The signer or the chain cannot be set up from this configuration (said why)."""


async def open_signer(store: PostgresStore) -> tuple[Signer, Closers]:
    """The signer, and what to close at the end."""
    import httpx

    from rooms_adapters.solana.local_signer import LocalSigner, MasterKey, MasterKeyError
    from rooms_adapters.solana.postgres_vault import PostgresKeyVault, PostgresWalletDirectory

    closers: Closers = []
    organization = os.environ.get("ROOMS_TURNKEY_ORGANIZATION_ID")
    if organization:
        from rooms_adapters.solana.turnkey_signer import TurnkeySettings, TurnkeySigner

        public = os.environ.get("ROOMS_TURNKEY_API_PUBLIC_KEY", "")
        private = os.environ.get("ROOMS_TURNKEY_API_PRIVATE_KEY", "")
        key_file = os.environ.get("ROOMS_TURNKEY_API_PRIVATE_KEY_FILE")
        if not private and key_file:
            try:
                private = (await anyio.Path(key_file).read_text()).strip()
            except OSError as error:
                raise WalletsNotReady(
                    f"cannot read the Turnkey API key file: {error.strerror}"
                ) from None
        if not (public and private):
            raise WalletsNotReady(
                "Turnkey needs ROOMS_TURNKEY_API_PUBLIC_KEY and ROOMS_TURNKEY_API_PRIVATE_KEY"
                "(_FILE)"
            )
        base = os.environ.get("ROOMS_TURNKEY_API", "https://api.turnkey.com")
        client = httpx.AsyncClient(timeout=15.0)
        closers.append(client.aclose)
        signer: Signer = TurnkeySigner(
            TurnkeySettings(organization, public, private, base),
            client,
            PostgresWalletDirectory(store),
        )
        return signer, closers
    try:
        master = MasterKey.from_env()
    except MasterKeyError as error:
        raise WalletsNotReady(f"wallets need the master key: {error}") from None
    return LocalSigner(master, PostgresKeyVault(store)), closers


async def open_custody(store: PostgresStore, rpc_url: str) -> tuple[Custody, Closers]:
    """The chain (the RPC endpoints, failing over in order), the signer and the hot
    wallet; and what to close at the end."""
    from rooms_adapters.solana.rpc_chain import SolanaRpcChain
    from rooms_core.services.custody import Custody

    endpoints = [u.strip() for u in rpc_url.split(",") if u.strip()]
    chain = SolanaRpcChain(endpoints)
    signer, closers = await open_signer(store)
    closers = [chain.close, *closers]
    hot = await signer.create_wallet(HOT_WALLET_OWNER)
    if not isinstance(hot, Success):
        for close in closers:
            await close()
        raise WalletsNotReady(f"cannot open the hot wallet: {hot.failure().message}")
    return Custody(chain, signer, hot.unwrap()), closers
