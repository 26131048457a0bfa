"""Simulated exchange feeds: the price port over the true price paths, with per-source
noise, staleness and outages, so the oracle's failure paths (VOID rooms) really happen."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from returns.result import Failure, Result, Success

from rooms_core.models import Asset, Quote
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock
from rooms_sim.prices import PriceModel


class SimulatedFeed:
    """One simulated source quoting every scenario asset from its price model."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        start: datetime,
        models: Mapping[str, PriceModel],
        rng: random.Random,
        *,
        noise_bps: float,
        stale_probability: float,
        outage_probability: float,
        outages: Sequence[tuple[float, float, str | None]],
        stale_by: timedelta,
    ) -> None:
        self.name = name
        self._clock = clock
        self._start = start
        self._models = models
        self._rng = rng
        self._noise = noise_bps / 10_000
        self._stale_probability = stale_probability
        self._outage_probability = outage_probability
        self._outages = outages  # (start second, end second, asset key or None for all)
        self._stale_by = stale_by

    def supports(self, asset: Asset) -> bool:
        return asset.key in self._models

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        now = self._clock.now()
        t = (now - self._start).total_seconds()
        out: dict[Asset, Result[Quote, SourceError]] = {}
        rng = self._rng
        name, models, noise = self.name, self._models, self._noise
        outages, outage_probability = self._outages, self._outage_probability
        stale_probability = self._stale_probability
        # The asset keys (None: every asset) of the outage windows open at t, or None.
        down: set[str | None] | None = None
        for start, end, key in outages:
            if start <= t < end:
                down = {key} if down is None else down | {key}
        for asset in assets:
            key = asset.key
            model = models.get(key)
            if model is None:
                out[asset] = Failure(SourceError(name, "unsupported"))
                continue
            if (down is not None and (None in down or key in down)) or (
                outage_probability and rng.random() < outage_probability
            ):
                out[asset] = Failure(SourceError(name, "unavailable", "simulated outage"))
                continue
            observed_at = now
            if stale_probability and rng.random() < stale_probability:
                observed_at = now - self._stale_by
            price = model.price_at(t) * (1.0 + rng.gauss(0.0, noise))
            out[asset] = Success(Quote(asset, Decimal(f"{price:.10g}"), name, observed_at, None))
        return out
