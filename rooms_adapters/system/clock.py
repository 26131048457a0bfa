"""The wall clock: UTC time and real sleeps."""

from __future__ import annotations

from datetime import UTC, datetime

import anyio


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)
