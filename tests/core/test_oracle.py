"""The consensus oracle over several sources, and the guards around each source."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from decimal import Decimal

from returns.result import Failure, Result, Success

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.prices import InMemoryPriceSource
from rooms_core.models import Asset, AssetKind, Quote
from rooms_core.oracle import ConsensusOracle, OracleDecision, OracleSettings
from rooms_core.oracle_errors import NoConsensus, SourceError
from rooms_core.price_guard import BreakerState, GuardedSource, GuardSettings
from tests.support import SOL, START

BTC = Asset(kind=AssetKind.COIN, id="BTC")


def feeds(clock: VirtualClock, *prices: str) -> list[InMemoryPriceSource]:
    out = []
    for i, price in enumerate(prices):
        source = InMemoryPriceSource(f"s{i}", clock, supported=[SOL, BTC])
        source.set_price(SOL, price)
        source.set_price(BTC, Decimal(price) * 500)
        out.append(source)
    return out


def oracle(
    clock: VirtualClock, sources: Sequence[object], quorum: int = 2
) -> tuple[ConsensusOracle, list[OracleDecision]]:
    decisions: list[OracleDecision] = []
    o = ConsensusOracle(
        sources,  # type: ignore[arg-type]
        clock,
        OracleSettings(default_quorum=quorum),
        record=decisions.append,
    )
    return o, decisions


async def test_a_source_off_by_ten_percent_is_ignored() -> None:
    clock = VirtualClock(START)
    o, decisions = oracle(clock, feeds(clock, "100", "100.5", "110", "99.8"), quorum=3)

    seen = (await o.observe(SOL)).unwrap()

    assert seen.sources == ("s0", "s1", "s3")
    assert seen.value == Decimal("100")
    assert decisions[-1].rejected == (("s2", "deviates from the median (100.25)"),)


async def test_two_sources_down_still_settle_with_the_rest() -> None:
    clock = VirtualClock(START)
    sources = feeds(clock, "100", "101", "100.4", "100.2")
    sources[0].down = sources[1].down = True
    o, decisions = oracle(clock, sources, quorum=2)

    seen = (await o.observe(SOL)).unwrap()

    assert seen.sources == ("s2", "s3")
    assert seen.value == Decimal("100.3")
    assert ("s0", "unavailable") in decisions[-1].rejected


async def test_no_price_without_a_quorum() -> None:
    clock = VirtualClock(START)
    sources = feeds(clock, "100", "130", "70")
    o, decisions = oracle(clock, sources, quorum=2)

    result = await o.observe(SOL)

    assert isinstance(result, Failure)
    assert isinstance(result.failure(), NoConsensus)
    assert decisions[-1].accepted is None


async def test_stale_and_future_quotes_are_dropped() -> None:
    clock = VirtualClock(START + timedelta(minutes=5))
    sources = feeds(clock, "100", "100", "100")
    sources[0].observed_at[SOL.key] = clock.now() - timedelta(seconds=31)
    sources[1].observed_at[SOL.key] = clock.now() + timedelta(seconds=1)
    o, decisions = oracle(clock, sources, quorum=2)

    result = await o.observe(SOL)

    assert isinstance(result, Failure)
    reasons = dict(decisions[-1].rejected)
    assert reasons["s0"].startswith("stale")
    assert reasons["s1"] == "timestamp in the future"


async def test_many_assets_cost_one_request_per_source() -> None:
    clock = VirtualClock(START)
    sources = feeds(clock, "100", "100.1")
    o, _ = oracle(clock, sources)

    seen = await o.observe_many([SOL, BTC, SOL])

    assert set(seen) == {SOL, BTC}
    assert seen[BTC].unwrap().value == Decimal("50025.0")
    assert [s.fetches for s in sources] == [1, 1]


class FlakySource:
    """Answers with whatever failure or price it is told, and counts requests."""

    def __init__(self) -> None:
        self.name = "flaky"
        self.requests = 0
        self.failure: SourceError | None = None
        self.clock = VirtualClock(START)

    def supports(self, asset: Asset) -> bool:
        return True

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        self.requests += 1
        if self.failure is not None:
            return {a: Failure(self.failure) for a in assets}
        return {a: Success(Quote(a, Decimal(100), self.name, self.clock.now())) for a in assets}


def guarded(flaky: FlakySource) -> GuardedSource:
    flaky.clock = VirtualClock(START)
    settings = GuardSettings(
        min_interval=timedelta(seconds=3),
        cache_ttl=timedelta(seconds=2),
        failures_to_open=3,
        cooldown=timedelta(seconds=30),
    )
    return GuardedSource(flaky, flaky.clock, settings)


async def test_the_breaker_opens_after_failures_and_recovers_after_a_probe() -> None:
    flaky = FlakySource()
    source = guarded(flaky)
    flaky.failure = SourceError("flaky", "unavailable")
    for _ in range(3):
        await source.fetch([SOL])
        flaky.clock.advance(3)
    assert source.breaker.state is BreakerState.OPEN
    assert flaky.requests == 3

    for _ in range(5):  # open: no request goes out
        result = (await source.fetch([SOL]))[SOL]
        flaky.clock.advance(3)
    assert flaky.requests == 3
    assert isinstance(result, Failure)

    flaky.clock.advance(30)  # cooldown over: one probe, which fails and reopens
    await source.fetch([SOL])
    assert (flaky.requests, source.breaker.state) == (4, BreakerState.OPEN)

    flaky.failure = None
    flaky.clock.advance(31)  # the next probe succeeds and closes it
    assert isinstance((await source.fetch([SOL]))[SOL], Success)
    assert (flaky.requests, source.breaker.state) == (5, BreakerState.CLOSED)


async def test_unsupported_answers_do_not_open_the_breaker() -> None:
    flaky = FlakySource()
    source = guarded(flaky)
    flaky.failure = SourceError("flaky", "not_listed")
    for _ in range(5):
        await source.fetch([SOL])
        flaky.clock.advance(3)
    assert source.breaker.state is BreakerState.CLOSED
    assert flaky.requests == 5


async def test_requests_are_rate_limited_and_answers_cached() -> None:
    flaky = FlakySource()
    source = guarded(flaky)
    first = (await source.fetch([SOL]))[SOL]
    flaky.clock.advance(1)
    assert (await source.fetch([SOL]))[SOL] == first  # cached: no request
    flaky.clock.advance(1.5)
    assert (await source.fetch([SOL]))[SOL] == first  # too soon for a request: last quote
    flaky.clock.advance(1)
    assert (await source.fetch([SOL]))[SOL] != first  # a new request
    assert flaky.requests == 2


async def test_a_retry_after_is_honoured() -> None:
    flaky = FlakySource()
    source = guarded(flaky)
    flaky.failure = SourceError("flaky", "rate_limited", "429", retry_after=60)
    await source.fetch([SOL])
    flaky.failure = None
    for _ in range(19):
        flaky.clock.advance(3)
        held = (await source.fetch([SOL]))[SOL]
    assert flaky.requests == 1
    assert isinstance(held, Failure)
    flaky.clock.advance(4)
    assert isinstance((await source.fetch([SOL]))[SOL], Success)
    assert flaky.requests == 2


async def test_many_rooms_on_one_asset_cost_one_request_per_poll() -> None:
    flaky = FlakySource()
    source = guarded(flaky)
    o, _ = oracle(flaky.clock, [source], quorum=1)
    for _ in range(50):
        assert isinstance(await o.observe(SOL), Success)
    assert flaky.requests == 1


async def test_with_three_sources_one_far_off_is_dropped_not_the_others() -> None:
    clock = VirtualClock(START)
    o, decisions = oracle(clock, feeds(clock, "100", "100.2", "130"), quorum=2)

    seen = (await o.observe(SOL)).unwrap()

    assert seen.sources == ("s0", "s1")
    assert seen.value == Decimal("100.1")
    assert [source for source, _ in decisions[-1].rejected] == ["s2"]


async def test_two_sources_that_disagree_give_no_price() -> None:
    clock = VirtualClock(START)
    o, _ = oracle(clock, feeds(clock, "100", "110"), quorum=1)
    assert isinstance(await o.observe(SOL), Failure)
