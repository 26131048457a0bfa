"""The chain adapters the custody scenarios run through: LiteSVM in-process, and the RPC
adapter over real HTTP to a LiteSVM-backed JSON-RPC endpoint."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from rooms_adapters.solana.litesvm_chain import LiteSvmChain
from rooms_adapters.solana.rpc_chain import SolanaRpcChain
from rooms_core.ports.chain import Chain
from tests.adapters.solana.rpc_server import LiteSvmRpcServer


@dataclass
class ChainKit:
    chain: Chain
    fund: Callable[[str, int], Awaitable[str]]  # money from outside, as a real transfer


@pytest.fixture(params=["litesvm", "rpc"])
async def chain_kit(request: pytest.FixtureRequest) -> AsyncIterator[ChainKit]:
    if request.param == "litesvm":
        local = LiteSvmChain()
        yield ChainKit(local, local.fund)
        return
    server = LiteSvmRpcServer()
    remote = SolanaRpcChain([server.url], pause=0.01)

    async def fund(address: str, lamports: int) -> str:
        return await asyncio.to_thread(server.fund, address, lamports)

    try:
        yield ChainKit(remote, fund)
    finally:
        await remote.close()
        server.close()
