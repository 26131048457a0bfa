"""Composition root of the in-memory deployment (tests, simulator, demo).

The one place that wires in-memory adapters to the core services. Other deployments
(Postgres, live oracle, Telegram) get their own container module beside their adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dependency_injector import containers, providers

from rooms_adapters.memory.chain import InMemoryChain
from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.messenger import InMemoryMessenger
from rooms_adapters.memory.signer import InMemorySigner
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.memory.tokens import SeededTokenSource
from rooms_adapters.memory.uow import InMemoryUnitOfWork
from rooms_core.oracle import ConsensusOracle, OracleDecision, OracleSettings
from rooms_core.ports.prices import PriceSource
from rooms_core.services.deps import Deps
from rooms_core.settings import RoomsSettings


class InMemoryContainer(containers.DeclarativeContainer):
    """Every port in memory. Override ``price_sources`` with the feeds to use."""

    start = providers.Dependency(instance_of=datetime)
    seed = providers.Object(1)
    settings = providers.Singleton(RoomsSettings)
    oracle_settings = providers.Singleton(OracleSettings)
    price_sources: providers.Provider[list[PriceSource]] = providers.Object([])
    concurrent_price_fetch = providers.Object(True)
    # Where the oracle's decisions go (e.g. InMemoryPriceHistory.record); none by default.
    oracle_record: providers.Provider[Callable[[OracleDecision], None] | None] = providers.Object(
        None
    )

    clock = providers.Singleton(VirtualClock, start=start)
    store = providers.Singleton(InMemoryStore, clock=clock)
    uow = providers.Factory(InMemoryUnitOfWork, store=store)
    tokens = providers.Singleton(SeededTokenSource, seed=seed)
    oracle = providers.Singleton(
        ConsensusOracle,
        sources=price_sources,
        clock=clock,
        settings=oracle_settings,
        concurrent=concurrent_price_fetch,
        record=oracle_record,
    )
    messenger = providers.Singleton(InMemoryMessenger)
    signer = providers.Singleton(InMemorySigner, seed=providers.Object(b"in-memory signer"))
    chain = providers.Singleton(InMemoryChain, verify=signer.provided.verify)
    deps = providers.Singleton(
        Deps, uow=uow.provider, clock=clock, oracle=oracle, tokens=tokens, settings=settings
    )
