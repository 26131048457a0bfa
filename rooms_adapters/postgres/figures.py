"""Operational figures read from the database, for every process's work at once."""

from __future__ import annotations

from rooms_adapters.postgres.store import PostgresStore
from rooms_adapters.postgres.uow import translate_errors
from rooms_core.models import WithdrawalState
from rooms_core.ports.figures import OperationsFigures


class PostgresPlatformFigures:
    def __init__(self, store: PostgresStore) -> None:
        self.store = store

    async def read(self) -> OperationsFigures:
        async def read() -> OperationsFigures:
            async with self.store.pool.acquire() as connection:
                outbox = await connection.fetchrow(
                    """SELECT count(*) FILTER (WHERE sent_at IS NOT NULL) AS sent,
                              count(*) FILTER (WHERE gave_up_at IS NOT NULL) AS gave_up
                       FROM outbox"""
                )
                deposits = await connection.fetchrow(
                    "SELECT count(*) AS n, coalesce(sum(amount), 0) AS total FROM deposits"
                )
                withdrawals = await connection.fetch(
                    "SELECT state, count(*) AS n, sum(amount) AS total FROM withdrawals "
                    "GROUP BY state"
                )
            return OperationsFigures(
                notifications_sent=int(outbox["sent"]),
                notifications_given_up=int(outbox["gave_up"]),
                deposits=int(deposits["n"]),
                deposited=int(deposits["total"]),
                withdrawals={WithdrawalState(r["state"]): int(r["n"]) for r in withdrawals},
                withdrawn={WithdrawalState(r["state"]): int(r["total"]) for r in withdrawals},
            )

        return await translate_errors(read)
