"""The Turnkey signer against a local Turnkey that checks every request's stamp."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from returns.result import Failure
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from rooms_adapters.solana.litesvm_chain import LiteSvmChain
from tests.adapters.solana.turnkey_server import ORGANIZATION, FakeTurnkey

if TYPE_CHECKING:
    from rooms_adapters.solana.turnkey_signer import TurnkeySigner

# The signer is imported where a test uses it: it imports turnkey-sdk-types (1,361 pydantic
# models, 5-25 s), and every test process collects this module, also those that never run it.


def api_key() -> tuple[str, str]:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return public.hex(), format(private.private_numbers().private_value, "064x")


@pytest.fixture
async def turnkey() -> AsyncIterator[tuple[FakeTurnkey, TurnkeySigner, str]]:
    from rooms_adapters.solana.turnkey_signer import (
        InMemoryWalletDirectory,
        TurnkeySettings,
        TurnkeySigner,
    )

    public, private = api_key()
    server = FakeTurnkey(public)
    settings = TurnkeySettings(ORGANIZATION, public, private, server.url, poll_interval=0.01)
    async with httpx.AsyncClient() as client:
        yield server, TurnkeySigner(settings, client, InMemoryWalletDirectory()), private
    server.close()


async def test_stamped_requests_create_a_wallet_and_sign_what_litesvm_accepts(
    turnkey: tuple[FakeTurnkey, TurnkeySigner, str],
) -> None:
    server, signer, _ = turnkey
    address = (await signer.create_wallet("platform:hot")).unwrap()
    assert (await signer.create_wallet("platform:hot")).unwrap() == address  # no second wallet
    chain = LiteSvmChain()
    await chain.fund(address, 10**9)
    destination = str(Keypair().pubkey())
    unsigned = chain.build_transfer(
        address, destination, 10**8, (await chain.latest_blockhash()).unwrap()
    )

    raw_signature = (await signer.sign(address, unsigned.message)).unwrap()

    assert Signature(raw_signature).verify(Pubkey.from_string(address), unsigned.message)
    _, raw = chain.assemble(unsigned, raw_signature)
    assert (await chain.send_raw_transaction(raw)).unwrap()
    assert (await chain.balance(destination)).unwrap() == 10**8
    assert server.rejected_stamps == 0
    assert "/public/v1/query/get_activity" in server.paths  # the pending activity was polled


async def test_a_request_stamped_with_another_key_is_refused(
    turnkey: tuple[FakeTurnkey, TurnkeySigner, str],
) -> None:
    from rooms_adapters.solana.turnkey_signer import (
        InMemoryWalletDirectory,
        TurnkeySettings,
        TurnkeySigner,
    )

    server, _, _ = turnkey
    other_public, other_private = api_key()
    settings = TurnkeySettings(ORGANIZATION, other_public, other_private, server.url)
    async with httpx.AsyncClient() as client:
        stranger = TurnkeySigner(settings, client, InMemoryWalletDirectory())
        refused = await stranger.create_wallet("user:1")
    assert isinstance(refused, Failure)
    assert "401" in refused.failure().reason
    assert server.rejected_stamps == 1


async def test_failures_are_typed_and_the_api_key_stays_hidden(
    turnkey: tuple[FakeTurnkey, TurnkeySigner, str],
) -> None:
    server, signer, private = turnkey
    server.wallet_names.add("user:taken")  # Turnkey refuses a second wallet of that name
    failed = await signer.create_wallet("user:taken")
    assert isinstance(failed, Failure)
    assert "failed" in failed.failure().reason
    unknown = await signer.sign(str(Keypair().pubkey()), b"m")
    assert isinstance(unknown, Failure)
    assert private not in repr(signer)
    assert private not in failed.failure().reason
