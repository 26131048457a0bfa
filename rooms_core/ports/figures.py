"""Operational figures of the whole platform, read on demand (for metrics): counts of what
every process did, kept by the storage, so they agree whichever process reads them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from rooms_core.models import WithdrawalState


@dataclass(frozen=True, slots=True)
class OperationsFigures:
    notifications_sent: int  # outbox messages ever sent
    notifications_given_up: int  # outbox messages that will not be sent
    deposits: int  # deposits ever credited
    deposited: int  # lamports credited by them
    withdrawals: dict[WithdrawalState, int] = field(default_factory=dict)  # count by state
    withdrawn: dict[WithdrawalState, int] = field(default_factory=dict)  # lamports by state


class PlatformFigures(Protocol):
    async def read(self) -> OperationsFigures:
        """The figures as they are now (committed data only; no lock taken)."""
