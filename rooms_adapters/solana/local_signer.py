"""A signer whose private keys exist in plaintext only in memory, for the moment of signing.

Each wallet's 32-byte ed25519 seed is sealed with AES-256-GCM under a key derived (HKDF-SHA256)
from the master key and the wallet's owner, with the owner and the address as associated
data: a sealed key copied to another owner, or read with another master key, does not open.
The master key comes from the environment or a file, never from code, and never appears in a
repr, a log line or an error.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from returns.result import Failure, Result, Success
from solders.keypair import Keypair

from rooms_core.ports.signer import SignerError

MASTER_KEY_VARIABLE = "ROOMS_MASTER_KEY"
MASTER_KEY_FILE_VARIABLE = "ROOMS_MASTER_KEY_FILE"
_SALT = b"rooms/wallet-key/v1"


class MasterKeyError(ValueError):
    """The master key is missing or malformed (the message never contains key material)."""


class MasterKey:
    """32 secret bytes. Its repr and str say nothing about them."""

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != 32:
            raise MasterKeyError(f"a master key is 32 bytes, not {len(secret)}")
        self._secret = secret

    def __repr__(self) -> str:
        return "MasterKey(<hidden>)"

    __str__ = __repr__

    def derive(self, owner: str) -> bytes:
        """The AES-256 key of one owner's wallet."""
        return HKDF(hashes.SHA256(), 32, _SALT, owner.encode()).derive(self._secret)

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        """From 64 hex characters or base64 of 32 bytes."""
        raw = text.strip()
        try:
            secret = bytes.fromhex(raw) if len(raw) == 64 else base64.b64decode(raw, validate=True)
        except (ValueError, binascii.Error):
            raise MasterKeyError("the master key is neither hex nor base64") from None
        return cls(secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MasterKey:
        """From ``ROOMS_MASTER_KEY``, or the file named by ``ROOMS_MASTER_KEY_FILE``."""
        env = os.environ if env is None else env
        if env.get(MASTER_KEY_VARIABLE):
            return cls.from_text(env[MASTER_KEY_VARIABLE])
        path = env.get(MASTER_KEY_FILE_VARIABLE)
        if path:
            try:
                return cls.from_text(Path(path).read_text())
            except OSError as error:
                raise MasterKeyError(f"cannot read the master key file: {error.strerror}") from None
        raise MasterKeyError(f"set {MASTER_KEY_VARIABLE} or {MASTER_KEY_FILE_VARIABLE}")


@dataclass(frozen=True, slots=True)
class SealedKey:
    owner: str
    address: str
    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)


class KeyVault(Protocol):
    """Where sealed keys are kept (a database table in production)."""

    async def by_owner(self, owner: str) -> SealedKey | None: ...

    async def by_address(self, address: str) -> SealedKey | None: ...

    async def add(self, key: SealedKey) -> SealedKey:
        """Keep ``key`` unless the owner has one already; the key kept."""


class InMemoryKeyVault:
    def __init__(self) -> None:
        self.keys: dict[str, SealedKey] = {}

    async def by_owner(self, owner: str) -> SealedKey | None:
        return self.keys.get(owner)

    async def by_address(self, address: str) -> SealedKey | None:
        return next((k for k in self.keys.values() if k.address == address), None)

    async def add(self, key: SealedKey) -> SealedKey:
        return self.keys.setdefault(key.owner, key)


def _associated_data(owner: str, address: str) -> bytes:
    return f"{owner}\x00{address}".encode()


class LocalSigner:
    """The :class:`~rooms_core.ports.signer.Signer` over sealed keys in a :class:`KeyVault`."""

    def __init__(self, master_key: MasterKey, vault: KeyVault) -> None:
        self._master = master_key
        self.vault = vault

    def __repr__(self) -> str:
        return f"LocalSigner(vault={type(self.vault).__name__})"

    async def create_wallet(self, owner: str) -> Result[str, SignerError]:
        existing = await self.vault.by_owner(owner)
        if existing is not None:
            return Success(existing.address)
        keypair = Keypair()
        address = str(keypair.pubkey())
        nonce = os.urandom(12)
        sealed = AESGCM(self._master.derive(owner)).encrypt(
            nonce, bytes(keypair.secret()), _associated_data(owner, address)
        )
        kept = await self.vault.add(SealedKey(owner, address, nonce, sealed))
        return Success(kept.address)

    async def sign(self, address: str, message: bytes) -> Result[bytes, SignerError]:
        sealed = await self.vault.by_address(address)
        if sealed is None:
            return Failure(SignerError(f"no wallet with address {address}"))
        try:
            seed = AESGCM(self._master.derive(sealed.owner)).decrypt(
                sealed.nonce, sealed.ciphertext, _associated_data(sealed.owner, sealed.address)
            )
        except InvalidTag:
            return Failure(SignerError(f"the key of {address} does not open with this master key"))
        keypair = Keypair.from_seed(seed)
        if str(keypair.pubkey()) != address:
            return Failure(SignerError(f"the sealed key of {address} is not its key"))
        return Success(bytes(keypair.sign_message(message)))
