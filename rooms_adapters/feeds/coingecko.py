"""CoinGecko simple prices in USD, with the provider's own last-updated time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import httpx
from returns.result import Failure, Result, Success

from rooms_adapters.feeds.http import get_json, to_decimal
from rooms_core.models import Asset, AssetKind, Metric, Quote
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock

DEFAULT_IDS = {
    "SOL": "solana",
    "BTC": "bitcoin",
    "ETH": "ethereum",
    "BONK": "bonk",
    "JUP": "jupiter-exchange-solana",
    "WIF": "dogwifcoin",
    "JTO": "jito-governance-token",
    "PYTH": "pyth-network",
    "RAY": "raydium",
}


class CoinGeckoSource:
    name = "coingecko"

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        ids: Mapping[str, str] = DEFAULT_IDS,
        base_url: str = "https://api.coingecko.com",
        api_key: str | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.ids = {symbol.upper(): gecko for symbol, gecko in ids.items()}
        self.base_url = base_url.rstrip("/")
        self.headers = {"x-cg-demo-api-key": api_key} if api_key else None

    def supports(self, asset: Asset) -> bool:
        return (
            asset.kind is AssetKind.COIN
            and asset.metric is Metric.PRICE_USD
            and asset.id.upper() in self.ids
        )

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        out: dict[Asset, Result[Quote, SourceError]] = {
            a: Failure(SourceError(self.name, "unsupported")) for a in assets
        }
        wanted = {self.ids[a.id.upper()]: a for a in assets if self.supports(a)}
        if not wanted:
            return out
        body = await get_json(
            self.client,
            self.name,
            f"{self.base_url}/api/v3/simple/price",
            params={
                "ids": ",".join(sorted(wanted)),
                "vs_currencies": "usd",
                "include_last_updated_at": "true",
            },
            headers=self.headers,
        )
        if isinstance(body, Failure):
            out.update({a: body for a in wanted.values()})
            return out
        data = body.unwrap()
        now = self.clock.now()
        for gecko_id, asset in wanted.items():
            entry = data.get(gecko_id) if isinstance(data, dict) else None
            value = to_decimal(entry.get("usd")) if isinstance(entry, dict) else None
            if value is None or not isinstance(entry, dict):
                out[asset] = Failure(SourceError(self.name, "malformed", f"no usd for {gecko_id}"))
                continue
            stamp = entry.get("last_updated_at")
            at = now
            if isinstance(stamp, int) and not isinstance(stamp, bool):
                at = datetime.fromtimestamp(stamp, UTC)
            out[asset] = Success(Quote(asset, value, self.name, at))
        return out
