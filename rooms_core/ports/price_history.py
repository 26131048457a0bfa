"""The oracle's past decisions, for charts and for the health of the price sources.

The oracle records every decision it makes (accepted or not) wherever its deployment keeps
them (``OracleDecision``); this port reads them back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from rooms_core.models import Asset


@dataclass(frozen=True, slots=True)
class PricePoint:
    """An accepted consensus value of an asset at a time."""

    at: datetime
    value: Decimal


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How one price source fared in the oracle's decisions since a time: how often its quote
    was used, and how often it was rejected, by reason (e.g. ``"unavailable"``, ``"stale"``)."""

    source: str
    used: int
    rejected: Mapping[str, int]
    last_used_at: datetime | None


class PriceHistory(Protocol):
    async def points(
        self, asset: Asset, since: datetime, until: datetime, buckets: int
    ) -> list[PricePoint]:
        """Accepted values of ``asset`` between ``since`` and ``until``, oldest first, at
        most one per each of ``buckets`` equal slices of the span (the last value of each
        slice), so a chart over a day costs as much as one over a minute."""

    async def latest(self, assets: Sequence[Asset]) -> dict[str, PricePoint]:
        """The newest accepted value of each asset that has one, by ``Asset.key``."""

    async def source_health(self, since: datetime) -> list[SourceHealth]:
        """Each source's record in the decisions taken since ``since``, by name."""


_REASON_KINDS = (
    ("stale", "stale"),
    ("timestamp in the future", "future"),
    ("deviates", "deviates"),
    ("non-positive", "non_positive"),
)


def reason_kind(reason: str) -> str:
    """A rejection's kind without its particulars, for counting: the oracle's own reasons
    (``"stale (40s old)"`` is ``"stale"``, ``"deviates from the median (150)"`` is
    ``"deviates"``) and a source error's reason as it is (``"unavailable"``, ...)."""
    for prefix, kind in _REASON_KINDS:
        if reason.startswith(prefix):
            return kind
    return reason.split(" ", 1)[0].split(":", 1)[0] or "unknown"
