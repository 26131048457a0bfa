"""The admin endpoints: only admins (configured by Telegram id or by user id), and each does
what the bot's admin menu does."""

from __future__ import annotations

from rooms_core.models import PlatformControls, Side
from rooms_core.money import sol
from rooms_core.services import admin, wallet
from rooms_core.services.custody import Custody
from rooms_core.settings import RoomsSettings
from tests.api.support import ADMIN_TELEGRAM_ID, Api, client_of, make_api, register

OUTSIDE = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"
ADMIN_ROUTES = [
    ("GET", "/api/admin/withdrawals", None),
    ("POST", "/api/admin/withdrawals/1/approve", None),
    ("POST", "/api/admin/withdrawals/1/reject", {"reason": "no"}),
    ("POST", "/api/admin/controls", {"betting_paused": True}),
    ("POST", "/api/admin/rooms/1/void", {"reason": "test"}),
    ("GET", "/api/admin/stats", None),
    ("GET", "/api/admin/solvency", None),
]


async def test_admin_routes_refuse_everyone_else() -> None:
    api = make_api()
    room = await api.platform.room(await api.platform.user())
    user = await api.platform.user()
    async with client_of(api.app) as client:
        for method, path, body in ADMIN_ROUTES:
            anonymous = await client.request(method, path, json=body)
            assert anonymous.status_code == 401, path
            refused = await client.request(method, path, json=body, headers=api.headers(user))
            assert refused.status_code == 403, path
            assert refused.json() == {"error": "NotAllowed", "message": "Not allowed."}
    assert (await api.platform.get_room(room.id)).state.value == "QUEUING"
    assert await admin.controls(api.platform.deps) == PlatformControls()  # nothing changed


async def admin_headers(api: Api) -> dict[str, str]:
    await register(api, ADMIN_TELEGRAM_ID)
    return api.headers(ADMIN_TELEGRAM_ID)


async def test_an_admin_pauses_betting_and_bets_are_refused_until_resumed() -> None:
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    bettor = await p.user()
    async with client_of(api.app) as client:
        as_admin = await admin_headers(api)
        me = (await client.get("/api/me", headers=as_admin)).json()
        assert me["is_admin"] is True
        paused = await client.post(
            "/api/admin/controls", json={"betting_paused": True}, headers=as_admin
        )
        assert paused.json() == {"betting_paused": True, "withdrawals_paused": False}
        bet = {"room_id": room.id, "side": "YES", "stake_lamports": sol(1), "idempotency_key": "b"}
        refused = await client.post("/api/me/bets", json=bet, headers=api.headers(bettor))
        assert (refused.status_code, refused.json()["error"]) == (503, "BettingPaused")
        await client.post("/api/admin/controls", json={"betting_paused": False}, headers=as_admin)
        accepted = await client.post("/api/me/bets", json=bet, headers=api.headers(bettor))
        assert accepted.status_code == 201


async def test_an_admin_voids_a_room_and_every_stake_comes_back() -> None:
    api = make_api()
    p = api.platform
    room = await p.room(await p.user())
    alice, bob = await p.user(), await p.user()
    await p.bet(alice, room, Side.YES, sol(2))
    await p.bet(bob, room, Side.NO, sol(3))
    async with client_of(api.app) as client:
        as_admin = await admin_headers(api)
        voided = await client.post(
            f"/api/admin/rooms/{room.id}/void", json={"reason": "feed outage"}, headers=as_admin
        )
        assert voided.status_code == 200, voided.text
        assert voided.json()["refunded"]["sol"] == "5"
        again = await client.post(
            f"/api/admin/rooms/{room.id}/void", json={"reason": "again"}, headers=as_admin
        )
        assert (again.status_code, again.json()["error"]) == (409, "AlreadySettled")
        missing = await client.post(
            "/api/admin/rooms/999/void", json={"reason": "x"}, headers=as_admin
        )
        assert missing.status_code == 404
    assert await p.balance(alice) == sol(100)
    assert (await p.get_room(room.id)).close_reason == "feed outage"
    p.check_invariants()


async def test_admins_approve_and_reject_large_withdrawals() -> None:
    settings = RoomsSettings(withdrawal_approvals_needed=1)
    api = make_api(settings=settings)
    p = api.platform
    rich = await p.user(deposit=sol(500))
    waiting = []
    for key in ("w1", "w2"):
        requested = await wallet.request_withdrawal(
            p.deps, user_id=rich.id, destination=OUTSIDE, amount=sol(150), idempotency_key=key
        )
        waiting.append(requested.unwrap().id)
    async with client_of(api.app) as client:
        as_admin = await admin_headers(api)
        listed = (await client.get("/api/admin/withdrawals", headers=as_admin)).json()
        assert [w["id"] for w in listed] == waiting
        assert listed[0]["amount"]["sol"] == "150"
        approved = await client.post(
            f"/api/admin/withdrawals/{waiting[0]}/approve", headers=as_admin
        )
        assert approved.json()["state"] == "APPROVED"
        rejected = await client.post(
            f"/api/admin/withdrawals/{waiting[1]}/reject",
            json={"reason": "looks odd"},
            headers=as_admin,
        )
        assert rejected.json()["state"] == "REJECTED"
        late = await client.post(
            f"/api/admin/withdrawals/{waiting[0]}/reject", json={}, headers=as_admin
        )
        assert (late.status_code, late.json()["error"]) == (409, "WithdrawalStateConflict")
        missing = await client.post("/api/admin/withdrawals/999/approve", headers=as_admin)
        assert (missing.status_code, missing.json()["error"]) == (404, "WithdrawalNotFound")
        stats = (await client.get("/api/admin/stats", headers=as_admin)).json()
    assert stats["pending_withdrawals"]["sol"] == "150"
    assert stats["user_balances"]["sol"] == "350"
    assert await p.balance(rich) == sol(350)


async def test_admins_are_also_configured_by_user_id() -> None:
    api = make_api(settings=RoomsSettings(admin_user_ids=(1,)))
    first = await api.platform.user()
    assert first.id == 1
    async with client_of(api.app) as client:
        stats = await client.get("/api/admin/stats", headers=api.headers(first))
        assert stats.status_code == 200


async def test_solvency_needs_chain_access_and_then_feeds_the_margin_gauge() -> None:
    without = make_api()
    async with client_of(without.app) as client:
        refused = await client.get("/api/admin/solvency", headers=await admin_headers(without))
        assert (refused.status_code, refused.json()["error"]) == (503, "CustodyNotConfigured")

    probe = make_api()
    chain, signer = probe.platform.container.chain(), probe.platform.container.signer()
    hot = (await signer.create_wallet("platform:hot")).unwrap()
    api = make_api(custody=Custody(chain, signer, hot))  # its own chain and signer
    user = await api.platform.user(deposit=sol(10))
    chain.airdrop(hot, sol(12))
    async with client_of(api.app) as client:
        report = (await client.get("/api/admin/solvency", headers=await admin_headers(api))).json()
        assert report["owed"]["sol"] == "10"
        assert report["surplus"]["sol"] == "2"
        assert report["solvent"] is True
        metrics = (await client.get("/metrics")).text
    assert "rooms_solvency_surplus_lamports 2e+09" in metrics
    assert user.id
