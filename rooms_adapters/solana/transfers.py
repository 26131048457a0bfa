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
    source: str, destination: str, lamports: int, blockhash: Blockhash
) -> UnsignedTransfer:
    """The message of one System transfer, paid by ``source``."""
    payer = Pubkey.from_string(source)
    instruction = transfer(
        TransferParams(
            from_pubkey=payer, to_pubkey=Pubkey.from_string(destination), lamports=lamports
        )
    )
    message = Message.new_with_blockhash(
        [instruction], payer, Hash.from_string(blockhash.blockhash)
    )
    return UnsignedTransfer(source, destination, lamports, blockhash, bytes(message))


def assemble(unsigned: UnsignedTransfer, signature: bytes) -> tuple[str, bytes]:
    """The transaction's signature (base58) and its wire bytes."""
    tx = Transaction.populate(
        Message.from_bytes(unsigned.message), [Signature.from_bytes(signature)]
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
