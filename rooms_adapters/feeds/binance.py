"""Binance spot tickers against USDT (taken as USD): one request for every asset."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

import httpx
from returns.result import Failure, Result, Success

from rooms_adapters.feeds.http import get_json, to_decimal
from rooms_core.models import Asset, AssetKind, Metric, Quote
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock

DEFAULT_SYMBOLS = ("SOL", "BTC", "ETH", "BONK", "JUP", "WIF", "JTO", "PYTH", "RAY")


class BinanceSource:
    name = "binance"

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        symbols: Iterable[str] = DEFAULT_SYMBOLS,
        base_url: str = "https://api.binance.com",
    ) -> None:
        self.client = client
        self.clock = clock
        self.symbols = frozenset(s.upper() for s in symbols)
        self.base_url = base_url.rstrip("/")

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
        wanted = {f"{a.id.upper()}USDT": a for a in assets if self.supports(a)}
        if not wanted:
            return out
        symbols = json.dumps(sorted(wanted), separators=(",", ":"))
        body = await get_json(
            self.client,
            self.name,
            f"{self.base_url}/api/v3/ticker/price",
            params={"symbols": symbols},
        )
        if isinstance(body, Failure):
            out.update({a: body for a in wanted.values()})
            return out
        now = self.clock.now()
        rows = body.unwrap()
        prices: dict[str, object] = {}
        if isinstance(rows, list):
            prices = {str(r.get("symbol")): r.get("price") for r in rows if isinstance(r, dict)}
        for symbol, asset in wanted.items():
            value = to_decimal(prices.get(symbol))
            if value is None:
                out[asset] = Failure(SourceError(self.name, "malformed", f"no price for {symbol}"))
            else:
                out[asset] = Success(Quote(asset, value, self.name, now))
        return out
