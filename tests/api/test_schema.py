"""The OpenAPI spec, fuzzed with schemathesis: whatever a client sends, signed in or not,
admin or not, the API answers as its schema says and never with a 500."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.services import wallet
from rooms_core.services.custody import Custody
from tests.api.support import ADMIN_TELEGRAM_ID, Api, make_api, register

OUTSIDE = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


@schemathesis.check
def no_internal_error(ctx: object, response: schemathesis.Response, case: Case[Any]) -> None:
    """No 500, nor any 5xx but a documented 503 (paused, or a dependency away)."""
    if response.status_code >= 500 and response.status_code != 503:
        raise AssertionError(f"{response.status_code}: {response.text[:200]}")


CHECKS = [
    no_internal_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


async def seeded() -> Api:
    """An API with something in it: rooms in several states, bets, a withdrawal waiting
    for approval, and an admin."""
    probe = make_api()
    chain, signer = probe.platform.container.chain(), probe.platform.container.signer()
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    chain.airdrop(hot, sol(1000))
    api = make_api(custody=Custody(chain, signer, hot))
    p = api.platform
    host = await p.user()
    rooms = [await p.room(host) for _ in range(3)]
    for room in rooms[:2]:
        await p.bet(await p.user(), room, Side.YES, sol(2))
        await p.bet(await p.user(), room, Side.NO, sol(1))
    rich = await p.user(deposit=sol(500))
    await wallet.request_withdrawal(
        p.deps, user_id=rich.id, destination=OUTSIDE, amount=sol(200), idempotency_key="w"
    )
    await register(api, ADMIN_TELEGRAM_ID)
    return api


def _build() -> Api:
    # Built on a loop of its own: schemathesis calls the app from its own thread.
    box: list[Api] = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(seeded())))
    thread.start()
    thread.join()
    return box[0]


API = _build()
schema = schemathesis.openapi.from_asgi("/openapi.json", API.app)
fuzz = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.parametrize()
@fuzz
def test_no_answer_breaks_the_schema_without_authentication(case: Case[Any]) -> None:
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@fuzz
def test_no_answer_breaks_the_schema_as_an_admin(case: Case[Any]) -> None:
    headers = {**dict(case.headers or {}), **API.headers(ADMIN_TELEGRAM_ID)}
    case.call_and_validate(headers=headers, checks=CHECKS)
