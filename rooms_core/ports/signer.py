"""Signing: custody of keys. Private keys never leave the signer in plaintext."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from returns.result import Result

from rooms_core.errors import DomainError


@dataclass(frozen=True, slots=True)
class SignerError(DomainError):
    reason: str

    @property
    def message(self) -> str:
        return f"signer: {self.reason}"


class Signer(Protocol):
    async def create_wallet(self, owner: str) -> Result[str, SignerError]:
        """Create (or return the existing) wallet of ``owner``; returns its base58 address."""

    async def sign(self, address: str, message: bytes) -> Result[bytes, SignerError]:
        """An ed25519 signature of ``message`` by the key of ``address`` (64 bytes)."""
