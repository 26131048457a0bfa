"""``/health``: each dependency checked, with a time limit, and the answer 200 only when
every check passes. A check is an async function that returns a short detail or raises
:class:`CheckFailed` (any other exception counts as a failure too)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

import redis.asyncio as redis
from returns.result import Failure

from rooms_api.schemas import CheckOut, HealthOut
from rooms_core.models import Asset
from rooms_core.services.deps import Deps

HealthCheck = Callable[[], Awaitable[str]]


class CheckFailed(Exception):
    """A dependency answered, badly; the message says how."""


async def run_checks(checks: Mapping[str, HealthCheck], seconds: float) -> HealthOut:
    async def one(check: HealthCheck) -> CheckOut:
        started = time.perf_counter()
        try:
            detail = await asyncio.wait_for(check(), seconds)
            ok = True
        except TimeoutError:
            detail, ok = f"no answer within {seconds:g} s", False
        except CheckFailed as error:
            detail, ok = str(error), False
        except Exception as error:  # a check must never take the endpoint down
            detail, ok = type(error).__name__, False
        return CheckOut(ok=ok, detail=detail, seconds=round(time.perf_counter() - started, 4))

    names = list(checks)
    results = await asyncio.gather(*(one(checks[n]) for n in names))
    by_name = dict(zip(names, results, strict=True))
    return HealthOut(ok=all(r.ok for r in results), checks=by_name)


def database_check(deps: Deps) -> HealthCheck:
    """One read through a unit of work (the operators' switches: one small row)."""

    async def check() -> str:
        async with deps.uow() as uow:
            await uow.controls.get()
        return "reachable"

    return check


def oracle_check(deps: Deps, asset: Asset) -> HealthCheck:
    """The oracle reaches its quorum on ``asset`` now."""

    async def check() -> str:
        observed = await deps.oracle.observe(asset)
        if isinstance(observed, Failure):
            raise CheckFailed(observed.failure().message)
        value = observed.unwrap()
        return f"{asset} = {value.value} from {', '.join(value.sources)}"

    return check


def redis_check(url: str) -> HealthCheck:
    """Redis answers PING."""

    async def check() -> str:
        client = redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            answer = await client.ping()  # type: ignore[misc]
        except (redis.RedisError, OSError) as error:
            raise CheckFailed(f"{type(error).__name__}") from None
        finally:
            await client.aclose()
        if answer is not True:
            raise CheckFailed("no PONG")
        return "PONG"

    return check
