"""Prices: single sources (one exchange API each) and the oracle that forms a consensus."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from returns.result import Result

from rooms_core.errors import AssetNotPriceable, NotPriceableYet
from rooms_core.models import Asset, Observation, Quote
from rooms_core.oracle_errors import NoConsensus, SourceError


class PriceSource(Protocol):
    """One price provider."""

    name: str

    def supports(self, asset: Asset) -> bool:
        """Whether this source can ever price ``asset`` (declared, no I/O)."""

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        """Quotes for several assets in as few requests as the API allows."""


class PriceOracle(Protocol):
    """The consensus view the services use."""

    async def check_priceable(
        self, asset: Asset
    ) -> Result[int, AssetNotPriceable | NotPriceableYet]:
        """Whether rooms on ``asset`` can be settled; ``Success(quorum)`` gives how many
        agreeing sources its settlements will need."""

    async def observe(self, asset: Asset) -> Result[Observation, NoConsensus]:
        """The consensus value of ``asset`` now, or why there is none."""

    async def observe_many(
        self, assets: Sequence[Asset]
    ) -> Mapping[Asset, Result[Observation, NoConsensus]]:
        """:meth:`observe` for several assets at once, one request per source."""
