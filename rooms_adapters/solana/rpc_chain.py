"""The chain port over Solana JSON-RPC (solana-py), for Helius or any RPC node.

Reads are at ``confirmed`` commitment (a blockhash fetched at ``finalized`` expires early:
RULES 4). Every call goes to the first endpoint; a transport failure or a server error moves
it to the next one (failover), with a short pause between rounds; after ``rounds`` rounds it
is a retryable ``ChainError``. A rejected transaction is a non-retryable one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from returns.result import Failure, Result, Success
from solana.rpc.async_api import AsyncClient
from solana.rpc.commitment import Confirmed
from solana.rpc.core import RPCException
from solana.rpc.models import TxOpts
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction
from solders.transaction_status import TransactionConfirmationStatus

from rooms_adapters.solana.transfers import assemble, build_transfer, system_transfers
from rooms_core.ports.chain import (
    Blockhash,
    ChainError,
    SignatureInfo,
    SignatureStatus,
    TransactionDetails,
    UnsignedTransfer,
)

T = TypeVar("T")
_LANDED = (TransactionConfirmationStatus.Confirmed, TransactionConfirmationStatus.Finalized)


def _pubkey(address: str) -> Pubkey | None:
    try:
        return Pubkey.from_string(address)
    except ValueError:
        return None


class SolanaRpcChain:
    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        timeout: float = 10.0,
        rounds: int = 3,
        pause: float = 0.5,
        headers: dict[str, str] | None = None,
    ) -> None:
        if not endpoints:
            raise ValueError("at least one RPC endpoint is needed")
        self.clients = [
            AsyncClient(url, commitment=Confirmed, timeout=timeout, extra_headers=headers)
            for url in endpoints
        ]
        self.rounds = rounds
        self.pause = pause

    def __repr__(self) -> str:  # endpoint URLs may carry API keys (Helius puts it in the query)
        return f"SolanaRpcChain({len(self.clients)} endpoint(s))"

    async def close(self) -> None:
        for client in self.clients:
            await client.close()

    async def _call(
        self, what: str, call: Callable[[AsyncClient], Awaitable[T]]
    ) -> Result[T, ChainError]:
        last = ""
        for round_ in range(self.rounds):
            for client in self.clients:
                try:
                    return Success(await call(client))
                except RPCException as error:
                    return Failure(ChainError(f"{what}: {_rpc_message(error)}", retryable=False))
                except Exception as error:  # transport: timeouts, refused, 5xx, bad bodies
                    last = type(error).__name__
            if round_ + 1 < self.rounds:
                await asyncio.sleep(self.pause * (round_ + 1))
        return Failure(ChainError(f"{what}: no endpoint answered ({last})"))

    def is_valid_address(self, address: str) -> bool:
        key = _pubkey(address)
        return key is not None and key.is_on_curve()

    async def balance(self, address: str) -> Result[int, ChainError]:
        key = _pubkey(address)
        if key is None:
            return Failure(ChainError(f"not an address: {address}", retryable=False))

        async def call(c: AsyncClient) -> int:
            return (await c.get_balance(key, Confirmed)).value

        return await self._call("getBalance", call)

    async def signatures_for_address(
        self,
        address: str,
        *,
        before: str | None = None,
        until: str | None = None,
        limit: int = 1000,
    ) -> Result[list[SignatureInfo], ChainError]:
        key = _pubkey(address)
        if key is None:
            return Failure(ChainError(f"not an address: {address}", retryable=False))

        async def call(c: AsyncClient) -> list[SignatureInfo]:
            listed = await c.get_signatures_for_address(
                key,
                before=None if before is None else Signature.from_string(before),
                until=None if until is None else Signature.from_string(until),
                limit=limit,
                commitment=Confirmed,
            )
            return [
                SignatureInfo(str(s.signature), s.slot, s.err is not None) for s in listed.value
            ]

        return await self._call("getSignaturesForAddress", call)

    async def transaction(self, signature: str) -> Result[TransactionDetails | None, ChainError]:
        async def call(c: AsyncClient) -> TransactionDetails | None:
            found = await c.get_transaction(
                Signature.from_string(signature),
                encoding="base64",
                commitment=Confirmed,
                max_supported_transaction_version=0,
            )
            value = found.value
            if value is None:
                return None
            tx = value.transaction.transaction
            meta = value.transaction.meta
            if not isinstance(tx, VersionedTransaction):
                raise ValueError("the node did not return the transaction's bytes")
            succeeded = meta is not None and meta.err is None
            return TransactionDetails(
                signature, value.slot, succeeded, system_transfers(tx.message)
            )

        return await self._call("getTransaction", call)

    async def latest_blockhash(self) -> Result[Blockhash, ChainError]:
        async def call(c: AsyncClient) -> Blockhash:
            value = (await c.get_latest_blockhash(Confirmed)).value
            return Blockhash(str(value.blockhash), value.last_valid_block_height)

        return await self._call("getLatestBlockhash", call)

    async def block_height(self) -> Result[int, ChainError]:
        async def call(c: AsyncClient) -> int:
            return (await c.get_block_height(Confirmed)).value

        return await self._call("getBlockHeight", call)

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
        opts = TxOpts(skip_confirmation=True, skip_preflight=False, preflight_commitment=Confirmed)

        async def call(c: AsyncClient) -> str:
            return str((await c.send_raw_transaction(raw, opts)).value)

        sent = await self._call("sendTransaction", call)
        if isinstance(sent, Failure) and "already been processed" in sent.failure().reason:
            return Success(str(VersionedTransaction.from_bytes(raw).signatures[0]))
        return sent

    async def signature_statuses(
        self, signatures: Sequence[str]
    ) -> Result[list[SignatureStatus], ChainError]:
        async def call(c: AsyncClient) -> list[SignatureStatus]:
            found = await c.get_signature_statuses(
                [Signature.from_string(s) for s in signatures], search_transaction_history=True
            )
            out = []
            for signature, status in zip(signatures, found.value, strict=True):
                if status is None:
                    out.append(SignatureStatus(signature, found=False))
                else:
                    out.append(
                        SignatureStatus(
                            signature,
                            found=True,
                            confirmed=status.confirmation_status in _LANDED,
                            failed=status.err is not None,
                        )
                    )
            return out

        return await self._call("getSignatureStatuses", call)


def _rpc_message(error: RPCException) -> str:
    detail = error.args[0] if error.args else error
    message = getattr(detail, "message", None)
    return str(message if message is not None else detail)[:300]
