"""The oracle's decisions kept in memory: hand :meth:`InMemoryPriceHistory.record` to the
oracle (``ConsensusOracle(record=...)``) and read them back through the
:class:`~rooms_core.ports.price_history.PriceHistory` port."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from datetime import datetime

from rooms_core.models import Asset
from rooms_core.oracle import OracleDecision
from rooms_core.ports.price_history import PricePoint, SourceHealth, reason_kind


class InMemoryPriceHistory:
    def __init__(self, max_decisions: int = 100_000) -> None:
        # Old decisions fall off: memory stays bounded in a long-running process.
        self.decisions: deque[OracleDecision] = deque(maxlen=max_decisions)
        self._points: dict[str, deque[PricePoint]] = defaultdict(
            lambda: deque(maxlen=max_decisions)
        )

    def record(self, decision: OracleDecision) -> None:
        self.decisions.append(decision)
        if decision.accepted is not None:
            self._points[decision.asset.key].append(
                PricePoint(decision.at, decision.accepted.value)
            )

    async def points(
        self, asset: Asset, since: datetime, until: datetime, buckets: int
    ) -> list[PricePoint]:
        span = (until - since).total_seconds()
        last_in_bucket: dict[int, PricePoint] = {}
        for point in self._points.get(asset.key, ()):
            if since <= point.at <= until:
                offset = (point.at - since).total_seconds()
                bucket = min(buckets - 1, int(offset * buckets / span)) if span > 0 else 0
                last_in_bucket[bucket] = point
        return [last_in_bucket[b] for b in sorted(last_in_bucket)]

    async def latest(self, assets: Sequence[Asset]) -> dict[str, PricePoint]:
        found: dict[str, PricePoint] = {}
        for asset in assets:
            points = self._points.get(asset.key)
            if points:
                found[asset.key] = points[-1]
        return found

    async def source_health(self, since: datetime) -> list[SourceHealth]:
        used: dict[str, int] = defaultdict(int)
        last_used: dict[str, datetime] = {}
        rejected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for decision in self.decisions:
            if decision.at < since:
                continue
            for quote in decision.used:
                used[quote.source] += 1
                last_used[quote.source] = max(decision.at, last_used.get(quote.source, since))
            for source, reason in decision.rejected:
                rejected[source][reason_kind(reason)] += 1
        names = sorted(set(used) | set(rejected))
        return [
            SourceHealth(name, used.get(name, 0), dict(rejected.get(name, {})), last_used.get(name))
            for name in names
        ]
