"""Consensus over price sources: the rules that decide which price a room settles on.

A quote counts only if it is fresh (``0 <= now - observed_at <= max_age``; a timestamp in
the future is stale) and agrees with the others: a quote further than ``max_deviation_bps``
from the median of the fresh quotes is dropped. The consensus is the median of the
survivors, and needs ``quorum`` of them (per asset; at most the number of sources that cover
the asset, so an asset only one source covers runs with quorum 1 and the room says so).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from statistics import StatisticsError

from returns.result import Failure, Result, Success

from rooms_core.errors import AssetNotPriceable, NotPriceableYet
from rooms_core.models import Asset, AssetKind, Observation, Quote
from rooms_core.oracle_errors import NoConsensus, SourceError
from rooms_core.ports.clock import Clock
from rooms_core.ports.prices import PriceSource

NOT_LISTED = "not_listed"  # a source's reason for a token too new to be listed
_NO_AGE = timedelta(0)


@dataclass(frozen=True, slots=True)
class OracleSettings:
    max_age: timedelta = timedelta(seconds=30)
    max_deviation_bps: int = 200
    default_quorum: int = 2
    quorum_by_asset: dict[str, int] = field(default_factory=dict)  # Asset.key -> quorum

    def quorum_for(self, asset: Asset, covering: int) -> int:
        wanted = self.quorum_by_asset.get(asset.key, self.default_quorum)
        return max(1, min(wanted, covering))


@dataclass(frozen=True, slots=True)
class OracleDecision:
    """What the oracle accepted or rejected, and why: kept so a settlement can be explained."""

    asset: Asset
    at: datetime
    accepted: Observation | None
    used: tuple[Quote, ...]
    rejected: tuple[tuple[str, str], ...]  # (source, reason)


def aggregate(
    asset: Asset,
    quotes: Sequence[Quote],
    now: datetime,
    quorum: int,
    max_age: timedelta,
    max_deviation_bps: int,
) -> tuple[Observation | None, list[Quote], list[tuple[str, str]]]:
    """Pure consensus: (observation or None, quotes used, (source, reason) rejections)."""
    rejected: list[tuple[str, str]] = []
    fresh: list[Quote] = []
    for q in quotes:
        age = now - q.observed_at
        if age < _NO_AGE:
            rejected.append((q.source, "timestamp in the future"))
        elif age > max_age:
            rejected.append((q.source, f"stale ({age.total_seconds():.0f}s old)"))
        elif q.value <= 0:
            rejected.append((q.source, "non-positive value"))
        else:
            fresh.append(q)
    agreeing: list[Quote] = []
    if len(fresh) <= 1:
        agreeing = fresh
    else:
        # The median of all fresh quotes: with three sources, one far off cannot drag the
        # reference (the median of the *other* two would be the mean of a good and a bad one,
        # and every source would be rejected).
        limit = _deviation_limit(max_deviation_bps)
        values = []
        for q in fresh:  # loops rather than comprehensions here: no frame per poll
            values.append(q.value)
        reference = Decimal(_median(values))
        bound = reference * limit
        for q in fresh:
            if abs(q.value - reference) <= bound:
                agreeing.append(q)
            else:
                rejected.append((q.source, f"deviates from the median ({reference})"))
    if len(agreeing) < quorum:
        return None, agreeing, rejected
    observed_at = agreeing[0].observed_at
    names = []
    values = []
    for q in agreeing:
        if q.observed_at < observed_at:
            observed_at = q.observed_at
        names.append(q.source)
        values.append(q.value)
    if len(agreeing) > 1 and len(agreeing) == len(fresh):
        value = reference  # every fresh quote agrees: the same median again
    else:
        value = Decimal(_median(values))
    names.sort()
    return Observation(asset, value, observed_at, tuple(names), quorum), agreeing, rejected


_limits: dict[int, Decimal] = {}


def _deviation_limit(max_deviation_bps: int) -> Decimal:
    """``max_deviation_bps / 10_000`` as a Decimal, computed once per value."""
    limit = _limits.get(max_deviation_bps)
    if limit is None:
        limit = _limits[max_deviation_bps] = Decimal(max_deviation_bps) / Decimal(10_000)
    return limit


def _median(values: list[Decimal]) -> Decimal:
    """``statistics.median`` (the middle value, or the mean of the two middle ones) without
    its generic checks: the oracle takes one per poll."""
    if len(values) == 1:
        return values[0]
    data = sorted(values)
    n = len(data)
    if n == 0:
        raise StatisticsError("no median for empty data")
    if n % 2 == 1:
        return data[n // 2]
    i = n // 2
    return (data[i - 1] + data[i]) / 2


class ConsensusOracle:
    """The :class:`~rooms_core.ports.prices.PriceOracle` over a set of price sources."""

    def __init__(
        self,
        sources: Sequence[PriceSource],
        clock: Clock,
        settings: OracleSettings | None = None,
        record: Callable[[OracleDecision], None] | None = None,
        *,
        concurrent: bool = True,
    ) -> None:
        """``concurrent=False`` queries the sources one after another: for in-process
        sources that never wait on I/O (the simulator), where tasks are pure overhead."""
        self.sources = list(sources)
        self.concurrent = concurrent
        self.clock = clock
        self.settings = settings or OracleSettings()
        self._record = record

    def covering(self, asset: Asset) -> list[PriceSource]:
        return [s for s in self.sources if s.supports(asset)]

    async def check_priceable(
        self, asset: Asset
    ) -> Result[int, AssetNotPriceable | NotPriceableYet]:
        covering = self.covering(asset)
        if not covering:
            return Failure(AssetNotPriceable(str(asset)))
        quorum = self.settings.quorum_for(asset, len(covering))
        if asset.kind is AssetKind.TOKEN:
            quotes, errors = await self._fetch(asset, covering)
            if not quotes and errors and all(e.reason == NOT_LISTED for e in errors):
                return Failure(NotPriceableYet(asset.id))
        return Success(quorum)

    async def observe(self, asset: Asset) -> Result[Observation, NoConsensus]:
        covering = self.covering(asset)
        quotes, errors = await self._fetch(asset, covering)
        return self._decide(asset, len(covering), quotes, errors)

    async def observe_many(
        self, assets: Sequence[Asset]
    ) -> dict[Asset, Result[Observation, NoConsensus]]:
        """Consensus for several assets with one request per source (each source is asked
        for all the assets it covers at once: RULES 5)."""
        wanted = list(dict.fromkeys(assets))
        # Per asset, by position in ``wanted``: assets hash through Python code, and a poll
        # would otherwise hash each one a dozen times.
        asked = [(s, [(i, a) for i, a in enumerate(wanted) if s.supports(a)]) for s in self.sources]
        asked = [(s, covered) for s, covered in asked if covered]
        if self.concurrent and len(asked) > 1:
            answers = list(await asyncio.gather(*(s.fetch([a for _, a in c]) for s, c in asked)))
        else:
            answers = [await s.fetch([a for _, a in c]) for s, c in asked]
        quotes: list[list[Quote]] = [[] for _ in wanted]
        errors: list[list[SourceError]] = [[] for _ in wanted]
        covering = [0] * len(wanted)  # how many sources cover each asset
        for (source, covered), by_asset in zip(asked, answers, strict=True):
            for i, asset in covered:
                covering[i] += 1
                result = by_asset.get(asset)
                if result is None:
                    errors[i].append(SourceError(source.name, "unsupported"))
                elif not isinstance(result, Success):
                    errors[i].append(result.failure())
                else:
                    quotes[i].append(result.unwrap())
        return {a: self._decide(a, covering[i], quotes[i], errors[i]) for i, a in enumerate(wanted)}

    def _decide(
        self, asset: Asset, covering: int, quotes: list[Quote], errors: list[SourceError]
    ) -> Result[Observation, NoConsensus]:
        quorum = self.settings.quorum_for(asset, covering)
        now = self.clock.now()
        observation, used, rejected = aggregate(
            asset, quotes, now, quorum, self.settings.max_age, self.settings.max_deviation_bps
        )
        if errors:
            rejected = [(e.source, e.reason) for e in errors] + rejected
        if self._record is not None:
            self._record(OracleDecision(asset, now, observation, tuple(used), tuple(rejected)))
        if observation is None:
            return Failure(
                NoConsensus(str(asset), quorum, len(used), tuple(f"{s}: {r}" for s, r in rejected))
            )
        return Success(observation)

    async def _fetch(
        self, asset: Asset, sources: Sequence[PriceSource]
    ) -> tuple[list[Quote], list[SourceError]]:
        if self.concurrent and len(sources) > 1:
            results = list(await asyncio.gather(*(s.fetch([asset]) for s in sources)))
        else:
            results = [await s.fetch([asset]) for s in sources]
        quotes: list[Quote] = []
        errors: list[SourceError] = []
        for source, by_asset in zip(sources, results, strict=True):
            result = by_asset.get(asset)
            if result is None:
                errors.append(SourceError(source.name, "unsupported"))
            elif not isinstance(result, Success):
                errors.append(result.failure())
            else:
                quotes.append(result.unwrap())
        return quotes, errors
