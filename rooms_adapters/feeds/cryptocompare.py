"""CryptoCompare prices in USD. Its errors arrive as HTTP 200 with ``"Response": "Error"``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import httpx
from returns.result import Failure, Result, Success

from rooms_adapters.feeds.binance import DEFAULT_SYMBOLS
from rooms_adapters.feeds.http import get_json, to_decimal
from rooms_core.models import Asset, AssetKind, Metric, Quote
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock


class CryptoCompareSource:
    name = "cryptocompare"

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        symbols: Iterable[str] = DEFAULT_SYMBOLS,
        base_url: str = "https://min-api.cryptocompare.com",
        api_key: str | None = None,
    ) -> None:
        self.client = client
        self.clock = clock
        self.symbols = frozenset(s.upper() for s in symbols)
        self.base_url = base_url.rstrip("/")
        self.headers = {"authorization": f"Apikey {api_key}"} if api_key else None

    def supports(self, asset: Asset) -> bool:
        return (
            asset.kind is AssetKind.COIN
            and asset.metric is Metric.PRICE_USD
            and asset.id.upper() in self.symbols
        )

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        out: dict[Asset, Result[Quote, SourceError]] = {
            a: Failure(SourceError(self.name, "unsupported")) for a in assets
        }
        wanted = {a.id.upper(): a for a in assets if self.supports(a)}
        if not wanted:
            return out
        body = await get_json(
            self.client,
            self.name,
            f"{self.base_url}/data/pricemulti",
            params={"fsyms": ",".join(sorted(wanted)), "tsyms": "USD"},
            headers=self.headers,
        )
        data = body.unwrap() if isinstance(body, Success) else None
        if isinstance(data, dict) and data.get("Response") == "Error":
            message = str(data.get("Message", ""))
            reason = "rate_limited" if "rate limit" in message.lower() else "unavailable"
            body = Failure(SourceError(self.name, reason, message[:200]))
        if isinstance(body, Failure):
            out.update({a: body for a in wanted.values()})
            return out
        data = body.unwrap()
        now = self.clock.now()
        for symbol, asset in wanted.items():
            entry = data.get(symbol) if isinstance(data, dict) else None
            value = to_decimal(entry.get("USD")) if isinstance(entry, dict) else None
            if value is None:
                out[asset] = Failure(SourceError(self.name, "malformed", f"no USD for {symbol}"))
            else:
                out[asset] = Success(Quote(asset, value, self.name, now))
        return out
