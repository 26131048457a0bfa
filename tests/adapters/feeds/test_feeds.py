"""The exchange feeds against recorded real-shaped responses, served through httpx's
MockTransport: batching, value parsing, provider errors, 429s and malformed bodies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from returns.result import Failure, Success

from rooms_adapters.feeds.binance import BinanceSource
from rooms_adapters.feeds.coingecko import CoinGeckoSource
from rooms_adapters.feeds.cryptocompare import CryptoCompareSource
from rooms_adapters.feeds.dexscreener import DexScreenerSource
from rooms_adapters.feeds.http import get_json, to_decimal
from rooms_adapters.feeds.pyth import PythSource
from rooms_adapters.memory.clock import VirtualClock
from rooms_core.base58 import b58encode
from rooms_core.models import Asset, AssetKind, Metric, Quote
from rooms_core.oracle import NOT_LISTED
from rooms_core.oracle_errors import SourceError
from tests.support import START

RESPONSES = Path(__file__).parent / "responses"
SOL = Asset(kind=AssetKind.COIN, id="SOL")
BTC = Asset(kind=AssetKind.COIN, id="BTC")
DOGE = Asset(kind=AssetKind.COIN, id="DOGE")
WIF_MINT = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"
WIF = Asset(kind=AssetKind.TOKEN, id=WIF_MINT)
WIF_CAP = Asset(kind=AssetKind.TOKEN, id=WIF_MINT, metric=Metric.MARKET_CAP_USD)
FART = Asset(kind=AssetKind.TOKEN, id="9BB6NFEcjBCtnNLFko2FqVQBq8HHM13kCyYcdQbgpump")
NEW_MINT = Asset(kind=AssetKind.TOKEN, id="So11111111111111111111111111111111111111112")

Reply = tuple[int, str, dict[str, str]]


def recorded(name: str, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return status, (RESPONSES / name).read_text(), headers or {}


class Server:
    """Answers every request with the next reply; remembers the requests."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body, headers = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return httpx.Response(status, text=body, headers=headers)


ClientFor = Callable[[Server], httpx.AsyncClient]


@pytest.fixture
async def client_for() -> AsyncIterator[ClientFor]:
    clients: list[httpx.AsyncClient] = []

    def make(server: Server) -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(transport=httpx.MockTransport(server.handle)))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


def quote(result: object) -> Quote:
    assert isinstance(result, Success), result
    value: Quote = result.unwrap()
    return value


def error(result: object) -> SourceError:
    assert isinstance(result, Failure), result
    value: SourceError = result.failure()
    return value


CLOCK = VirtualClock(START)


# --- Binance -------------------------------------------------------------------------


async def test_binance_prices_every_asset_in_one_request(client_for: ClientFor) -> None:
    server = Server(recorded("binance_prices.json"))
    source = BinanceSource(client_for(server), CLOCK)
    got = await source.fetch([SOL, BTC, DOGE])
    assert quote(got[SOL]).value == Decimal("142.35000000")
    assert quote(got[BTC]).value == Decimal("97342.15000000")
    assert quote(got[SOL]).observed_at == START  # no timestamp given: time of arrival
    assert error(got[DOGE]).reason == "unsupported"
    (request,) = server.requests
    assert request.url.path == "/api/v3/ticker/price"
    assert json.loads(request.url.params["symbols"]) == ["BTCUSDT", "SOLUSDT"]


async def test_binance_429_and_418_are_rate_limits_with_retry_after(client_for: ClientFor) -> None:
    for status in (429, 418):
        server = Server(recorded("binance_429.json", status, {"Retry-After": "17"}))
        failure = error((await BinanceSource(client_for(server), CLOCK).fetch([SOL]))[SOL])
        assert (failure.reason, failure.retry_after) == ("rate_limited", 17.0)


async def test_binance_region_block_and_server_errors(client_for: ClientFor) -> None:
    blocked = Server(recorded("binance_451.json", 451))
    failure = error((await BinanceSource(client_for(blocked), CLOCK).fetch([SOL]))[SOL])
    assert failure.reason == "unavailable"
    assert "451" in failure.detail
    down = Server((502, "<html>Bad Gateway</html>", {}))
    assert error((await BinanceSource(client_for(down), CLOCK).fetch([SOL]))[SOL]).reason == (
        "unavailable"
    )


async def test_binance_malformed_bodies(client_for: ClientFor) -> None:
    for body in ('[{"symbol":"SOLUSDT","price":', '{"unexpected":"shape"}',
                 '[{"symbol":"SOLUSDT","price":"not a number"}]'):  # fmt: skip
        server = Server((200, body, {}))
        assert error((await BinanceSource(client_for(server), CLOCK).fetch([SOL]))[SOL]).reason == (
            "malformed"
        )


# --- CoinGecko -----------------------------------------------------------------------


async def test_coingecko_maps_symbols_to_ids_and_uses_its_update_time(
    client_for: ClientFor,
) -> None:
    server = Server(recorded("coingecko_prices.json"))
    got = await CoinGeckoSource(client_for(server), CLOCK).fetch([SOL, BTC])
    sol = quote(got[SOL])
    assert sol.value == Decimal("142.41")
    assert sol.observed_at == datetime.fromtimestamp(1763856007, UTC)
    assert quote(got[BTC]).value == Decimal(97311)
    (request,) = server.requests
    assert request.url.params["ids"] == "bitcoin,solana"
    assert request.url.params["include_last_updated_at"] == "true"


async def test_coingecko_rate_limit_and_missing_entries(client_for: ClientFor) -> None:
    limited = Server(recorded("coingecko_429.json", 429, {"Retry-After": "60"}))
    failure = error((await CoinGeckoSource(client_for(limited), CLOCK).fetch([SOL]))[SOL])
    assert (failure.reason, failure.retry_after) == ("rate_limited", 60.0)
    partial = Server((200, '{"bitcoin":{"usd":97311}}', {}))
    got = await CoinGeckoSource(client_for(partial), CLOCK).fetch([SOL, BTC])
    assert error(got[SOL]).reason == "malformed"
    assert quote(got[BTC]).observed_at == START


# --- CryptoCompare -------------------------------------------------------------------


async def test_cryptocompare_prices(client_for: ClientFor) -> None:
    server = Server(recorded("cryptocompare_prices.json"))
    got = await CryptoCompareSource(client_for(server), CLOCK).fetch([SOL, BTC])
    assert quote(got[SOL]).value == Decimal("142.29")
    assert server.requests[0].url.params["fsyms"] == "BTC,SOL"


async def test_cryptocompare_errors_inside_http_200(client_for: ClientFor) -> None:
    bad = Server(recorded("cryptocompare_error.json"))
    failure = error((await CryptoCompareSource(client_for(bad), CLOCK).fetch([SOL]))[SOL])
    assert failure.reason == "unavailable"
    assert "does not exist" in failure.detail
    limited = Server(recorded("cryptocompare_rate_limit.json"))
    limit = error((await CryptoCompareSource(client_for(limited), CLOCK).fetch([SOL]))[SOL])
    assert limit.reason == "rate_limited"
    broken = Server((200, "Service Unavailable", {}))
    got = await CryptoCompareSource(client_for(broken), CLOCK).fetch([SOL])
    assert error(got[SOL]).reason == "malformed"


# --- DexScreener ---------------------------------------------------------------------


async def test_dexscreener_takes_the_most_liquid_pair(client_for: ClientFor) -> None:
    server = Server(recorded("dexscreener_pairs.json"))
    got = await DexScreenerSource(client_for(server), CLOCK).fetch([WIF, WIF_CAP, FART])
    assert quote(got[WIF]).value == Decimal("1.849")  # the orca pair: $8.1M of liquidity
    assert quote(got[WIF_CAP]).value == Decimal(1849000000)
    assert error(got[FART]).reason == "malformed"  # its only pair has no priceUsd
    (request,) = server.requests
    assert request.url.path == f"/latest/dex/tokens/{FART.id},{WIF_MINT}"


async def test_dexscreener_token_without_pairs_is_not_listed_yet(client_for: ClientFor) -> None:
    server = Server(recorded("dexscreener_none.json"))
    got = await DexScreenerSource(client_for(server), CLOCK).fetch([NEW_MINT])
    assert error(got[NEW_MINT]).reason == NOT_LISTED


async def test_dexscreener_asks_for_at_most_30_tokens_a_request(client_for: ClientFor) -> None:
    server = Server(recorded("dexscreener_none.json"))
    source = DexScreenerSource(client_for(server), CLOCK)
    mints = [Asset(kind=AssetKind.TOKEN, id=_mint(i)) for i in range(45)]
    got = await source.fetch(mints)
    assert len(server.requests) == 2
    assert [len(r.url.path.rsplit("/", 1)[1].split(",")) for r in server.requests] == [30, 15]
    assert all(error(r).reason == NOT_LISTED for r in got.values())


async def test_dexscreener_supports_only_solana_mints(client_for: ClientFor) -> None:
    source = DexScreenerSource(client_for(Server((200, "{}", {}))), CLOCK)
    assert source.supports(WIF)
    assert not source.supports(SOL)
    assert not source.supports(Asset(kind=AssetKind.TOKEN, id="0xNotBase58"))


async def test_dexscreener_rate_limit_and_bad_shapes(client_for: ClientFor) -> None:
    limited = Server((429, '{"error":"rate limited"}', {}))
    assert error(
        (await DexScreenerSource(client_for(limited), CLOCK).fetch([WIF]))[WIF]
    ).reason == ("rate_limited")
    odd = Server((200, '{"schemaVersion":"1.0.0","pairs":{"not":"a list"}}', {}))
    assert error((await DexScreenerSource(client_for(odd), CLOCK).fetch([WIF]))[WIF]).reason == (
        "malformed"
    )


def _mint(i: int) -> str:
    return b58encode(bytes([i + 1]) * 32)


# --- Pyth ----------------------------------------------------------------------------


async def test_pyth_scales_by_the_exponent_and_reports_confidence(client_for: ClientFor) -> None:
    server = Server(recorded("pyth_latest.json"))
    got = await PythSource(client_for(server), CLOCK).fetch([SOL, BTC, DOGE])
    sol = quote(got[SOL])
    assert sol.value == Decimal("142.35012345")
    assert sol.confidence == Decimal("0.08912345")
    assert sol.observed_at == datetime.fromtimestamp(1763856010, UTC)
    assert quote(got[BTC]).value == Decimal("97338.12345678")
    assert error(got[DOGE]).reason == "unsupported"
    (request,) = server.requests
    assert request.url.params.get_list("ids[]") == sorted(
        ["ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
         "e62df6c8b4a85fe1a67db44dc12de5db330f7ac66b72dc658afedf0f4a415b43"]
    )  # fmt: skip
    assert request.url.params["parsed"] == "true"


async def test_pyth_missing_update_and_errors(client_for: ClientFor) -> None:
    partial = Server((200, '{"binary":{"encoding":"hex","data":[]},"parsed":[]}', {}))
    assert error((await PythSource(client_for(partial), CLOCK).fetch([SOL]))[SOL]).reason == (
        "malformed"
    )
    limited = Server((429, "Too Many Requests", {"Retry-After": "10"}))
    failure = error((await PythSource(client_for(limited), CLOCK).fetch([SOL]))[SOL])
    assert (failure.reason, failure.retry_after) == ("rate_limited", 10.0)


# --- shared ----------------------------------------------------------------------------


async def test_timeouts_and_connection_errors_are_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    for handler, detail in ((refuse, "ConnectError"), (slow, "timeout")):
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            result = await get_json(client, "x", "https://example.invalid/")
        assert isinstance(result, Failure)
        assert (result.failure().reason, result.failure().detail) == ("unavailable", detail)


def test_numbers_are_decimals_never_floats() -> None:
    assert to_decimal("142.35000000") == Decimal("142.35000000")
    assert to_decimal(Decimal("1.5")) == Decimal("1.5")
    assert to_decimal(7) == Decimal(7)
    for bad in (None, True, 1.5, "NaN", "Infinity", "abc", [1]):
        assert to_decimal(bad) is None


SOURCES_AND_ASSETS = [
    (BinanceSource, SOL),
    (CoinGeckoSource, SOL),
    (CryptoCompareSource, SOL),
    (DexScreenerSource, WIF),
    (PythSource, SOL),
]


@pytest.mark.parametrize(("make", "asset"), SOURCES_AND_ASSETS)
@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ((503, '{"error":"Service Unavailable"}', {}), "unavailable"),
        ((500, "<html><body>Internal Server Error</body></html>", {}), "unavailable"),
        ((429, '{"error":"Too Many Requests"}', {"Retry-After": "5"}), "rate_limited"),
        ((200, "<html>maintenance</html>", {}), "malformed"),
        ((200, '{"truncated": ', {}), "malformed"),
    ],
)
async def test_every_feed_maps_provider_failures_to_typed_errors(
    client_for: ClientFor,
    make: type[
        BinanceSource | CoinGeckoSource | CryptoCompareSource | DexScreenerSource | PythSource
    ],
    asset: Asset,
    reply: Reply,
    reason: str,
) -> None:
    source = make(client_for(Server(reply)), CLOCK)
    assert error((await source.fetch([asset]))[asset]).reason == reason
