"""Operational figures of the in-memory store."""

from __future__ import annotations

from rooms_adapters.memory.store import InMemoryStore
from rooms_core.models import WithdrawalState
from rooms_core.ports.figures import OperationsFigures


class InMemoryPlatformFigures:
    def __init__(self, store: InMemoryStore) -> None:
        self.store = store

    async def read(self) -> OperationsFigures:
        # Units of work write in place: under the store's lock these are committed rows only.
        async with self.store.lock:
            return self._figures()

    def _figures(self) -> OperationsFigures:
        s = self.store
        counts: dict[WithdrawalState, int] = {}
        amounts: dict[WithdrawalState, int] = {}
        for withdrawal in s.withdrawals.values():
            counts[withdrawal.state] = counts.get(withdrawal.state, 0) + 1
            amounts[withdrawal.state] = amounts.get(withdrawal.state, 0) + withdrawal.amount
        return OperationsFigures(
            notifications_sent=sum(1 for m in s.outbox.values() if m.sent_at is not None),
            notifications_given_up=sum(1 for m in s.outbox.values() if m.gave_up_at is not None),
            deposits=len(s.deposits),
            deposited=sum(d.amount for d in s.deposits.values()),
            withdrawals=counts,
            withdrawn=amounts,
        )
