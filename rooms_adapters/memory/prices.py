"""An in-memory price source: quotes set by a test or driven by a simulated price path."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from returns.result import Failure, Result, Success

from rooms_core.models import Asset, Quote
from rooms_core.oracle import NOT_LISTED
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock

PriceFunction = Callable[[Asset, datetime], Decimal | None]


class InMemoryPriceSource:
    """Quotes ``prices[asset.key]`` (set directly) or ``price_fn(asset, now)``.

    ``down`` makes every fetch fail; ``unlisted`` assets answer "not listed" (a pump.fun
    pool too new to be listed); ``lag`` shifts the reported observation time into the past.
    """

    def __init__(
        self,
        name: str,
        clock: Clock,
        supported: Sequence[Asset] = (),
        price_fn: PriceFunction | None = None,
    ) -> None:
        self.name = name
        self.clock = clock
        self.supported = {a.key for a in supported}
        self.prices: dict[str, Decimal] = {}
        self.price_fn = price_fn
        self.down = False
        self.unlisted: set[str] = set()
        self.observed_at: dict[str, datetime] = {}
        self.fetches = 0

    def supports(self, asset: Asset) -> bool:
        return asset.key in self.supported

    def set_price(self, asset: Asset, value: Decimal | str, at: datetime | None = None) -> None:
        self.supported.add(asset.key)
        self.prices[asset.key] = Decimal(value)
        if at is not None:
            self.observed_at[asset.key] = at

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        self.fetches += 1
        now = self.clock.now()
        out: dict[Asset, Result[Quote, SourceError]] = {}
        for asset in assets:
            out[asset] = self._quote(asset, now)
        return out

    def _quote(self, asset: Asset, now: datetime) -> Result[Quote, SourceError]:
        if not self.supports(asset):
            return Failure(SourceError(self.name, "unsupported"))
        if self.down:
            return Failure(SourceError(self.name, "unavailable"))
        if asset.key in self.unlisted:
            return Failure(SourceError(self.name, NOT_LISTED))
        value = self.prices.get(asset.key)
        if value is None and self.price_fn is not None:
            value = self.price_fn(asset, now)
        if value is None:
            return Failure(SourceError(self.name, "unavailable", "no price"))
        at = self.observed_at.get(asset.key, now)
        return Success(
            Quote(asset=asset, value=value, source=self.name, observed_at=at, confidence=None)
        )
