"""The local signer: keys sealed at rest, signatures that verify, a master key that stays
secret."""

from __future__ import annotations

import os

import pytest
from returns.result import Failure, Success
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from rooms_adapters.solana.local_signer import (
    InMemoryKeyVault,
    LocalSigner,
    MasterKey,
    MasterKeyError,
    SealedKey,
)

SECRET = bytes(range(32))


def signer(vault: InMemoryKeyVault | None = None, secret: bytes = SECRET) -> LocalSigner:
    return LocalSigner(MasterKey(secret), vault or InMemoryKeyVault())


async def test_a_wallet_per_owner_whose_signatures_verify() -> None:
    s = signer()
    address = (await s.create_wallet("user:1")).unwrap()
    assert (await s.create_wallet("user:1")).unwrap() == address  # the same wallet again
    assert (await s.create_wallet("user:2")).unwrap() != address
    message = b"a transfer message"
    raw = (await s.sign(address, message)).unwrap()
    assert len(raw) == 64
    assert Signature(raw).verify(Pubkey.from_string(address), message)
    assert not Signature(raw).verify(Pubkey.from_string(address), b"another message")


async def test_keys_are_sealed_at_rest() -> None:
    vault = InMemoryKeyVault()
    s = signer(vault)
    address = (await s.create_wallet("user:1")).unwrap()
    sealed = vault.keys["user:1"]
    assert sealed.address == address
    assert len(sealed.ciphertext) == 32 + 16  # the seed and the GCM tag, nothing in clear
    assert "ciphertext" not in repr(sealed)
    assert "nonce" not in repr(sealed)


async def test_another_master_key_or_another_owner_cannot_open_a_key() -> None:
    vault = InMemoryKeyVault()
    address = (await signer(vault).create_wallet("user:1")).unwrap()
    wrong = await signer(vault, secret=bytes(32)).sign(address, b"m")
    assert isinstance(wrong, Failure)
    assert "does not open" in wrong.failure().reason
    moved = vault.keys.pop("user:1")
    vault.keys["user:2"] = SealedKey("user:2", moved.address, moved.nonce, moved.ciphertext)
    assert isinstance(await signer(vault).sign(address, b"m"), Failure)


async def test_unknown_addresses_are_a_typed_error() -> None:
    result = await signer().sign("11111111111111111111111111111111", b"m")
    assert isinstance(result, Failure)
    assert "no wallet" in result.failure().reason


def test_the_master_key_never_shows() -> None:
    key = MasterKey(SECRET)
    assert SECRET.hex() not in repr(key)
    assert SECRET.hex() not in str(signer())
    assert repr(key) == "MasterKey(<hidden>)"


def test_the_master_key_comes_from_the_environment_or_a_file(tmp_path: os.PathLike[str]) -> None:
    assert isinstance(MasterKey.from_env({"ROOMS_MASTER_KEY": SECRET.hex()}), MasterKey)
    path = os.path.join(tmp_path, "master.key")
    with open(path, "w") as f:
        f.write(SECRET.hex() + "\n")
    assert isinstance(MasterKey.from_env({"ROOMS_MASTER_KEY_FILE": path}), MasterKey)
    for env, message in (
        ({}, "set ROOMS_MASTER_KEY"),
        ({"ROOMS_MASTER_KEY": "zz" * 32}, "neither hex nor base64"),
        ({"ROOMS_MASTER_KEY": "00" * 16}, "32 bytes"),
        ({"ROOMS_MASTER_KEY_FILE": "/nonexistent/key"}, "cannot read"),
    ):
        with pytest.raises(MasterKeyError, match=message) as raised:
            MasterKey.from_env(env)
        assert SECRET.hex() not in str(raised.value)


async def test_two_concurrent_creations_keep_one_wallet() -> None:
    import asyncio

    vault = InMemoryKeyVault()
    s = signer(vault)
    first, second = await asyncio.gather(s.create_wallet("user:9"), s.create_wallet("user:9"))
    assert isinstance(first, Success)
    assert first == second
    assert len(vault.keys) == 1


async def test_no_log_line_or_error_shows_a_private_key_or_the_master_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import base64
    import logging

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from solders.keypair import Keypair

    caplog.set_level(logging.DEBUG)
    vault = InMemoryKeyVault()
    s = signer(vault)
    texts: list[str] = [repr(s), str(s), repr(vault.keys), repr(MasterKey(SECRET))]
    addresses = [(await s.create_wallet(f"user:{n}")).unwrap() for n in range(3)]
    for address in addresses:
        await s.sign(address, b"m")
        texts.append(repr(await s.sign(address[:-1] + "1", b"m")))  # an unknown address
    texts.append(repr(await signer(vault, secret=bytes(32)).sign(addresses[0], b"m")))
    for bad in ({"ROOMS_MASTER_KEY": SECRET.hex()[:-2] + "zz"}, {"ROOMS_MASTER_KEY": "0" * 62}):
        with pytest.raises(MasterKeyError) as raised:
            MasterKey.from_env(bad)
        texts.append(str(raised.value))
    texts.append(caplog.text)
    everything = "\n".join(texts)

    secrets = [SECRET.hex(), base64.b64encode(SECRET).decode()]
    for owner, sealed in vault.keys.items():
        seed = AESGCM(MasterKey(SECRET).derive(owner)).decrypt(
            sealed.nonce, sealed.ciphertext, f"{owner}\x00{sealed.address}".encode()
        )
        secrets += [seed.hex(), str(Keypair.from_seed(seed)), base64.b64encode(seed).decode()]
    assert all(secret not in everything for secret in secrets)


def test_the_cores_curve_check_agrees_with_solders() -> None:
    import random

    from rooms_core.base58 import b58encode, is_on_ed25519_curve, is_wallet_address

    rng = random.Random(5)
    samples = [bytes(rng.getrandbits(8) for _ in range(32)) for _ in range(400)]
    samples += [bytes(Keypair().pubkey()) for _ in range(50)]
    for raw in samples:
        assert is_on_ed25519_curve(raw) == Pubkey.from_bytes(raw).is_on_curve(), raw.hex()
    assert is_wallet_address(str(Keypair().pubkey()))
    assert not is_wallet_address("11111111111111111111111111111112")
    assert not is_wallet_address(b58encode(bytes(31)))
