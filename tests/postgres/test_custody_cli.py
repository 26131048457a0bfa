"""Custody as an operator runs it: `rooms worker` with an RPC endpoint and the master key
credits a deposit, sweeps it and pays a withdrawal; `rooms audit solvency` reports."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from solders.keypair import Keypair

from rooms_adapters.solana.local_signer import LocalSigner, MasterKey
from rooms_adapters.solana.postgres_vault import PostgresKeyVault, PostgresWalletDirectory
from rooms_core.models import WithdrawalState
from rooms_core.services import users, wallet
from tests.adapters.solana.rpc_server import LiteSvmRpcServer
from tests.adapters.solana.test_turnkey_signer import api_key
from tests.adapters.solana.turnkey_server import ORGANIZATION, FakeTurnkey
from tests.pg import pg_platform
from tests.support import ok

pytestmark = pytest.mark.heavy

ROOT = Path(__file__).resolve().parents[2]
SOL = 1_000_000_000
MASTER = "11" * 32


def rooms(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "rooms_cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "ROOMS_MASTER_KEY": MASTER, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_the_worker_credits_sweeps_and_pays_and_the_audit_agrees(pg_database: str) -> None:
    platform, pg = await pg_platform(pg_database)
    server = LiteSvmRpcServer()
    worker = None
    try:
        signer = LocalSigner(MasterKey.from_text(MASTER), PostgresKeyVault(pg))
        deposit_address = (await signer.create_wallet("user:alice")).unwrap()
        alice = ok(
            await users.register_user(
                platform.deps, telegram_id=777, deposit_address=deposit_address
            )
        )
        await asyncio.to_thread(server.fund, deposit_address, 5 * SOL)

        worker = rooms("worker", "--database-url", pg_database, "--feeds", "none",
                       "--rpc-url", server.url, "--custody-every", "0.3")  # fmt: skip
        assert worker.stdout is not None
        started = await asyncio.to_thread(worker.stdout.readline)
        found = re.search(r"custody on, hot wallet (\w+)", started)
        assert found, started + (worker.stderr.read() if worker.stderr else "")
        hot = found[1]
        await asyncio.to_thread(server.fund, hot, SOL)  # the operator's float for the fees

        for _ in range(200):  # credited by the worker, then swept to the hot wallet
            if (
                await platform.balance(alice) == 5 * SOL
                and (await asyncio.to_thread(server.balance, deposit_address)) == 0
            ):
                break
            await asyncio.sleep(0.05)
        assert await platform.balance(alice) == 5 * SOL
        assert await asyncio.to_thread(server.balance, deposit_address) == 0

        outside = str(Keypair().pubkey())
        request = ok(await wallet.request_withdrawal(platform.deps, user_id=alice.id,
                                                     destination=outside, amount=3 * SOL,
                                                     idempotency_key="w"))  # fmt: skip
        for _ in range(200):
            async with platform.deps.uow() as uow:
                stored = await uow.withdrawals.get(request.id)
            if stored is not None and stored.state is WithdrawalState.CONFIRMED:
                break
            await asyncio.sleep(0.05)
        assert stored is not None
        assert stored.state is WithdrawalState.CONFIRMED
        assert await asyncio.to_thread(server.balance, outside) == 3 * SOL

        audit = rooms("audit", "solvency", "--database-url", pg_database, "--rpc-url", server.url)
        out, err = await asyncio.to_thread(audit.communicate, timeout=60)
        assert audit.returncode == 0, err
        assert re.search(r"user balances\s+2 SOL", out)
        assert "surplus" in out
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            _, err = await asyncio.to_thread(worker.communicate, timeout=30)
            assert worker.returncode == 0, err
        server.close()
        await pg.close()


def test_the_audit_needs_an_rpc_url_and_a_hot_wallet(pg_database: str) -> None:
    missing = rooms("audit", "solvency", "--database-url", pg_database)
    _, err = missing.communicate(timeout=60)
    assert missing.returncode == 2
    assert "ROOMS_SOLANA_RPC_URLS" in err


async def test_the_worker_runs_custody_on_turnkey_when_configured(pg_database: str) -> None:
    # imported here, not at the top: the signer's types take seconds to import, and every
    # test process collects this module (tests/adapters/solana/test_turnkey_signer.py)
    from rooms_adapters.solana.turnkey_signer import TurnkeySettings, TurnkeySigner

    platform, pg = await pg_platform(pg_database)
    public, private = api_key()
    turnkey = FakeTurnkey(public)
    server = LiteSvmRpcServer()
    worker = None
    try:
        async with httpx.AsyncClient() as client:
            signer = TurnkeySigner(
                TurnkeySettings(ORGANIZATION, public, private, turnkey.url, poll_interval=0.01),
                client,
                PostgresWalletDirectory(pg),
            )
            deposit_address = (await signer.create_wallet("user:bob")).unwrap()
        bob = ok(
            await users.register_user(
                platform.deps, telegram_id=888, deposit_address=deposit_address
            )
        )
        await asyncio.to_thread(server.fund, deposit_address, 2 * SOL)
        env = {
            "ROOMS_TURNKEY_ORGANIZATION_ID": ORGANIZATION,
            "ROOMS_TURNKEY_API_PUBLIC_KEY": public,
            "ROOMS_TURNKEY_API_PRIVATE_KEY": private,
            "ROOMS_TURNKEY_API": turnkey.url,
        }
        worker = rooms("worker", "--database-url", pg_database, "--feeds", "none",
                       "--rpc-url", server.url, "--custody-every", "0.3", env=env)  # fmt: skip
        assert worker.stdout is not None
        started = await asyncio.to_thread(worker.stdout.readline)
        found = re.search(r"custody on, hot wallet (\w+)", started)
        assert found, started + (worker.stderr.read() if worker.stderr else "")
        await asyncio.to_thread(server.fund, found[1], SOL)
        for _ in range(200):
            if await asyncio.to_thread(server.balance, deposit_address) == 0:
                break
            await asyncio.sleep(0.05)
        assert await platform.balance(bob) == 2 * SOL  # credited
        assert await asyncio.to_thread(server.balance, deposit_address) == 0  # swept, both signed
        assert await asyncio.to_thread(server.balance, found[1]) == 3 * SOL - 10_000
        assert turnkey.rejected_stamps == 0
    finally:
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            _, err = await asyncio.to_thread(worker.communicate, timeout=30)
            assert worker.returncode == 0, err
            assert private not in err
        turnkey.close()
        server.close()
        await pg.close()
