"""The state of the in-memory storage: what a database would hold on disk.

Only :class:`rooms_adapters.memory.uow.InMemoryUnitOfWork` writes here, while holding
``lock``; units of work therefore serialise like SERIALIZABLE transactions. A unit of work
writes in place and records in ``tx.undo`` how to take each write back, so that leaving it
without commit (or on an exception) restores exactly what was there before.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from returns.result import Success

from rooms_core.audit import verify_chain
from rooms_core.events import DomainEvent
from rooms_core.ledger import JournalEntry, escrow_account, may_go_negative
from rooms_core.models import (
    AuditRecord,
    Bet,
    BetStatus,
    Deposit,
    OutboxMessage,
    PlatformControls,
    User,
    Withdrawal,
)
from rooms_core.ports.clock import Clock
from rooms_core.room import Room


@dataclass(slots=True)
class RewardRow:
    referrer_id: int
    level: int
    amount: int
    room_id: int
    bet_id: int


@dataclass(slots=True)
class Transaction:
    """What the unit of work holding the store's lock has done and not committed: the undo
    log of its writes (see :mod:`rooms_adapters.memory.uow`), and the audit entries and
    events it publishes only at commit. One per store: units of work take turns."""

    undo: list[tuple[Any, Any, Any]] = field(default_factory=list)
    audit: list[tuple[str, str, dict[str, str | int | None]]] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    owner: object | None = None  # the unit of work holding the lock
    repositories: dict[str, Any] = field(default_factory=dict)  # made once per store


@dataclass(repr=False)
class InMemoryStore:
    clock: Clock
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sequences: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    users: dict[int, User] = field(default_factory=dict)
    user_by_telegram: dict[int, int] = field(default_factory=dict)
    user_by_code: dict[str, int] = field(default_factory=dict)
    user_by_address: dict[str, int] = field(default_factory=dict)
    referred: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    rooms: dict[int, Room] = field(default_factory=dict)

    bets: dict[int, Bet] = field(default_factory=dict)
    bet_by_user_room: dict[tuple[int, int], int] = field(default_factory=dict)
    bets_by_room: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    bets_by_user: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    entries: dict[str, JournalEntry] = field(default_factory=dict)
    entries_by_account: dict[str, list[JournalEntry]] = field(
        default_factory=lambda: defaultdict(list)
    )

    rewards: list[RewardRow] = field(default_factory=list)
    earnings: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))

    outbox: dict[int, OutboxMessage] = field(default_factory=dict)
    outbox_pending: dict[int, None] = field(default_factory=dict)  # insertion-ordered set
    outbox_dedupe: set[str] = field(default_factory=set)

    audit: list[AuditRecord] = field(default_factory=list)
    idempotency: dict[str, str] = field(default_factory=dict)
    deposits: dict[tuple[str, str, int], Deposit] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)
    withdrawals: dict[int, Withdrawal] = field(default_factory=dict)
    controls: PlatformControls = field(default_factory=PlatformControls)
    bet_volume: int = 0
    events: list[DomainEvent] = field(default_factory=list)
    subscribers: list[Callable[[DomainEvent], None]] = field(default_factory=list)
    tx: Transaction = field(default_factory=Transaction, compare=False)

    def __repr__(self) -> str:
        # Never dump the books: asyncio reprs task results (signal handler lookup).
        return (
            f"InMemoryStore(users={len(self.users)}, rooms={len(self.rooms)}, "
            f"bets={len(self.bets)}, entries={len(self.entries)})"
        )

    def next_id(self, sequence: str) -> int:
        """Like a database sequence: never reused, even by a rolled-back transaction."""
        sequences = self.sequences
        value = sequences[sequence] = sequences.get(sequence, 0) + 1
        return value

    def books_checks(self) -> dict[str, bool]:
        """The books-balance checks, each true in a healthy store: the ledger sums to zero,
        cached balances equal their postings, no account that must not go negative is,
        every closed room paid out once and holds nothing, every bet in a closed room has
        its result, and the audit chain verifies."""
        balances = self.balances
        closings: dict[int, int] = defaultdict(int)
        for key in self.entries:
            if key.startswith("settle:"):
                closings[int(key.split(":", 1)[1])] += 1
        finished = [r for r in self.rooms.values() if r.state.is_terminal]
        closed = {r.id for r in finished}
        paid_once = all(
            closings.get(r.id, 0) == (1 if self.bets_by_room.get(r.id) else 0) for r in finished
        ) and all(count == 1 for count in closings.values())
        recomputed = {a: v for a, v in self.recomputed_balances().items() if v}
        cached = {a: v for a, v in balances.items() if v}
        return {
            "ledger_sums_to_zero": sum(balances.values()) == 0,
            "balances_match_postings": recomputed == cached,
            "no_negative_balance": all(v >= 0 or may_go_negative(a) for a, v in balances.items()),
            "no_room_paid_twice": paid_once,
            "escrows_empty": all(balances.get(escrow_account(r.id), 0) == 0 for r in finished),
            "every_bet_resolved": all(
                b.status is not BetStatus.ACTIVE for b in self.bets.values() if b.room_id in closed
            ),
            "audit_chain_valid": isinstance(verify_chain(self.audit), Success),
        }

    def recomputed_balances(self) -> dict[str, int]:
        """Balances summed from every posting, to check the cached ``balances`` against."""
        sums: dict[str, int] = defaultdict(int)
        for entry in self.entries.values():
            for posting in entry.postings:
                sums[posting.account] += posting.amount
        return dict(sums)
