"""REST: rooms (pages by state, detail with odds and prices), my account, bets, history and
referrals, placing a bet; errors in one shape; nobody sees another user's data."""

from __future__ import annotations

from decimal import Decimal

from rooms_core.models import Side
from rooms_core.money import sol
from tests.api.support import client_of, make_api
from tests.support import SOL


async def test_rooms_come_by_state_a_page_at_a_time() -> None:
    api = make_api()
    p = api.platform
    host = await p.user()
    made = [await p.room(host) for _ in range(5)]
    await p.bet(await p.user(), made[0], Side.YES, sol(2))
    await p.bet(await p.user(), made[0], Side.NO, sol(1))
    async with client_of(api.app) as client:
        first = (await client.get("/api/rooms", params={"per_page": 2})).json()
        assert [r["id"] for r in first["rooms"]] == [made[0].id, made[1].id]
        assert first["has_next"] is True
        last = (await client.get("/api/rooms", params={"per_page": 2, "page": 2})).json()
        assert [r["id"] for r in last["rooms"]] == [made[4].id]
        assert last["has_next"] is False
        open_only = (await client.get("/api/rooms", params={"state": "OPEN"})).json()
        assert [r["id"] for r in open_only["rooms"]] == [made[0].id]
        several = await client.get("/api/rooms", params=[("state", "OPEN"), ("state", "QUEUING")])
        assert len(several.json()["rooms"]) == 5
        bad = await client.get("/api/rooms", params={"state": "NOPE"})
        assert bad.status_code == 422
        assert bad.json()["error"] == "InvalidRequest"


async def test_a_room_shows_pools_in_lamports_and_sol_multiples_and_prices() -> None:
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    await p.bet(await p.user(), room, Side.YES, sol(3))
    await p.bet(await p.user(), room, Side.NO, sol(1))
    for price in ["150", "151.5", "149.25"]:
        p.clock.advance(90)
        p.set_price(price)
        await p.deps.oracle.observe(SOL)  # the oracle records each decision
    async with client_of(api.app) as client:
        detail = (await client.get(f"/api/rooms/{room.id}")).json()
        brief = (await client.get(f"/api/rooms/{room.id}", params={"minutes": 1})).json()
    assert detail["state"] == "OPEN"
    assert detail["yes_pool"] == {"lamports": 3_000_000_000, "sol": "3"}
    assert detail["total_pool"]["sol"] == "4"
    # T = 4 SOL, fee 3%: YES 3.88 / 3 = 1.2933..., NO 3.88 / 1.
    assert (detail["yes_multiple"], detail["no_multiple"]) == ("1.2933", "3.8800")
    assert detail["yes_share"] == "0.7500"
    assert Decimal(detail["target"]) == Decimal(200)
    assert [Decimal(x["value"]) for x in detail["prices"]] == [
        Decimal("150"),
        Decimal("151.5"),
        Decimal("149.25"),
    ]
    assert [Decimal(x["value"]) for x in brief["prices"]] == [Decimal("149.25")]


async def test_an_unknown_room_is_a_404_in_the_error_shape() -> None:
    api = make_api()
    async with client_of(api.app) as client:
        missing = await client.get("/api/rooms/999")
        assert missing.status_code == 404
        assert missing.json() == {"error": "RoomNotFound", "message": "That room does not exist."}
        for bad in ("/api/rooms/0", "/api/rooms/abc", f"/api/rooms/{2**64}"):
            answer = await client.get(bad)
            assert answer.status_code == 422, bad
            assert set(answer.json()) == {"error", "message"}
        nowhere = await client.get("/api/nothing-here")
        assert nowhere.status_code == 404
        assert nowhere.json()["error"] == "NotFound"


async def test_i_place_a_bet_and_see_it_with_its_projection_then_my_history() -> None:
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    await p.bet(await p.user(), room, Side.NO, sol(1))
    me = await p.user(deposit=sol(5))
    request = {"room_id": room.id, "side": "YES", "stake_lamports": sol(2), "idempotency_key": "k1"}
    async with client_of(api.app) as client:
        placed = await client.post("/api/me/bets", json=request, headers=api.headers(me))
        assert placed.status_code == 201, placed.text
        assert placed.json()["stake"] == {"lamports": 2_000_000_000, "sol": "2"}
        again = await client.post("/api/me/bets", json=request, headers=api.headers(me))
        assert again.json()["id"] == placed.json()["id"]  # idempotent
        other = await client.post(
            "/api/me/bets", json={**request, "stake_lamports": sol(1)}, headers=api.headers(me)
        )
        assert other.status_code == 409
        assert other.json()["error"] == "IdempotencyConflict"

        mine = (await client.get("/api/me/bets", headers=api.headers(me))).json()
        assert [b["id"] for b in mine] == [placed.json()["id"]]
        # T = 3 SOL, fee 0.09: distributable 2.91, all of it to my 2 SOL if YES wins.
        assert mine[0]["quote"]["payout_if_win"]["sol"] == "2.91"
        assert mine[0]["profit"] is None
        history = (await client.get("/api/me/history", headers=api.headers(me))).json()
        assert history["balance"]["sol"] == "3"
        assert [(x["kind"], x["amount"]["sol"], x["room_id"]) for x in history["lines"]] == [
            ("BET", "-2", room.id),
            ("DEPOSIT", "5", None),
        ]


async def test_refused_bets_answer_with_the_domain_error() -> None:
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    poor = await p.user(deposit=sol("0.5"))
    async with client_of(api.app) as client:

        async def bet(stake: int, room_id: int = room.id, key: str = "x") -> tuple[int, str]:
            answer = await client.post(
                "/api/me/bets",
                json={
                    "room_id": room_id,
                    "side": "NO",
                    "stake_lamports": stake,
                    "idempotency_key": key,
                },
                headers=api.headers(poor),
            )
            return answer.status_code, answer.json()["error"]

        assert await bet(sol(1)) == (409, "InsufficientBalance")
        assert await bet(1) == (422, "StakeBelowMinimum")
        assert await bet(sol(1), room_id=12345, key="y") == (404, "RoomNotFound")
        assert await bet(0) == (422, "InvalidRequest")
        assert await bet(sol(1), key="spaces are not allowed") == (422, "InvalidRequest")


async def test_nobody_sees_another_users_bets_history_or_referrals() -> None:
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    alice = await p.user()
    bob = await p.user(referral_code=alice.referral_code)
    await p.bet(alice, room, Side.YES, sol(1))
    await p.bet(bob, room, Side.NO, sol(7))
    async with client_of(api.app) as client:
        bobs = (await client.get("/api/me/bets", headers=api.headers(bob))).json()
        assert [b["stake"]["sol"] for b in bobs] == ["7"]
        alices = (await client.get("/api/me/bets", headers=api.headers(alice))).json()
        assert [b["stake"]["sol"] for b in alices] == ["1"]
        # A user id in the query changes nothing: the user comes from the signed initData.
        sneaky = await client.get(
            "/api/me/bets", params={"user_id": alice.id}, headers=api.headers(bob)
        )
        assert [b["stake"]["sol"] for b in sneaky.json()] == ["7"]
        history = (await client.get("/api/me/history", headers=api.headers(bob))).json()
        assert all(line["amount"]["sol"] != "-1" for line in history["lines"])
        referrals = (await client.get("/api/me/referrals", headers=api.headers(alice))).json()
        assert referrals["code"] == alice.referral_code
        assert referrals["levels"][0]["referred"] == 1
        bobs_referrals = (await client.get("/api/me/referrals", headers=api.headers(bob))).json()
        assert bobs_referrals["code"] == bob.referral_code
        assert bobs_referrals["levels"][0]["referred"] == 0
    paths = api.app.openapi()["paths"]
    assert not any(
        "user" in name
        for path in paths.values()
        for op in path.values()
        for name in (p["name"] for p in op.get("parameters", ()))
    )


async def test_public_stats_and_switches() -> None:
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    await p.bet(await p.user(), room, Side.YES, sol(2))
    async with client_of(api.app) as client:
        stats = (await client.get("/api/stats")).json()
        controls = (await client.get("/api/controls")).json()
    assert (stats["users"], stats["rooms"], stats["bets"]) == (2, 1, 1)
    assert stats["volume"]["sol"] == "2"
    assert stats["rooms_by_state"] == {"QUEUING": 1}
    assert "user_balances" not in stats  # the books are for admins
    assert controls == {"betting_paused": False, "withdrawals_paused": False}
