"""A virtual clock: time moves only when told to, so a simulated day runs in seconds."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from datetime import datetime, timedelta


class VirtualClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None or start.utcoffset() != timedelta(0):
            raise ValueError("VirtualClock needs a timezone-aware UTC start")
        self._now = start
        self._sleepers: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self.advance_to(self._now + timedelta(seconds=seconds))

    def advance_to(self, when: datetime) -> None:
        if when < self._now:
            raise ValueError("a clock never goes backwards")
        self._now = when
        while self._sleepers and self._sleepers[0][0] <= when:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    @property
    def pending_sleepers(self) -> int:
        return len(self._sleepers)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        deadline = self._now + timedelta(seconds=seconds)
        heapq.heappush(self._sleepers, (deadline, next(self._seq), future))
        await future
