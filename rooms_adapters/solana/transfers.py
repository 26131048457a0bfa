"""System transfers as bytes: building the message a signer signs, assembling the signed
transaction, and reading the transfers out of a landed one. Shared by every chain adapter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from solders.hash import Hash
from solders.instruction import CompiledInstruction
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import ID as SYSTEM_PROGRAM
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from rooms_core.ports.chain import Blockhash, IncomingTransfer, UnsignedTransfer

_TRANSFER = 2  # the System program's Transfer instruction: u32 tag, then u64 lamports


def build_transfer(
    source: str,
    destination: str,
    lamports: int,
    blockhash: Blockhash,
    fee_payer: str | None = None,
) -> UnsignedTransfer:
    """The message of one System transfer; ``fee_payer`` (default: the source) pays."""
    instruction = transfer(
        TransferParams(
            from_pubkey=Pubkey.from_string(source),
            to_pubkey=Pubkey.from_string(destination),
            lamports=lamports,
        )
    )
    payer = Pubkey.from_string(fee_payer or source)
    message = Message.new_with_blockhash(
        [instruction], payer, Hash.from_string(blockhash.blockhash)
    )
    return UnsignedTransfer(
        source, destination, lamports, blockhash, bytes(message), fee_payer=fee_payer
    )


def assemble(unsigned: UnsignedTransfer, *signatures: bytes) -> tuple[str, bytes]:
    """The transaction's signature (base58) and its wire bytes."""
    if len(signatures) != len(unsigned.signers):
        raise ValueError(f"{len(unsigned.signers)} signature(s) needed, {len(signatures)} given")
    tx = Transaction.populate(
        Message.from_bytes(unsigned.message), [Signature.from_bytes(s) for s in signatures]
    )
    return str(tx.signatures[0]), bytes(tx)


class CompiledMessage(Protocol):
    """What every message version has: its account keys and compiled instructions."""

    @property
    def account_keys(self) -> Sequence[Pubkey]: ...

    @property
    def instructions(self) -> Sequence[CompiledInstruction]: ...


def system_transfers(message: CompiledMessage) -> tuple[IncomingTransfer, ...]:
    """Every System transfer instruction of a message, with its index."""
    keys = message.account_keys
    found = []
    for index, ix in enumerate(message.instructions):
        if ix.program_id_index >= len(keys) or keys[ix.program_id_index] != SYSTEM_PROGRAM:
            continue
        data = bytes(ix.data)
        accounts = bytes(ix.accounts)
        if len(accounts) < 2 or len(data) != 12:
            continue
        if int.from_bytes(data[:4], "little") != _TRANSFER:
            continue
        if max(accounts[0], accounts[1]) >= len(keys):
            continue
        found.append(
            IncomingTransfer(
                instruction_index=index,
                source=str(keys[accounts[0]]),
                destination=str(keys[accounts[1]]),
                lamports=int.from_bytes(data[4:], "little"),
            )
        )
    return tuple(found)
