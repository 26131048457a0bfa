"""Composition root of a live deployment: PostgreSQL, the exchange feeds (guarded), the
system clock and secret tokens, wired into the core's ``Deps``.

Use as ``async with live_deps(...) as live: ...`` (``live.deps``, ``live.store``,
``live.decisions``: run ``live.decisions.run(stop)`` to keep the oracle's decisions); it
closes the pool and the HTTP client on the way out.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
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


def live_sources(
    client: httpx.AsyncClient, clock: Clock, feeds: Sequence[str]
) -> list[PriceSource]:
    """The exchange feeds named, each behind its guard (rate limit, cache, breaker)."""
    unknown = sorted(set(feeds) - set(FEEDS))
    if unknown:
        raise ValueError(f"unknown price feeds {unknown}; known: {', '.join(FEEDS)}")
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


@asynccontextmanager
async def live_deps(
    database: PostgresSettings,
    feeds: Sequence[str] = FEEDS,
    settings: RoomsSettings | None = None,
    oracle_settings: OracleSettings | None = None,
) -> AsyncIterator[Live]:
    unknown = sorted(set(feeds) - set(FEEDS))
    if unknown:
        raise ValueError(f"unknown price feeds {unknown}; known: {', '.join(FEEDS)}")
    clock = SystemClock()
    store = await PostgresStore.connect(database, clock)
    client = new_client()
    try:
        sources = live_sources(client, clock, feeds)
        decisions = PostgresDecisionLog(store)

        def record(decision: OracleDecision) -> None:
            _record(decision)
            decisions.record(decision)

        oracle = ConsensusOracle(sources, clock, oracle_settings, record=record)
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
