"""Composition root of a live deployment: PostgreSQL, the exchange feeds (guarded), the
system clock and secret tokens, wired into the core's ``Deps``.

Use as ``async with live_deps(...) as live: ...`` (``live.deps``, ``live.store``,
``live.decisions``: run ``live.decisions.run(stop)`` to keep the oracle's decisions); it
closes the pool and the HTTP client on the way out.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx

from rooms_adapters.feeds.binance import BinanceSource
from rooms_adapters.feeds.coingecko import CoinGeckoSource
from rooms_adapters.feeds.cryptocompare import CryptoCompareSource
from rooms_adapters.feeds.dexscreener import DexScreenerSource
from rooms_adapters.feeds.http import new_client
from rooms_adapters.feeds.pyth import PythSource
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.memory.uow import InMemoryUnitOfWork
from rooms_adapters.postgres.oracle_log import PostgresDecisionLog
from rooms_adapters.postgres.store import PostgresSettings, PostgresStore
from rooms_adapters.postgres.uow import PostgresUnitOfWork
from rooms_adapters.system.clock import SystemClock
from rooms_adapters.system.tokens import SecretTokenSource
from rooms_core.oracle import ConsensusOracle, OracleDecision, OracleSettings
from rooms_core.ports.clock import Clock
from rooms_core.ports.prices import PriceSource
from rooms_core.price_guard import GuardedSource, GuardSettings
from rooms_core.services.deps import Deps
from rooms_core.settings import RoomsSettings

log = logging.getLogger("rooms.oracle")

FEEDS = ("binance", "coingecko", "cryptocompare", "dexscreener", "pyth")
# Each provider's free tier, as the interval between two requests (RULES 5).
MIN_INTERVAL = {
    "binance": 3.0,
    "coingecko": 6.0,  # about 10 a minute, well inside the ~30/min demo tier
    "cryptocompare": 3.0,
    "dexscreener": 3.0,  # 300/min
    "pyth": 3.0,  # ~30 per 10 s per IP
}


def _record(decision: OracleDecision) -> None:
    if decision.accepted is None:
        log.info("no price for %s: %s", decision.asset, decision.rejected)
    else:
        log.debug(
            "%s = %s from %s (rejected: %s)",
            decision.asset,
            decision.accepted.value,
            ",".join(decision.accepted.sources),
            decision.rejected,
        )


def check_feeds(feeds: Sequence[str]) -> None:
    """Refuse names that are not feeds (ValueError, naming them)."""
    unknown = sorted(set(feeds) - set(FEEDS))
    if unknown:
        raise ValueError(f"unknown price feeds {unknown}; known: {', '.join(FEEDS)}")


def live_sources(
    client: httpx.AsyncClient, clock: Clock, feeds: Sequence[str]
) -> list[PriceSource]:
    """The exchange feeds named, each behind its guard (rate limit, cache, breaker)."""
    check_feeds(feeds)
    available: dict[str, PriceSource] = {
        "binance": BinanceSource(client, clock),
        "coingecko": CoinGeckoSource(client, clock),
        "cryptocompare": CryptoCompareSource(client, clock),
        "dexscreener": DexScreenerSource(client, clock),
        "pyth": PythSource(client, clock),
    }
    return [
        GuardedSource(
            available[name],
            clock,
            GuardSettings(min_interval=timedelta(seconds=MIN_INTERVAL[name])),
        )
        for name in feeds
    ]


@dataclass(frozen=True, slots=True)
class Live:
    deps: Deps
    store: PostgresStore
    decisions: PostgresDecisionLog


def live_oracle(
    clock: SystemClock,
    client: httpx.AsyncClient,
    feeds: Sequence[str],
    oracle_settings: OracleSettings | None = None,
    record: Callable[[OracleDecision], None] = _record,
) -> ConsensusOracle:
    """The consensus oracle over the named exchange feeds (see :func:`live_sources`)."""
    return ConsensusOracle(
        live_sources(client, clock, feeds), clock, oracle_settings, record=record
    )


@asynccontextmanager
async def live_deps(
    database: PostgresSettings,
    feeds: Sequence[str] = FEEDS,
    settings: RoomsSettings | None = None,
    oracle_settings: OracleSettings | None = None,
) -> AsyncIterator[Live]:
    check_feeds(feeds)
    clock = SystemClock()
    store = await PostgresStore.connect(database, clock)
    client = new_client()
    try:
        decisions = PostgresDecisionLog(store)

        def record(decision: OracleDecision) -> None:
            _record(decision)
            decisions.record(decision)

        oracle = live_oracle(clock, client, feeds, oracle_settings, record)
        deps = Deps(
            uow=lambda: PostgresUnitOfWork(store),
            clock=clock,
            oracle=oracle,
            tokens=SecretTokenSource(),
            settings=settings or RoomsSettings(),
        )
        yield Live(deps, store, decisions)
    finally:
        await client.aclose()
        await store.close()


@asynccontextmanager
async def live_memory_deps(
    feeds: Sequence[str] = FEEDS, settings: RoomsSettings | None = None
) -> AsyncIterator[tuple[Deps, InMemoryStore]]:
    """The live feeds and the wall clock over in-memory storage: for trying things out
    (everything is gone when the process ends)."""
    clock = SystemClock()
    store = InMemoryStore(clock=clock)
    async with new_client() as client:
        deps = Deps(
            uow=lambda: InMemoryUnitOfWork(store),
            clock=clock,
            oracle=live_oracle(clock, client, feeds),
            tokens=SecretTokenSource(),
            settings=settings or RoomsSettings(),
        )
        yield deps, store
