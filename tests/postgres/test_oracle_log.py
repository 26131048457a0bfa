"""The oracle's decisions kept in PostgreSQL: what was accepted, from which sources, and
which source was rejected for what."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.prices import InMemoryPriceSource
from rooms_adapters.postgres.oracle_log import PostgresDecisionLog
from rooms_core.oracle import ConsensusOracle, OracleSettings
from tests.pg import empty_store
from tests.support import SOL, START


async def test_accepted_and_rejected_prices_are_kept(pg_database: str) -> None:
    clock = VirtualClock(START)
    store = await empty_store(pg_database, clock)
    try:
        log = PostgresDecisionLog(store)
        feeds = [InMemoryPriceSource(f"f{i}", clock, supported=[SOL]) for i in range(3)]
        for feed, price in zip(feeds, ("100", "100.2", "130"), strict=True):
            feed.set_price(SOL, price)
        oracle = ConsensusOracle(feeds, clock, OracleSettings(default_quorum=2), record=log.record)
        assert (await oracle.observe(SOL)).unwrap().value == Decimal("100.1")
        clock.advance(3)
        feeds[0].down = True
        await oracle.observe(SOL)  # f0 down, f1 and f2 disagree: no consensus
        assert await log.flush() == 2
        assert await log.flush() == 0

        kept = await log.between(SOL.key, START, START + timedelta(minutes=1))
        accepted, refused = kept
        assert accepted["value"] == Decimal("100.1")
        assert accepted["sources"] == ["f0", "f1"]
        assert [u["source"] for u in accepted["used"]] == ["f0", "f1"]
        assert accepted["rejected"][0][0] == "f2"
        assert "deviates" in accepted["rejected"][0][1]
        assert refused["value"] is None
        assert ["f0", "unavailable"] in refused["rejected"]
    finally:
        await store.close()
