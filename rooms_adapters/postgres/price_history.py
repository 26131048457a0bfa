"""Price history and source health read from ``oracle_decisions`` (migration 0004), which
the worker's oracle fills (:class:`rooms_adapters.postgres.oracle_log.PostgresDecisionLog`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from rooms_adapters.postgres.store import PostgresStore
from rooms_adapters.postgres.uow import translate_errors
from rooms_core.models import Asset
from rooms_core.ports.price_history import PricePoint, SourceHealth, reason_kind


class PostgresPriceHistory:
    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def points(
        self, asset: Asset, since: datetime, until: datetime, buckets: int
    ) -> list[PricePoint]:
        span = max((until - since).total_seconds(), 1e-6)

        async def read() -> list[PricePoint]:
            async with self.store.pool.acquire() as connection:
                rows = await connection.fetch(
                    """SELECT DISTINCT ON (bucket) at, value
                       FROM (SELECT at, value,
                                    least($5 - 1, floor(extract(epoch FROM at - $2) * $5 / $4))
                                        AS bucket
                             FROM oracle_decisions
                             WHERE asset = $1 AND at BETWEEN $2 AND $3
                               AND value IS NOT NULL) AS d
                       ORDER BY bucket, at DESC""",
                    asset.key,
                    since,
                    until,
                    span,
                    buckets,
                )
            return sorted((PricePoint(r["at"], r["value"]) for r in rows), key=lambda p: p.at)

        return await translate_errors(read)

    async def latest(self, assets: Sequence[Asset]) -> dict[str, PricePoint]:
        if not assets:
            return {}

        async def read() -> dict[str, PricePoint]:
            async with self.store.pool.acquire() as connection:
                rows = await connection.fetch(
                    """SELECT k.asset, d.at, d.value
                       FROM unnest($1::text[]) AS k (asset)
                       CROSS JOIN LATERAL (
                           SELECT at, value FROM oracle_decisions
                           WHERE asset = k.asset AND value IS NOT NULL
                           ORDER BY at DESC LIMIT 1) AS d""",
                    [a.key for a in assets],
                )
            return {r["asset"]: PricePoint(r["at"], r["value"]) for r in rows}

        return await translate_errors(read)

    async def source_health(self, since: datetime) -> list[SourceHealth]:
        async def read() -> list[SourceHealth]:
            async with self.store.pool.acquire() as connection:
                used_rows = await connection.fetch(
                    """SELECT u ->> 'source' AS source, count(*) AS used, max(at) AS last
                       FROM oracle_decisions, jsonb_array_elements(used) AS u
                       WHERE at >= $1 GROUP BY 1""",
                    since,
                )
                rejected_rows = await connection.fetch(
                    """SELECT r ->> 0 AS source, r ->> 1 AS reason, count(*) AS n
                       FROM oracle_decisions, jsonb_array_elements(rejected) AS r
                       WHERE at >= $1 GROUP BY 1, 2""",
                    since,
                )
            used = {r["source"]: (int(r["used"]), r["last"]) for r in used_rows}
            rejected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
            for r in rejected_rows:
                rejected[r["source"]][reason_kind(r["reason"])] += int(r["n"])
            return [
                SourceHealth(
                    name,
                    used.get(name, (0, None))[0],
                    dict(rejected.get(name, {})),
                    used.get(name, (0, None))[1],
                )
                for name in sorted(set(used) | set(rejected))
            ]

        return await translate_errors(read)
