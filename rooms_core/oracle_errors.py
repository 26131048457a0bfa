"""Typed failures of price sources and of the consensus."""

from __future__ import annotations

from dataclasses import dataclass

from rooms_core.errors import DomainError


@dataclass(frozen=True, slots=True)
class SourceError(DomainError):
    """A source could not give a usable quote."""

    source: str
    reason: str  # "unavailable", "rate_limited", "malformed", "unsupported", "stale", ...
    detail: str = ""
    retry_after: float | None = None

    @property
    def message(self) -> str:
        return f"{self.source}: {self.reason} {self.detail}".strip()


@dataclass(frozen=True, slots=True)
class NoConsensus(DomainError):
    """Not enough fresh, agreeing sources."""

    asset: str
    needed: int
    agreeing: int
    reasons: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        return f"No consensus price for {self.asset}: {self.agreeing}/{self.needed} sources."
