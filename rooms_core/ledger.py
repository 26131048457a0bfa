"""Double-entry ledger rules (TigerBeetle's model: accounts and balanced entries).

Every balance change is a :class:`JournalEntry` whose postings sum to zero. Its ``key`` is
the idempotency key: posting the same key twice is a no-op. An account's balance is the
sum of its postings. Sign convention: a positive balance is money the platform holds for
that account; the ``external:*`` accounts mirror the outside world and go negative as
money comes in, so the whole ledger always sums to exactly zero.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from rooms_core.frozen import quick_init

PROTOCOL_FEE_SHARDS = 8
"""The protocol fee and dust accounts are split into shards, summed on read, so that
settlements of different rooms do not queue behind one hot row (RULES 8)."""


class UnbalancedEntry(ValueError):
    """A journal entry whose postings do not sum to zero: a bug in the caller."""


class EntryKind(StrEnum):
    DEPOSIT = "DEPOSIT"
    BET = "BET"
    SETTLEMENT = "SETTLEMENT"
    REFUND = "REFUND"
    WITHDRAWAL_RESERVE = "WITHDRAWAL_RESERVE"
    WITHDRAWAL_COMPLETE = "WITHDRAWAL_COMPLETE"
    WITHDRAWAL_RELEASE = "WITHDRAWAL_RELEASE"


# Account names are cached: every posting to an account then shares one string instead of
# holding its own copy (a journal entry per bet, a posting per bettor at settlement: a
# quarter of a million of each in a simulated day). Bounded, so a long-running bot holds
# the names of its most recent accounts only.
ACCOUNT_NAME_CACHE_SIZE = 65_536


@lru_cache(maxsize=ACCOUNT_NAME_CACHE_SIZE)
def user_account(user_id: int) -> str:
    return f"user:{user_id}"


@lru_cache(maxsize=ACCOUNT_NAME_CACHE_SIZE)
def escrow_account(room_id: int) -> str:
    return f"escrow:{room_id}"


def _shard(room_id: int) -> int:
    return zlib.crc32(str(room_id).encode()) % PROTOCOL_FEE_SHARDS


def protocol_fee_account(room_id: int) -> str:
    return f"protocol:fees:{_shard(room_id)}"


def protocol_dust_account(room_id: int) -> str:
    return f"protocol:dust:{_shard(room_id)}"


PROTOCOL_DUST_ACCOUNTS = tuple(f"protocol:dust:{i}" for i in range(PROTOCOL_FEE_SHARDS))
EXTERNAL_DEPOSITS = "external:deposits"
EXTERNAL_WITHDRAWALS = "external:withdrawals"
PENDING_WITHDRAWALS = "pending:withdrawals"


def may_go_negative(account: str) -> bool:
    """Only the mirrors of the outside world may hold a negative balance."""
    return account.startswith("external:")


@quick_init
@dataclass(frozen=True, slots=True)
class Posting:
    account: str
    amount: int  # signed lamports; the postings of an entry sum to zero


@quick_init
@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced, atomic batch of postings, identified by its idempotency key.

    Constructing an unbalanced entry raises ``UnbalancedEntry``: that is a bug, never an
    expected failure. (Dataclasses, not pydantic models: ledger rows are made by the
    hundred thousand on hot paths.)"""

    key: str
    kind: EntryKind
    at: datetime
    postings: tuple[Posting, ...]
    memo: str = ""

    def __post_init__(self) -> None:
        postings = self.postings
        if not postings:
            raise UnbalancedEntry(f"entry {self.key} has no postings")
        if len(postings) == 2:  # a transfer, the common case
            total = postings[0].amount + postings[1].amount
        else:
            total = sum([p.amount for p in postings])
        if total != 0:
            raise UnbalancedEntry(f"entry {self.key} does not sum to zero")

    @classmethod
    def transfer(
        cls, key: str, kind: EntryKind, at: datetime, debit: str, credit: str, amount: int
    ) -> JournalEntry:
        """Move ``amount`` from ``debit`` to ``credit``."""
        return cls(key, kind, at, (Posting(debit, -amount), Posting(credit, amount)))

    def net_by_account(self) -> dict[str, int]:
        """Postings folded per account (an entry may touch one account twice)."""
        net: dict[str, int] = {}
        for p in self.postings:
            net[p.account] = net.get(p.account, 0) + p.amount
        return net
