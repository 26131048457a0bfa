"""An in-memory signer: deterministic keys derived from a seed, HMAC signatures.

Not real ed25519: it stands in for a custodian in tests and the simulator, where only the
in-memory chain has to verify what it signs. The seed never appears in its repr.
"""

from __future__ import annotations

import hashlib
import hmac

from returns.result import Failure, Result, Success

from rooms_core.base58 import b58encode
from rooms_core.ports.signer import SignerError


class InMemorySigner:
    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._owner_by_address: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"InMemorySigner(wallets={len(self._owner_by_address)})"

    def address_of(self, owner: str) -> str:
        return b58encode(hashlib.sha256(self._seed + b"pub" + owner.encode()).digest())

    def _secret(self, owner: str) -> bytes:
        return hashlib.sha256(self._seed + b"sec" + owner.encode()).digest()

    async def create_wallet(self, owner: str) -> Result[str, SignerError]:
        address = self.address_of(owner)
        self._owner_by_address[address] = owner
        return Success(address)

    async def sign(self, address: str, message: bytes) -> Result[bytes, SignerError]:
        owner = self._owner_by_address.get(address)
        if owner is None:
            return Failure(SignerError("unknown address"))
        return Success(hmac.new(self._secret(owner), message, hashlib.sha512).digest())

    def verify(self, address: str, message: bytes, signature: bytes) -> bool:
        owner = self._owner_by_address.get(address)
        if owner is None:
            return False
        expected = hmac.new(self._secret(owner), message, hashlib.sha512).digest()
        return hmac.compare_digest(expected, signature)
