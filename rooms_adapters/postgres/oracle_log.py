"""The oracle's decisions, kept in PostgreSQL (table ``oracle_decisions``, migration 0004).

The oracle hands each decision to :meth:`PostgresDecisionLog.record` (no I/O: it is called
inside a poll); :meth:`run` writes what has gathered once a second, all of it in one
statement, and once more when stopped.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import anyio

from rooms_adapters.postgres.store import PostgresStore
from rooms_adapters.postgres.uow import translate_errors
from rooms_core.oracle import OracleDecision

log = logging.getLogger("rooms.oracle")


class PostgresDecisionLog:
    def __init__(self, store: PostgresStore, max_buffered: int = 100_000) -> None:
        self.store = store
        self.max_buffered = max_buffered
        self.dropped = 0
        self._buffer: list[OracleDecision] = []

    def record(self, decision: OracleDecision) -> None:
        if len(self._buffer) >= self.max_buffered:  # the database is away: keep the newest
            self._buffer.pop(0)
            self.dropped += 1
        self._buffer.append(decision)

    async def flush(self) -> int:
        """Write what has gathered; how many decisions were written."""
        batch, self._buffer = self._buffer, []
        if not batch:
            return 0
        rows = [
            {
                "at": d.at.isoformat(),
                "asset": d.asset.key,
                "value": None if d.accepted is None else str(d.accepted.value),
                "sources": [] if d.accepted is None else list(d.accepted.sources),
                "used": [
                    {
                        "source": q.source,
                        "value": str(q.value),
                        "observed_at": q.observed_at.isoformat(),
                    }
                    for q in d.used
                ],
                "rejected": [list(r) for r in d.rejected],
            }
            for d in batch
        ]

        async def write() -> None:
            async with self.store.pool.acquire() as connection:
                await connection.execute(
                    """INSERT INTO oracle_decisions (at, asset, value, sources, used, rejected)
                       SELECT at, asset, value, sources, used, rejected
                       FROM jsonb_to_recordset($1::jsonb) AS s (
                           at timestamptz, asset text, value numeric, sources text[],
                           used jsonb, rejected jsonb)""",
                    rows,
                )

        try:
            await translate_errors(write)
        except Exception:
            self._buffer = batch + self._buffer  # kept for the next try
            raise
        return len(batch)

    async def run(self, stop: anyio.Event, every: float = 1.0) -> None:
        """Flush every ``every`` seconds until ``stop``, then once more."""
        while not stop.is_set():
            with anyio.move_on_after(every):
                await stop.wait()
            try:
                await self.flush()
            except Exception as error:  # kept in the buffer; the next flush tries again
                log.error("cannot write oracle decisions: %s", error)
        await self.flush()

    async def between(self, asset_key: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The decisions on one asset in a time range, oldest first (to explain a settlement)."""
        async with self.store.pool.acquire() as connection:
            rows = await connection.fetch(
                """SELECT at, value, sources, used, rejected FROM oracle_decisions
                   WHERE asset = $1 AND at BETWEEN $2 AND $3 ORDER BY at, id""",
                asset_key,
                start,
                end,
            )
        return [dict(r) for r in rows]
