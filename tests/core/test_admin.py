"""The operators' actions: only admins may take them, each is audited, and pausing betting
or withdrawals is enforced by the services themselves."""

from __future__ import annotations

import dataclasses

import pytest
from returns.result import Failure, Success

from rooms_core.errors import (
    BettingPaused,
    CustodyNotConfigured,
    NotAllowed,
    RoomClosedForBets,
    WithdrawalNotFound,
    WithdrawalsPaused,
    WithdrawalStateConflict,
)
from rooms_core.models import BetStatus, PlatformControls, RefundReason, Side, User, WithdrawalState
from rooms_core.money import sol
from rooms_core.room import RoomState
from rooms_core.services import admin, wallet
from rooms_core.settings import RoomsSettings
from tests.support import Platform, err, ok

OUTSIDE = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


@pytest.fixture
async def admins(platform: Platform) -> tuple[User, User]:
    """Two admins configured on the platform's settings."""
    first, second = await platform.user(deposit=0), await platform.user(deposit=0)
    platform.deps = dataclasses.replace(
        platform.deps,
        settings=RoomsSettings(admin_user_ids=(first.id, second.id)),
    )
    return first, second


async def test_everyone_else_is_not_allowed(platform: Platform, admins: tuple[User, User]) -> None:
    someone = await platform.user()
    room = await platform.room(someone)
    deps, uid = platform.deps, someone.id
    for refused in (
        await admin.set_controls(deps, admin_id=uid, betting_paused=True),
        await admin.withdrawals_awaiting_approval(deps, admin_id=uid),
        await admin.approve_withdrawal(deps, admin_id=uid, withdrawal_id=1),
        await admin.reject_withdrawal(deps, admin_id=uid, withdrawal_id=1),
        await admin.void_room(deps, admin_id=uid, room_id=room.id, reason="x"),
        await admin.platform_stats(deps, admin_id=uid),
        await admin.solvency(deps, admin_id=uid, custody=None),
    ):
        assert refused == Failure(NotAllowed(uid))
    assert await admin.controls(deps) == PlatformControls()
    assert (await platform.get_room(room.id)).state is RoomState.QUEUING


async def test_paused_betting_refuses_new_bets_and_replays_still_answer(
    platform: Platform, admins: tuple[User, User]
) -> None:
    boss = admins[0]
    alice, bob = await platform.user(), await platform.user()
    room = await platform.room(await platform.user())
    first = await platform.bet(alice, room, Side.YES, sol(1), key="k1")
    ok(await admin.set_controls(platform.deps, admin_id=boss.id, betting_paused=True))

    assert err(await platform.try_bet(bob, room, Side.NO, sol(1))) == BettingPaused()
    assert await platform.try_bet(alice, room, Side.YES, sol(1), key="k1") == Success(first)
    assert await platform.balance(bob) == sol(100)

    controls = ok(await admin.set_controls(platform.deps, admin_id=boss.id, betting_paused=False))
    assert controls == PlatformControls()
    await platform.bet(bob, room, Side.NO, sol(1))
    async with platform.deps.uow() as uow:
        actions = [(r.actor, r.action) for r in await uow.audit.records()]
    assert actions.count((f"admin:{boss.id}", "platform.controls")) == 2
    platform.check_invariants()


async def test_setting_a_switch_to_what_it_is_writes_nothing(
    platform: Platform, admins: tuple[User, User]
) -> None:
    boss = admins[0]
    ok(await admin.set_controls(platform.deps, admin_id=boss.id, withdrawals_paused=False))
    async with platform.deps.uow() as uow:
        assert not [r for r in await uow.audit.records() if r.action == "platform.controls"]


async def test_paused_withdrawals_refuse_new_requests(
    platform: Platform, admins: tuple[User, User]
) -> None:
    user = await platform.user()
    ok(await admin.set_controls(platform.deps, admin_id=admins[0].id, withdrawals_paused=True))
    refused = await wallet.request_withdrawal(
        platform.deps, user_id=user.id, destination=OUTSIDE, amount=sol(1), idempotency_key="w"
    )
    assert refused == Failure(WithdrawalsPaused())
    assert await platform.balance(user) == sol(100)


async def test_large_withdrawal_approved_by_two_admins_or_rejected(
    platform: Platform, admins: tuple[User, User]
) -> None:
    first, second = admins
    user = await platform.user(deposit=sol(500))

    async def big(key: str) -> int:
        w = ok(
            await wallet.request_withdrawal(
                platform.deps,
                user_id=user.id,
                destination=OUTSIDE,
                amount=sol(150),
                idempotency_key=key,
            )
        )
        assert w.state is WithdrawalState.PENDING_APPROVAL
        return w.id

    approved, rejected = await big("a"), await big("b")
    waiting = ok(await admin.withdrawals_awaiting_approval(platform.deps, admin_id=first.id))
    assert [w.id for w in waiting] == [approved, rejected]

    ok(await admin.approve_withdrawal(platform.deps, admin_id=first.id, withdrawal_id=approved))
    done = ok(
        await admin.approve_withdrawal(platform.deps, admin_id=second.id, withdrawal_id=approved)
    )
    assert done.state is WithdrawalState.APPROVED
    # An approved withdrawal may be in signing: it can no longer be rejected.
    assert err(
        await admin.reject_withdrawal(platform.deps, admin_id=first.id, withdrawal_id=approved)
    ) == WithdrawalStateConflict(approved, "APPROVED")

    gone = ok(
        await admin.reject_withdrawal(
            platform.deps, admin_id=second.id, withdrawal_id=rejected, reason="looks like fraud"
        )
    )
    assert gone.state is WithdrawalState.REJECTED
    assert gone.failure_reason == "looks like fraud"
    assert await platform.balance(user) == sol(350)  # 150 reserved for the approved one
    assert err(
        await admin.reject_withdrawal(platform.deps, admin_id=first.id, withdrawal_id=999)
    ) == WithdrawalNotFound(999)
    waiting = ok(await admin.withdrawals_awaiting_approval(platform.deps, admin_id=first.id))
    assert waiting == []
    platform.check_invariants()


async def test_admin_voids_a_room_with_full_refunds(
    platform: Platform, admins: tuple[User, User]
) -> None:
    boss = admins[0]
    alice, bob = await platform.user(), await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(alice, room, Side.YES, sol(3))
    await platform.bet(bob, room, Side.NO, sol(2))

    plan = ok(
        await admin.void_room(
            platform.deps, admin_id=boss.id, room_id=room.id, reason="  bad\nfeed "
        )
    )

    assert plan.fee == 0
    assert plan.refunded == sol(5)
    voided = await platform.get_room(room.id)
    assert voided.state is RoomState.VOID
    assert voided.close_reason == "bad feed"
    assert await platform.balance(alice) == await platform.balance(bob) == sol(100)
    async with platform.deps.uow() as uow:
        bets = await uow.bets.list_for_room(room.id)
        records = await uow.audit.records()
    assert {(b.status, b.refund_reason) for b in bets} == {(BetStatus.REFUNDED, RefundReason.VOID)}
    assert (records[-1].actor, records[-1].action) == (f"admin:{boss.id}", "room.void")
    again = await admin.void_room(platform.deps, admin_id=boss.id, room_id=room.id, reason="x")
    assert isinstance(again, Failure)
    late = await platform.try_bet(alice, room, Side.YES, sol(1), key="after-void")
    assert isinstance(err(late), RoomClosedForBets)
    platform.check_invariants()


async def test_platform_stats_add_up(platform: Platform, admins: tuple[User, User]) -> None:
    boss = admins[0]
    alice, bob = await platform.user(), await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(alice, room, Side.YES, sol(3))
    await platform.bet(bob, room, Side.NO, sol(2))
    await platform.room(alice)

    stats = ok(await admin.platform_stats(platform.deps, admin_id=boss.id))

    assert stats.users == 5
    assert stats.rooms_by_state == {RoomState.OPEN: 1, RoomState.QUEUING: 1}
    assert stats.rooms == 2
    assert (stats.bets, stats.volume) == (2, sol(5))
    assert stats.in_rooms == sol(5)
    assert stats.user_balances == sol(300) - sol(5)  # three funded users; admins hold 0
    assert stats.notifications_waiting == len(platform.store.outbox_pending)
    assert stats.controls == PlatformControls()


async def test_solvency_needs_custody_in_this_process(
    platform: Platform, admins: tuple[User, User]
) -> None:
    refused = await admin.solvency(platform.deps, admin_id=admins[0].id, custody=None)
    assert refused == Failure(CustodyNotConfigured())
