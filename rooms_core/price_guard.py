"""Protecting price providers and ourselves: a circuit breaker, a request rate limit, a
retry-after honoured and a short cache, wrapped around any :class:`PriceSource`.

- **Rate limit**: at most one request to a provider per ``min_interval`` (RULES 5: poll a
  rate-limited source less often rather than collect 429s); a 429's ``retry_after`` holds
  requests back until it has passed.
- **Cache**: a quote is served again for ``cache_ttl``, so many rooms (and many monitor
  loops) on one asset cost one request; while requests are held back, the last quote is
  served even when older (the aggregator's freshness rule then decides whether it counts).
- **Circuit breaker**: ``failures_to_open`` consecutive failed requests open it; while open
  no request is made; after ``cooldown`` one probe is let through, which closes it on success
  and opens it again on failure.

A failed *request* is one where every asset failed for a reason that says the provider is in
trouble (unavailable, rate limited, malformed); "unsupported" or "not listed" answers are
the provider working normally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from returns.result import Failure, Result

from rooms_core.models import Asset, Quote
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock
from rooms_core.ports.prices import PriceSource

PROVIDER_TROUBLE = frozenset({"unavailable", "rate_limited", "malformed"})


@dataclass(frozen=True, slots=True)
class GuardSettings:
    min_interval: timedelta = timedelta(seconds=3)
    cache_ttl: timedelta = timedelta(seconds=2)
    failures_to_open: int = 3
    cooldown: timedelta = timedelta(seconds=30)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"  # one probe request is in flight


class CircuitBreaker:
    def __init__(self, clock: Clock, failures_to_open: int, cooldown: timedelta) -> None:
        self.clock = clock
        self.failures_to_open = failures_to_open
        self.cooldown = cooldown
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.opened_at: datetime | None = None

    def allow(self) -> bool:
        """Whether a request may go out now (in HALF_OPEN: the one probe)."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            assert self.opened_at is not None
            if self.clock.now() - self.opened_at >= self.cooldown:
                self.state = BreakerState.HALF_OPEN
                return True
        return False

    def record_success(self) -> None:
        self.state = BreakerState.CLOSED
        self.failures = 0
        self.opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failures_to_open:
            self.state = BreakerState.OPEN
            self.opened_at = self.clock.now()


@dataclass(frozen=True, slots=True)
class _Cached:
    at: datetime
    result: Result[Quote, SourceError]


class GuardedSource:
    """A :class:`PriceSource` that guards another (see the module docstring)."""

    def __init__(
        self, source: PriceSource, clock: Clock, settings: GuardSettings | None = None
    ) -> None:
        self.source = source
        self.name = source.name
        self.clock = clock
        self.settings = settings or GuardSettings()
        self.breaker = CircuitBreaker(clock, self.settings.failures_to_open, self.settings.cooldown)
        self.requests = 0
        self._cache: dict[Asset, _Cached] = {}
        self._last_request: datetime | None = None
        self._held_until: datetime | None = None

    def supports(self, asset: Asset) -> bool:
        return self.source.supports(asset)

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        now = self.clock.now()
        out: dict[Asset, Result[Quote, SourceError]] = {}
        wanted: list[Asset] = []
        for asset in assets:
            cached = self._cache.get(asset)
            if cached is not None and now - cached.at <= self.settings.cache_ttl:
                out[asset] = cached.result
            else:
                wanted.append(asset)
        if not wanted:
            return out
        refusal = self._refusal(now)
        if refusal is not None:
            for asset in wanted:
                cached = self._cache.get(asset)
                out[asset] = cached.result if cached is not None else Failure(refusal)
            return out
        self._last_request = now
        self.requests += 1
        fetched = await self.source.fetch(wanted)
        self._learn(wanted, fetched, now)
        for asset in wanted:
            result = fetched.get(asset)
            if result is None:
                result = Failure(SourceError(self.name, "unsupported"))
            self._cache[asset] = _Cached(now, result)
            out[asset] = result
        return out

    def _refusal(self, now: datetime) -> SourceError | None:
        """Why no request may go out now, or None."""
        if self._held_until is not None and now < self._held_until:
            wait = (self._held_until - now).total_seconds()
            return SourceError(self.name, "rate_limited", "waiting out retry-after", wait)
        if self._last_request is not None and now - self._last_request < self.settings.min_interval:
            return SourceError(self.name, "throttled", "own request rate limit")
        if not self.breaker.allow():
            return SourceError(self.name, "circuit_open", "too many failed requests")
        return None

    def _learn(
        self,
        wanted: Sequence[Asset],
        fetched: Mapping[Asset, Result[Quote, SourceError]],
        now: datetime,
    ) -> None:
        errors = [r.failure() for a in wanted if isinstance(r := fetched.get(a), Failure)]
        retry_after = max((e.retry_after or 0.0 for e in errors), default=0.0)
        if retry_after > 0:
            self._held_until = now + timedelta(seconds=retry_after)
        if len(errors) == len(wanted) and all(e.reason in PROVIDER_TROUBLE for e in errors):
            self.breaker.record_failure()
        else:
            self.breaker.record_success()
