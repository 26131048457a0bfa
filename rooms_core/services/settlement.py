"""Moving rooms through time, settling them once, cancelling and voiding with refunds.

Every closing (settle, cancel, void) of a room writes one journal entry keyed
``settle:<room id>`` that empties the room's escrow, inside the unit of work that takes the
room's exclusive hold, so a room can pay out at most once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from returns.result import Failure, Result, Success

from rooms_core.errors import (
    AlreadySettled,
    LifecycleError,
    NotDue,
    RoomNotFound,
    SettleError,
    SettlementInProgress,
)
from rooms_core.models import BetStatus, NotificationKind, Observation, RefundReason, Side
from rooms_core.notifications import notify, notify_many, save_room
from rooms_core.parimutuel import SettlementPlan, plan_refund_all, plan_settlement
from rooms_core.ports.storage import UnitOfWork
from rooms_core.room import Room, RoomState
from rooms_core.services.deps import Deps

_NOTIFICATION_BY_STATUS = {
    BetStatus.WON: NotificationKind.BET_WON,
    BetStatus.LOST: NotificationKind.BET_LOST,
    BetStatus.REFUNDED: NotificationKind.BET_REFUNDED,
}


async def _hold_open_room(
    uow: UnitOfWork, room_id: int
) -> Result[Room, RoomNotFound | AlreadySettled | SettlementInProgress]:
    """The room, held for this unit of work, if it exists and has not closed yet."""
    held = await uow.rooms.get_for_update(room_id)
    if not isinstance(held, Success):
        return Failure(held.failure())
    room = held.unwrap()
    if room is None:
        return Failure(RoomNotFound(room_id))
    if room.state.is_terminal:
        return Failure(AlreadySettled(room.id, room.state.value))
    return Success(room)


async def advance_room(deps: Deps, *, room_id: int) -> Result[RoomState, LifecycleError]:
    """Apply whatever time-driven transition is due now.

    At ``lock_at``: a room still QUEUING or with an empty pool is CANCELLED (full refunds),
    an OPEN room is LOCKED. At ``settle_at``: a LOCKED room goes to SETTLING and waits for a
    settlement price (:func:`settle_room`) or, after the grace period, :func:`void_room`.
    """
    now = deps.clock.now()
    async with deps.uow() as uow:
        held = await _hold_open_room(uow, room_id)
        if not isinstance(held, Success):
            return Failure(held.failure())
        room = held.unwrap()
        if room.state in (RoomState.QUEUING, RoomState.OPEN) and now >= room.lock_at:
            if room.should_cancel_at_lock():
                reason = (
                    "not enough players" if room.state is RoomState.QUEUING else "one side is empty"
                )
                moved = room.cancel(reason, now)
                if not isinstance(moved, Success):
                    return Failure(moved.failure())
                await _close(uow, room, None, now, refund_reason=RefundReason.CANCELLED)
            else:
                moved = room.lock(now)
                if not isinstance(moved, Success):
                    return Failure(moved.failure())
                await save_room(uow, room)
                bettors = await uow.bets.bettor_ids(room.id)
                locked, rid = NotificationKind.ROOM_LOCKED, room.id
                await notify_many(
                    uow,
                    (
                        (user_id, locked, f"room-locked:{rid}:{user_id}", {"room_id": rid})
                        for user_id in bettors
                    ),
                    now,
                )
        elif room.state is RoomState.LOCKED and now >= room.settle_at:
            moved = room.begin_settling(now, None)
            if not isinstance(moved, Success):
                return Failure(moved.failure())
            await save_room(uow, room)
        else:
            return Failure(NotDue(room.id, _next_due(room)))
        await uow.audit.append("system", "room.advanced", {"room_id": room.id, "to": room.state})
        await uow.commit()
        return Success(room.state)


async def settle_room(
    deps: Deps, *, room_id: int, observation: Observation, instant: bool
) -> Result[SettlementPlan, SettleError]:
    """Settle a room once, on an accepted oracle observation.

    ``instant``: the observation met the target while the room was OPEN or LOCKED; YES
    wins and bets placed at or after ``observation.observed_at`` are refunded. Otherwise
    this is the settlement at ``settle_at``: YES wins if the observation meets the target.
    A second or concurrent attempt gets ``AlreadySettled`` or ``SettlementInProgress``.
    """
    now = deps.clock.now()
    async with deps.uow() as uow:
        held = await _hold_open_room(uow, room_id)
        if not isinstance(held, Success):
            return Failure(held.failure())
        room = held.unwrap()
        if instant:
            if not room.condition_met(observation.value):
                return Failure(NotDue(room.id, room.settle_at))
            if room.state is not RoomState.SETTLING:
                moved = room.begin_settling(now, observation.observed_at)
                if not isinstance(moved, Success):
                    return Failure(moved.failure())
            outcome = Side.YES
        else:
            if now < room.settle_at:
                return Failure(NotDue(room.id, room.settle_at))
            if room.state is not RoomState.SETTLING:
                moved = room.begin_settling(now, None)
                if not isinstance(moved, Success):
                    return Failure(moved.failure())
            outcome = Side.YES if room.condition_met(observation.value) else Side.NO
        marked = room.mark_settled(outcome, observation.value, observation.sources, now)
        if not isinstance(marked, Success):
            return Failure(marked.failure())
        plan = await _close(
            uow,
            room,
            outcome,
            now,
            refund_reason=None,
            referral_levels=deps.settings.referral_level_bps,
        )
        await uow.commit()
        return Success(plan)


async def void_room(
    deps: Deps, *, room_id: int, reason: str, actor: str = "system"
) -> Result[SettlementPlan, SettleError]:
    """Refund every bet without fee: no valid settlement price within the grace period, or
    an admin's decision (``actor``)."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        held = await _hold_open_room(uow, room_id)
        if not isinstance(held, Success):
            return Failure(held.failure())
        room = held.unwrap()
        moved = room.void(reason, now)
        if not isinstance(moved, Success):
            return Failure(moved.failure())
        plan = await _close(uow, room, None, now, refund_reason=RefundReason.VOID, actor=actor)
        await uow.commit()
        return Success(plan)


async def _close(
    uow: UnitOfWork,
    room: Room,
    outcome: Side | None,
    now: datetime,
    *,
    refund_reason: RefundReason | None,
    referral_levels: tuple[int, ...] = (),
    actor: str = "system",
) -> SettlementPlan:
    """Write a room's closing: one balanced entry, bet results, rewards, notifications."""
    bets = await uow.bets.list_for_room(room.id)
    if outcome is None:
        plan = plan_refund_all(room.id, bets, refund_reason or RefundReason.VOID)
    else:
        chains = await uow.users.referrer_chains(
            sorted({b.user_id for b in bets}), len(referral_levels)
        )
        plan = plan_settlement(
            room_id=room.id,
            outcome=outcome,
            bets=bets,
            trigger_at=room.trigger_at,
            protocol_fee_bps=room.protocol_fee_bps,
            host_fee_bps=room.host_fee_bps,
            referral_level_bps=referral_levels,
            referrer_chains=chains,
        )
    if plan.total_pool:
        posted = await uow.ledger.post(plan.journal_entry(room.host_id, now))
        if not isinstance(posted, Success):  # the escrow holds exactly the stakes: a bug if not
            raise RuntimeError(f"room {room.id} escrow cannot cover its closing: {posted}")
        if not posted.unwrap():
            raise RuntimeError(f"room {room.id} was already paid out")
    await uow.bets.record_results(plan.results)
    await save_room(uow, room)
    rewards_by_referrer: dict[int, int] = defaultdict(int)
    record_reward = uow.referrals.record_reward
    for reward in plan.rewards:
        await record_reward(reward.referrer_id, reward.level, reward.amount, room.id, reward.bet_id)
        rewards_by_referrer[reward.referrer_id] += reward.amount
    room_id = room.id
    await notify_many(
        uow,
        (
            (
                r.user_id,
                _NOTIFICATION_BY_STATUS[r.status],
                f"bet-result:{r.bet_id}",
                {
                    "room_id": room_id,
                    "stake": r.stake,
                    "payout": r.payout,
                    "profit": r.payout - r.stake,
                    "reason": str(r.refund_reason or ""),
                },
            )
            for r in plan.results
        ),
        now,
    )
    for referrer_id, amount in sorted(rewards_by_referrer.items()):
        await notify(
            uow,
            user_id=referrer_id,
            kind=NotificationKind.REFERRAL_REWARD,
            dedupe_key=f"referral:{room.id}:{referrer_id}",
            at=now,
            room_id=room.id,
            amount=amount,
        )
    await uow.audit.append(
        actor,
        f"room.{room.state.value.lower()}",
        {
            "room_id": room.id,
            "outcome": outcome.value if outcome else None,
            "total_pool": plan.total_pool,
            "fee": plan.fee,
            "host_fee": plan.host_fee,
            "referrals": plan.referral_total,
            "dust": plan.dust,
            "refunded": plan.refunded,
            "reason": room.close_reason,
        },
    )
    return plan


def _next_due(room: Room) -> datetime:
    if room.state in (RoomState.QUEUING, RoomState.OPEN):
        return room.lock_at
    return room.settle_at
