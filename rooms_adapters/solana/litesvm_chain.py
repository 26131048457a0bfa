"""The Solana runtime in-process (solders' LiteSVM), behind the chain port: real signed
transfers, balances and blockhash expiry, for tests and the simulator.

LiteSVM keeps no per-address signature index, no commitment levels and no block height, so
this adapter keeps its own: every transaction it sees is logged against each account it
touches (newest first for ``signatures_for_address``), blocks are counted by the adapter
(``advance_blocks``), and a blockhash is valid for ``BLOCKHASH_VALIDITY`` blocks after it was
handed out, as on mainnet; after that, transactions using it are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from returns.result import Failure, Result, Success
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata

from rooms_adapters.solana.transfers import assemble, build_transfer, system_transfers
from rooms_core.ports.chain import (
    Blockhash,
    ChainError,
    SignatureInfo,
    SignatureStatus,
    TransactionDetails,
    UnsignedTransfer,
    page_of_signatures,
)

BLOCKHASH_VALIDITY = 150
FAUCET_LAMPORTS = 100_000 * 1_000_000_000  # LiteSVM's own airdrop account holds less than 10^15


def _pubkey(address: str) -> Pubkey | None:
    try:
        return Pubkey.from_string(address)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class _Seen:
    details: TransactionDetails
    accounts: tuple[str, ...]


class LiteSvmChain:
    """The :class:`~rooms_core.ports.chain.Chain` over an in-process LiteSVM."""

    def __init__(self, svm: LiteSVM | None = None) -> None:
        self.svm = svm or LiteSVM()
        self.height = 1
        self._faucet = Keypair()
        funded = self.svm.airdrop(self._faucet.pubkey(), FAUCET_LAMPORTS)
        if isinstance(funded, FailedTransactionMetadata):
            raise RuntimeError(f"LiteSVM refused to fund the faucet: {funded.err()}")
        self._seen: dict[str, _Seen] = {}
        self.raw_transactions: dict[str, bytes] = {}  # what landed, as sent
        self._by_address: dict[str, list[SignatureInfo]] = {}
        self._valid_until: dict[str, int] = {}

    # --- the world moving -------------------------------------------------------------

    def advance_blocks(self, blocks: int = 1) -> None:
        """Let ``blocks`` blocks pass; blockhashes handed out earlier may expire."""
        self.height += blocks
        self.svm.expire_blockhash()

    async def pay(self, source: Keypair, destination: str, lamports: int) -> str:
        """A real signed transfer from a keypair we hold (a user paying a deposit address)."""
        blockhash = (await self.latest_blockhash()).unwrap()
        unsigned = self.build_transfer(str(source.pubkey()), destination, lamports, blockhash)
        _, raw = self.assemble(unsigned, bytes(source.sign_message(unsigned.message)))
        return (await self.send_raw_transaction(raw)).unwrap()

    async def fund(self, destination: str, lamports: int) -> str:
        """Money from outside (a faucet): a real transfer, so it shows up like a deposit."""
        return await self.pay(self._faucet, destination, lamports)

    # --- the port ---------------------------------------------------------------------

    def is_valid_address(self, address: str) -> bool:
        key = _pubkey(address)
        return key is not None and key.is_on_curve()

    async def balance(self, address: str) -> Result[int, ChainError]:
        key = _pubkey(address)
        if key is None:
            return Failure(ChainError(f"not an address: {address}", retryable=False))
        return Success(self.svm.get_balance(key) or 0)

    async def signatures_for_address(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = 1000,
    ) -> Result[list[SignatureInfo], ChainError]:
        newest_first = self._by_address.get(address, [])[::-1]
        return Success(page_of_signatures(newest_first, before, until, limit))

    async def transaction(self, signature: str) -> Result[TransactionDetails | None, ChainError]:
        seen = self._seen.get(signature)
        return Success(None if seen is None else seen.details)

    async def latest_blockhash(self) -> Result[Blockhash, ChainError]:
        blockhash = str(self.svm.latest_blockhash())
        valid_until = self._valid_until.setdefault(blockhash, self.height + BLOCKHASH_VALIDITY)
        return Success(Blockhash(blockhash, valid_until))

    async def block_height(self) -> Result[int, ChainError]:
        return Success(self.height)

    def build_transfer(
        self,
        source: str,
        destination: str,
        lamports: int,
        blockhash: Blockhash,
        fee_payer: str | None = None,
    ) -> UnsignedTransfer:
        return build_transfer(source, destination, lamports, blockhash, fee_payer)

    def assemble(self, transfer: UnsignedTransfer, *signatures: bytes) -> tuple[str, bytes]:
        return assemble(transfer, *signatures)

    async def send_raw_transaction(self, raw: bytes) -> Result[str, ChainError]:
        try:
            tx = Transaction.from_bytes(raw)
        except ValueError as error:
            return Failure(ChainError(f"not a transaction: {error}", retryable=False))
        signature = str(tx.signatures[0])
        if signature in self._seen:  # a resend of a landed transaction changes nothing
            return Success(signature)
        blockhash = str(tx.message.recent_blockhash)
        valid_until = self._valid_until.get(blockhash)
        if valid_until is None or self.height > valid_until:
            return Failure(ChainError("blockhash not found or expired", retryable=False))
        try:
            tx.verify()
        except Exception:  # solders raises its own error type for a bad signature
            return Failure(ChainError("signature verification failed", retryable=False))
        result = self.svm.send_transaction(tx)
        failed = isinstance(result, FailedTransactionMetadata)
        if isinstance(result, FailedTransactionMetadata) and self._nothing_changed(result):
            return Failure(ChainError(f"transaction rejected: {result.err()}", retryable=False))
        accounts = tuple(dict.fromkeys(str(k) for k in tx.message.account_keys))
        details = TransactionDetails(
            signature, self.height, not failed, system_transfers(tx.message)
        )
        self._seen[signature] = _Seen(details, accounts)
        self.raw_transactions[signature] = raw
        for address in accounts:
            self._by_address.setdefault(address, []).append(
                SignatureInfo(signature, self.height, failed)
            )
        return Success(signature)

    @staticmethod
    def _nothing_changed(result: FailedTransactionMetadata) -> bool:
        """A transaction refused before execution (no fee taken) never lands on chain."""
        text = str(result.err())
        return any(
            reason in text
            for reason in ("BlockhashNotFound", "AlreadyProcessed", "AccountNotFound")
        )

    async def signature_statuses(
        self, signatures: Sequence[str]
    ) -> Result[list[SignatureStatus], ChainError]:
        statuses = []
        for signature in signatures:
            seen = self._seen.get(signature)
            if seen is None:
                statuses.append(SignatureStatus(signature, found=False))
            else:
                statuses.append(
                    SignatureStatus(
                        signature, found=True, confirmed=True, failed=not seen.details.succeeded
                    )
                )
        return Success(statuses)
