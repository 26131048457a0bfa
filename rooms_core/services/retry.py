"""Running a whole unit of work again after a transient storage failure.

Every service opens its own unit of work, so a retry repeats the service call: the
idempotency keys the services write (bet requests, journal entry keys, deposit keys,
outbox dedupe keys) make a repeat of an already committed call change nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

from rooms_core.ports.storage import TransientStorageError

T = TypeVar("T")

DEFAULT_DELAYS = (0.0, 0.05, 0.2, 0.5, 1.0, 2.0)
"""Seconds to wait before each repeat: the first is immediate (a lost race usually clears at
once), the later ones give a restarting or failing-over server time to come back."""


async def retrying(
    call: Callable[[], Awaitable[T]], *, delays: Sequence[float] = DEFAULT_DELAYS
) -> T:
    """``await call()``, repeating it after each :class:`TransientStorageError` as long as
    ``delays`` has a pause left; the last error propagates."""
    for delay in delays:
        try:
            return await call()
        except TransientStorageError:
            await anyio.sleep(delay)
    return await call()
