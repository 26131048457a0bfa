"""Pyth's Hermes service: latest price updates with confidence and publish time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import httpx
from returns.result import Failure, Result, Success

from rooms_adapters.feeds.http import get_json
from rooms_core.models import Asset, AssetKind, Metric, Quote
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock

DEFAULT_FEEDS = {
    "SOL": "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
    "BTC": "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43",
    "ETH": "ff61491a931112ddf1bd8147cd1b641375f79f5825126d665480874634fd0ace",
}


def _scaled(mantissa: object, expo: object) -> Decimal | None:
    if not isinstance(expo, int) or isinstance(expo, bool):
        return None
    try:
        return Decimal(int(str(mantissa))).scaleb(expo)
    except ValueError:
        return None


class PythSource:
    name = "pyth"

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        feeds: Mapping[str, str] = DEFAULT_FEEDS,
        base_url: str = "https://hermes.pyth.network",
        api_key: str | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.feeds = {s.upper(): f.lower().removeprefix("0x") for s, f in feeds.items()}
        self.base_url = base_url.rstrip("/")
        self.headers = {"x-api-key": api_key} if api_key else None

    def supports(self, asset: Asset) -> bool:
        return (
            asset.kind is AssetKind.COIN
            and asset.metric is Metric.PRICE_USD
            and asset.id.upper() in self.feeds
        )

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        out: dict[Asset, Result[Quote, SourceError]] = {
            a: Failure(SourceError(self.name, "unsupported")) for a in assets
        }
        wanted = {self.feeds[a.id.upper()]: a for a in assets if self.supports(a)}
        if not wanted:
            return out
        params = [("ids[]", feed) for feed in sorted(wanted)] + [("parsed", "true")]
        body = await get_json(
            self.client,
            self.name,
            f"{self.base_url}/v2/updates/price/latest",
            query=params,
            headers=self.headers,
        )
        if isinstance(body, Failure):
            out.update({a: body for a in wanted.values()})
            return out
        data = body.unwrap()
        parsed = data.get("parsed") if isinstance(data, dict) else None
        updates = {}
        if isinstance(parsed, list):
            updates = {
                str(u.get("id", "")).lower().removeprefix("0x"): u
                for u in parsed
                if isinstance(u, dict)
            }
        for feed, asset in wanted.items():
            price = updates.get(feed, {}).get("price")
            if not isinstance(price, dict):
                out[asset] = Failure(SourceError(self.name, "malformed", f"no update for {feed}"))
                continue
            value = _scaled(price.get("price"), price.get("expo"))
            confidence = _scaled(price.get("conf"), price.get("expo"))
            published = price.get("publish_time")
            if value is None or not isinstance(published, int) or isinstance(published, bool):
                out[asset] = Failure(SourceError(self.name, "malformed", f"bad price for {feed}"))
                continue
            at = datetime.fromtimestamp(published, UTC)
            out[asset] = Success(Quote(asset, value, self.name, at, confidence))
        return out
