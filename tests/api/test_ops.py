"""Operations: /metrics (event counters of this process, platform figures from storage),
/health (200 when every check passes, 503 with the failing one named), request logs with
trace ids and without secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from rooms_adapters.system.logs import configure_logging, traced
from rooms_api.health import database_check, oracle_check, redis_check
from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.services import admin
from rooms_core.settings import RoomsSettings
from tests.api.support import BOT_TOKEN, client_of, init_data, make_api
from tests.support import SOL


def value(metrics: str, line_start: str) -> float:
    for line in metrics.splitlines():
        if line.startswith(line_start + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{line_start} not in the metrics")


async def test_metrics_count_this_process_events_and_read_platform_figures() -> None:
    api = make_api(settings=RoomsSettings(admin_user_ids=(1,)))
    p = api.platform
    async with client_of(api.app) as client:
        host = await p.user()
        room = await p.room(host)
        await p.bet(await p.user(), room, Side.YES, sol(2))
        await p.bet(await p.user(), room, Side.NO, sol(1))
        await admin.void_room(p.deps, admin_id=host.id, room_id=room.id, reason="test")
        await p.deps.oracle.observe(SOL)
        p.sources[1].down = True
        await p.deps.oracle.observe(SOL)
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    assert value(text, "rooms_process_bets_total") == 2
    assert value(text, "rooms_process_bet_volume_lamports_total") == sol(3)
    assert value(text, 'rooms_process_rooms_closed_total{outcome="VOID"}') == 1
    assert value(text, "rooms_process_deposits_total") == 3
    assert value(text, "rooms_bets_total") == 2
    assert value(text, "rooms_volume_lamports_total") == sol(3)
    assert value(text, "rooms_users") == 3
    assert value(text, 'rooms_rooms{state="VOID"}') == 1
    assert value(text, "rooms_user_balances_lamports") == sol(300)
    assert value(text, "rooms_deposits_total") == 3
    assert value(text, "rooms_outbox_waiting") > 0
    assert value(text, "rooms_outbox_sent_total") == 0
    assert value(text, 'rooms_oracle_source_used{source="feed0"}') == 2
    assert value(text, 'rooms_oracle_source_rejections{reason="unavailable",source="feed1"}') == 1
    assert "rooms_process_settlement_latency_seconds_bucket" in text


async def test_settlement_latency_is_measured_from_the_hit_to_settled() -> None:
    api = make_api()
    p = api.platform
    from rooms_core.services import engine

    async with client_of(api.app) as client:
        room = await p.room(await p.user(), target="151")
        await p.bet(await p.user(), room, Side.YES, sol(1))
        await p.bet(await p.user(), room, Side.NO, sol(1))
        hit = p.observation("152")
        p.clock.advance(2)
        await engine.settle_on_hit(p.deps, room=await p.get_room(room.id), observation=hit)
        text = (await client.get("/metrics")).text
    assert value(text, 'rooms_process_rooms_closed_total{outcome="YES"}') == 1
    assert value(text, "rooms_process_settlement_latency_seconds_count") == 1
    assert value(text, "rooms_process_settlement_latency_seconds_sum") == 2
    assert value(text, 'rooms_process_settlement_latency_seconds_bucket{le="2.0"}') == 1
    assert value(text, 'rooms_process_settlement_latency_seconds_bucket{le="1.0"}') == 0


async def test_health_is_200_when_every_check_passes() -> None:
    api = make_api()
    async with client_of(api.app) as client:
        answer = await client.get("/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "oracle"}
    assert body["checks"]["oracle"]["detail"].startswith("SOL = 150 from feed0, feed1")


async def test_health_is_503_naming_the_failing_check() -> None:
    probe = make_api()

    def broken_uow() -> object:
        raise ConnectionRefusedError("database down")

    deps = probe.platform.deps
    from dataclasses import replace

    async def slow() -> str:
        import asyncio

        await asyncio.sleep(10)
        return "never"

    api = make_api(
        checks={
            "database": database_check(replace(deps, uow=broken_uow)),  # type: ignore[arg-type]
            "oracle": oracle_check(deps, SOL),
            "redis": redis_check("redis://127.0.0.1:1/0"),
            "slow": slow,
        }
    )
    api.app.state.rooms.settings = replace(api.app.state.rooms.settings, health_timeout=0.5)
    for source in probe.platform.sources:
        source.down = True
    async with client_of(api.app) as client:
        answer = await client.get("/health")
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert {name: c["ok"] for name, c in checks.items()} == {
        "database": False,
        "oracle": False,
        "redis": False,
        "slow": False,
    }
    assert checks["oracle"]["detail"].startswith("No consensus price for SOL"), checks
    assert checks["slow"]["detail"] == "no answer within 0.5 s"


async def test_redis_check_passes_on_the_local_server() -> None:
    assert await redis_check("redis://127.0.0.1:6379/0")() == "PONG"


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(json=True, level="INFO", secrets=[BOT_TOKEN], stream=stream)
    try:
        yield stream
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            root.removeHandler(handler)
        root.setLevel(logging.WARNING)


async def test_requests_are_logged_with_a_trace_id_and_no_secret(json_logs: io.StringIO) -> None:
    api = make_api()
    user = await api.platform.user()
    assert user.telegram_id is not None
    data = init_data(user.telegram_id, api.platform.clock.now())
    digest = data.rsplit("hash=", 1)[1]
    async with client_of(api.app) as client:
        answer = await client.get(
            "/api/me", headers={"Authorization": f"tma {data}", "X-Request-Id": "req-12345678"}
        )
        assert answer.headers["x-trace-id"] == "req-12345678"
        other = await client.get("/api/rooms")
        logging.getLogger("rooms.test").warning(
            "a careless line: token %s, header tma %s, hash=%s", BOT_TOKEN, data, digest
        )
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    requests = [x for x in lines if x.get("logger") == "rooms.api.request"]
    assert [x["trace_id"] for x in requests[:2]] == ["req-12345678", other.headers["x-trace-id"]]
    assert requests[0]["status"] == 200
    assert requests[0]["path"] == "/api/me"
    text = json_logs.getvalue()
    for secret in (BOT_TOKEN, digest, data):
        assert secret not in text
    assert "[redacted]" in text


def test_the_bots_helper_gives_each_update_its_trace_id(json_logs: io.StringIO) -> None:
    log = logging.getLogger("rooms.bot")
    with traced() as first:
        log.info("update one", extra={"bot_token": BOT_TOKEN})
        with traced("inner-trace-1") as inner:
            log.info("nested")
        log.info("back")
    log.info("outside")
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    assert [x.get("trace_id") for x in lines] == [first, inner, first, None]
    assert lines[0]["bot_token"] == "[redacted]"
