"""Chain access: the few Solana operations deposits and withdrawals need.

Addresses and signatures are base58 strings; transactions cross this port as bytes, so the
core never imports a Solana library.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from returns.result import Result

from rooms_core.errors import DomainError


@dataclass(frozen=True, slots=True)
class ChainError(DomainError):
    reason: str
    retryable: bool = True

    @property
    def message(self) -> str:
        return f"chain: {self.reason}"


@dataclass(frozen=True, slots=True)
class Blockhash:
    blockhash: str
    last_valid_block_height: int


@dataclass(frozen=True, slots=True)
class SignatureInfo:
    signature: str
    slot: int
    failed: bool


def page_of_signatures(
    newest_first: Sequence[SignatureInfo], before: str | None, until: str | None, limit: int
) -> list[SignatureInfo]:
    """One page of ``signatures_for_address`` over a newest-first history, as an RPC node
    pages it: after ``before`` (nothing when ``before`` is unknown), up to but not
    including ``until``, at most ``limit``. For adapters that keep the history themselves."""
    start = 0
    if before is not None:
        for position, info in enumerate(newest_first):
            if info.signature == before:
                start = position + 1
                break
        else:
            return []
    page: list[SignatureInfo] = []
    for info in newest_first[start:]:
        if info.signature == until or len(page) >= limit:
            break
        page.append(info)
    return page


@dataclass(frozen=True, slots=True)
class IncomingTransfer:
    """A SOL transfer in a transaction: one per System transfer instruction."""

    instruction_index: int
    source: str
    destination: str
    lamports: int


@dataclass(frozen=True, slots=True)
class TransactionDetails:
    signature: str
    slot: int
    succeeded: bool
    transfers: tuple[IncomingTransfer, ...]


@dataclass(frozen=True, slots=True)
class SignatureStatus:
    signature: str
    found: bool
    confirmed: bool = False
    failed: bool = False


@dataclass(frozen=True, slots=True)
class UnsignedTransfer:
    """A transfer message ready to sign; ``message`` is the exact bytes the signer signs."""

    source: str
    destination: str
    lamports: int
    blockhash: Blockhash
    message: bytes
    fee_payer: str | None = None  # None: the source pays the fee

    @property
    def signers(self) -> tuple[str, ...]:
        """Who must sign, in the order :meth:`Chain.assemble` takes the signatures."""
        if self.fee_payer is None or self.fee_payer == self.source:
            return (self.source,)
        return (self.fee_payer, self.source)


class Chain(Protocol):
    def is_valid_address(self, address: str) -> bool:
        """Whether ``address`` is a valid ed25519 public key in base58."""

    async def balance(self, address: str) -> Result[int, ChainError]:
        """Lamports held by ``address`` at confirmed commitment."""

    async def signatures_for_address(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = 1000,
    ) -> Result[list[SignatureInfo], ChainError]:
        """Signatures touching ``address``, newest first, between the cursors."""

    async def transaction(self, signature: str) -> Result[TransactionDetails | None, ChainError]:
        """A confirmed transaction's outcome and its SOL transfers, or None if unknown."""

    async def latest_blockhash(self) -> Result[Blockhash, ChainError]:
        """A recent blockhash at confirmed commitment and its last valid block height."""

    async def block_height(self) -> Result[int, ChainError]:
        """The current block height."""

    def build_transfer(
        self,
        source: str,
        destination: str,
        lamports: int,
        blockhash: Blockhash,
        fee_payer: str | None = None,
    ) -> UnsignedTransfer:
        """The message of a System transfer; the fee is paid by ``fee_payer`` (default: the
        source)."""

    def assemble(self, transfer: UnsignedTransfer, *signatures: bytes) -> tuple[str, bytes]:
        """The transaction's signature (base58: the first signer's) and its wire bytes;
        one signature per ``transfer.signers``, in that order."""

    async def send_raw_transaction(self, raw: bytes) -> Result[str, ChainError]:
        """Submit a signed transaction; returns its signature."""

    async def signature_statuses(
        self, signatures: Sequence[str]
    ) -> Result[list[SignatureStatus], ChainError]:
        """Statuses of several signatures."""
