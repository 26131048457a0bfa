"""An in-memory Solana stand-in: lamport balances, signed transfers, blockhash expiry, a
per-address signature log (newest first) and fault injection for withdrawal tests."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from returns.result import Failure, Result, Success

from rooms_core.base58 import b58encode, is_solana_address
from rooms_core.ports.chain import (
    Blockhash,
    ChainError,
    IncomingTransfer,
    SignatureInfo,
    SignatureStatus,
    TransactionDetails,
    UnsignedTransfer,
    page_of_signatures,
)

BLOCKHASH_LIFETIME = 150  # blocks, as on Solana
FAUCET = b58encode(hashlib.sha256(b"in-memory faucet").digest())

Verifier = Callable[[str, bytes, bytes], bool]


@dataclass(slots=True)
class _Tx:
    details: TransactionDetails
    addresses: tuple[str, ...]


class InMemoryChain:
    def __init__(self, verify: Verifier) -> None:
        self._verify = verify
        self.balances: dict[str, int] = defaultdict(int)
        self.height = 1
        self._hash_counter = 0
        self._blockhashes: dict[str, int] = {}  # blockhash -> last valid block height
        self._txs: dict[str, _Tx] = {}
        # address -> the signatures touching it, oldest first
        self._log: dict[str, list[SignatureInfo]] = defaultdict(list)
        self._drop_responses = 0
        self._reject_sends = 0
        self.sends = 0

    # --- test controls ---------------------------------------------------------------

    def advance_blocks(self, n: int) -> None:
        self.height += n

    def expire_blockhash(self, blockhash: str) -> None:
        self._blockhashes[blockhash] = self.height - 1

    def drop_next_responses(self, n: int) -> None:
        """The next ``n`` sends land but report a timeout, like a lost RPC response."""
        self._drop_responses += n

    def reject_next_sends(self, n: int) -> None:
        """The next ``n`` sends fail with a retryable error and do not land."""
        self._reject_sends += n

    def airdrop(self, address: str, lamports: int) -> str:
        """A payment from outside (a user's deposit)."""
        return self.multi_transfer_airdrop([(address, lamports)])

    def multi_transfer_airdrop(self, payments: Sequence[tuple[str, int]]) -> str:
        """One transaction paying several addresses, one instruction each."""
        self._hash_counter += 1
        signature = b58encode(hashlib.sha512(f"airdrop{self._hash_counter}".encode()).digest())
        transfers = tuple(
            IncomingTransfer(i, FAUCET, address, lamports)
            for i, (address, lamports) in enumerate(payments)
        )
        for t in transfers:
            self.balances[t.destination] += t.lamports
        self._record(signature, True, transfers)
        return signature

    # --- the port --------------------------------------------------------------------

    def is_valid_address(self, address: str) -> bool:
        return is_solana_address(address)

    async def balance(self, address: str) -> Result[int, ChainError]:
        return Success(self.balances.get(address, 0))

    async def signatures_for_address(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = 1000,
    ) -> Result[list[SignatureInfo], ChainError]:
        newest_first = self._log.get(address, [])[::-1]
        return Success(page_of_signatures(newest_first, before, until, limit))

    async def transaction(self, signature: str) -> Result[TransactionDetails | None, ChainError]:
        tx = self._txs.get(signature)
        return Success(None if tx is None else tx.details)

    async def latest_blockhash(self) -> Result[Blockhash, ChainError]:
        self._hash_counter += 1
        blockhash = b58encode(hashlib.sha256(f"blockhash{self._hash_counter}".encode()).digest())
        last_valid = self.height + BLOCKHASH_LIFETIME
        self._blockhashes[blockhash] = last_valid
        return Success(Blockhash(blockhash, last_valid))

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
        message = json.dumps(
            {
                "source": source,
                "destination": destination,
                "lamports": lamports,
                "blockhash": blockhash.blockhash,
                "fee_payer": fee_payer,
            },
            sort_keys=True,
        ).encode()
        return UnsignedTransfer(
            source, destination, lamports, blockhash, message, fee_payer=fee_payer
        )

    def assemble(self, transfer: UnsignedTransfer, *signatures: bytes) -> tuple[str, bytes]:
        if len(signatures) != len(transfer.signers):
            raise ValueError(f"{len(transfer.signers)} signature(s) needed")
        raw = json.dumps(
            {"message": transfer.message.decode(), "signatures": [s.hex() for s in signatures]}
        )
        return b58encode(signatures[0]), raw.encode()

    async def send_raw_transaction(self, raw: bytes) -> Result[str, ChainError]:
        self.sends += 1
        try:
            wire = json.loads(raw)
            message = wire["message"].encode()
            signatures = [bytes.fromhex(s) for s in wire["signatures"]]
            body = json.loads(message)
            source, destination = str(body["source"]), str(body["destination"])
            lamports, blockhash = int(body["lamports"]), str(body["blockhash"])
            fee_payer = body.get("fee_payer")
        except (ValueError, KeyError, TypeError):
            return Failure(ChainError("malformed transaction", retryable=False))
        signers = [source] if fee_payer in (None, source) else [str(fee_payer), source]
        if len(signatures) != len(signers):
            return Failure(ChainError("wrong number of signatures", retryable=False))
        signature_bytes = signatures[0]
        signature = b58encode(signature_bytes)
        if signature in self._txs:
            return Success(signature)  # a node deduplicates by signature
        if self._reject_sends:
            self._reject_sends -= 1
            return Failure(ChainError("node unavailable"))
        if not all(self._verify(a, message, s) for a, s in zip(signers, signatures, strict=True)):
            return Failure(ChainError("signature verification failed", retryable=False))
        last_valid = self._blockhashes.get(blockhash)
        if last_valid is None or self.height > last_valid:
            return Failure(ChainError("blockhash not found or expired", retryable=False))
        transfer = IncomingTransfer(0, source, destination, lamports)
        ok = lamports > 0 and self.balances.get(source, 0) >= lamports
        if ok:
            self.balances[source] -= lamports
            self.balances[destination] += lamports
        self._record(signature, ok, (transfer,))
        if self._drop_responses:
            self._drop_responses -= 1
            return Failure(ChainError("timeout waiting for the node"))
        return Success(signature)

    async def signature_statuses(
        self, signatures: Sequence[str]
    ) -> Result[list[SignatureStatus], ChainError]:
        statuses = []
        for signature in signatures:
            tx = self._txs.get(signature)
            if tx is None:
                statuses.append(SignatureStatus(signature, found=False))
            else:
                ok = tx.details.succeeded
                statuses.append(SignatureStatus(signature, True, confirmed=ok, failed=not ok))
        return Success(statuses)

    def _record(
        self, signature: str, succeeded: bool, transfers: tuple[IncomingTransfer, ...]
    ) -> None:
        self.height += 1
        details = TransactionDetails(signature, self.height, succeeded, transfers)
        addresses = tuple(dict.fromkeys(a for t in transfers for a in (t.source, t.destination)))
        self._txs[signature] = _Tx(details, addresses)
        info = SignatureInfo(signature, self.height, not succeeded)
        for address in addresses:
            self._log[address].append(info)
