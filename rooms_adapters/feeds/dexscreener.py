"""DexScreener token pairs: price or market cap of Solana tokens (pump.fun and others),
from the most liquid pair. A mint with no pair yet is "not listed" (too new to price)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx
from returns.result import Failure, Result, Success

from rooms_adapters.feeds.http import get_json, to_decimal
from rooms_core.base58 import b58decode
from rooms_core.models import Asset, AssetKind, Metric, Quote
from rooms_core.oracle import NOT_LISTED
from rooms_core.oracle_errors import SourceError
from rooms_core.ports.clock import Clock

MAX_TOKENS_PER_REQUEST = 30


def _is_mint(address: str) -> bool:
    decoded = b58decode(address)
    return decoded is not None and len(decoded) == 32


class DexScreenerSource:
    name = "dexscreener"

    def __init__(
        self,
        client: httpx.AsyncClient,
        clock: Clock,
        base_url: str = "https://api.dexscreener.com",
        chain: str = "solana",
    ) -> None:
        self.client = client
        self.clock = clock
        self.base_url = base_url.rstrip("/")
        self.chain = chain

    def supports(self, asset: Asset) -> bool:
        return asset.kind is AssetKind.TOKEN and _is_mint(asset.id)

    async def fetch(self, assets: Sequence[Asset]) -> Mapping[Asset, Result[Quote, SourceError]]:
        out: dict[Asset, Result[Quote, SourceError]] = {
            a: Failure(SourceError(self.name, "unsupported")) for a in assets
        }
        mints = sorted({a.id for a in assets if self.supports(a)})
        for start in range(0, len(mints), MAX_TOKENS_PER_REQUEST):
            chunk = mints[start : start + MAX_TOKENS_PER_REQUEST]
            body = await get_json(
                self.client, self.name, f"{self.base_url}/latest/dex/tokens/{','.join(chunk)}"
            )
            mine = [a for a in assets if a.id in chunk and self.supports(a)]
            if isinstance(body, Failure):
                out.update({a: body for a in mine})
                continue
            data = body.unwrap()
            pairs = data.get("pairs") if isinstance(data, dict) else None
            if pairs is not None and not isinstance(pairs, list):
                out.update({a: Failure(SourceError(self.name, "malformed", "pairs")) for a in mine})
                continue
            now = self.clock.now()
            for asset in mine:
                out[asset] = self._quote(asset, pairs or [], now)
        return out

    def _quote(self, asset: Asset, pairs: list[Any], now: Any) -> Result[Quote, SourceError]:
        candidates = [
            p
            for p in pairs
            if isinstance(p, dict)
            and p.get("chainId") == self.chain
            and isinstance(p.get("baseToken"), dict)
            and p["baseToken"].get("address") == asset.id
        ]
        if not candidates:
            return Failure(SourceError(self.name, NOT_LISTED, asset.id))

        def liquidity(pair: dict[str, Any]) -> Decimal:
            pool = pair.get("liquidity")
            usd = to_decimal(pool.get("usd")) if isinstance(pool, dict) else None
            return usd if usd is not None else Decimal(0)

        best = max(candidates, key=liquidity)
        if asset.metric is Metric.MARKET_CAP_USD:
            value = to_decimal(best.get("marketCap"))
            if value is None:
                value = to_decimal(best.get("fdv"))
        else:
            value = to_decimal(best.get("priceUsd"))
        if value is None:
            return Failure(SourceError(self.name, "malformed", f"no {asset.metric.value} value"))
        return Success(Quote(asset, value, self.name, now))
