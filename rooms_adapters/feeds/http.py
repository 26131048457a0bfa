"""What every feed does the same way: one GET, provider failures mapped to typed errors,
numbers parsed as Decimal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from returns.result import Failure, Result, Success

from rooms_core.oracle_errors import SourceError

USER_AGENT = "rooms-oracle/0.1 (+https://github.com/rooms)"


def new_client(timeout: float = 5.0) -> httpx.AsyncClient:
    """A client for the feeds: short timeouts, our User-Agent. The caller closes it."""
    return httpx.AsyncClient(timeout=timeout, headers={"User-Agent": USER_AGENT})


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


async def get_json(
    client: httpx.AsyncClient,
    source: str,
    url: str,
    params: dict[str, str] | None = None,
    query: Sequence[tuple[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Result[Any, SourceError]:
    """GET ``url`` and decode its JSON (floats as Decimal), or the typed reason it failed.
    ``query`` instead of ``params`` for repeated keys (``ids[]=a&ids[]=b``)."""
    try:
        pairs = tuple(query) if query is not None else tuple((params or {}).items())
        response = await client.get(url, params=httpx.QueryParams(pairs), headers=headers)
    except httpx.TimeoutException:
        return Failure(SourceError(source, "unavailable", "timeout"))
    except httpx.HTTPError as error:
        return Failure(SourceError(source, "unavailable", type(error).__name__))
    status = response.status_code
    if status in (418, 429):  # Binance answers 418 to a client that ignored its 429s
        return Failure(
            SourceError(source, "rate_limited", f"HTTP {status}", _retry_after(response))
        )
    if status == 451:
        return Failure(SourceError(source, "unavailable", "HTTP 451: region blocked"))
    if status >= 400:
        return Failure(SourceError(source, "unavailable", f"HTTP {status}"))
    try:
        return Success(json.loads(response.text, parse_float=Decimal))
    except ValueError:
        return Failure(SourceError(source, "malformed", "not JSON"))


def to_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string, else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None
