"""How every long-running ROOMS process runs its event loop: anyio on asyncio, on uvloop
where it is installed (Linux and macOS; the postgres, bot and api extras bring it).

uvloop is the loop asyncpg is built for: its transports and callbacks are C, and a bet's round
trips to PostgreSQL spend much of their client time in the loop (benchmarks/pg_bets.py
measured about 6% more bets per second with it, then with four round trips a bet). The web
API needs nothing from here: uvicorn picks uvloop by itself when it is installed.

    result = run_service(main, settings)  # like anyio.run(main, settings)
"""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from typing import TypeVar, TypeVarTuple

import anyio

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def uvloop_available() -> bool:
    return importlib.util.find_spec("uvloop") is not None


def run_service(func: Callable[[*Ts], Awaitable[T]], *args: *Ts) -> T:
    """``anyio.run(func, *args)`` on the asyncio backend, on uvloop when it is installed."""
    return anyio.run(
        func, *args, backend="asyncio", backend_options={"use_uvloop": uvloop_available()}
    )
