"""The operators' actions, as the bot's admin menu offers them: withdrawals waiting for
approval, pausing and resuming, voiding a room, figures and solvency. Every route needs an
admin (:func:`rooms_core.services.admin.is_admin`); the services check again and write
each action to the audit log with the admin as actor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from returns.result import Failure

from rooms_api.context import Context, CurrentAdmin
from rooms_api.errors import ApiError
from rooms_api.schemas import (
    AdminStatsOut,
    ControlsOut,
    ControlsRequest,
    RejectRequest,
    SolvencyOut,
    VoidOut,
    VoidRequest,
    WithdrawalOut,
)
from rooms_api.spec import ERRORS
from rooms_core.services import admin

router = APIRouter(prefix="/api/admin", tags=["admin"], responses=ERRORS)

WithdrawalId = Annotated[int, Path(ge=1, le=2**62)]
RoomId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/withdrawals", summary="Withdrawals waiting for approval")
async def waiting_withdrawals(
    ctx: Context, user: CurrentAdmin, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[WithdrawalOut]:
    found = await admin.withdrawals_awaiting_approval(ctx.deps, admin_id=user.id, limit=limit)
    if isinstance(found, Failure):
        raise ApiError.of(found.failure())
    return [WithdrawalOut.of(w) for w in found.unwrap()]


@router.post("/withdrawals/{withdrawal_id}/approve", summary="Approve a withdrawal")
async def approve_withdrawal(
    ctx: Context, user: CurrentAdmin, withdrawal_id: WithdrawalId
) -> WithdrawalOut:
    """One admin's approval; a large withdrawal needs several distinct admins."""
    done = await admin.approve_withdrawal(ctx.deps, admin_id=user.id, withdrawal_id=withdrawal_id)
    if isinstance(done, Failure):
        raise ApiError.of(done.failure())
    return WithdrawalOut.of(done.unwrap())


@router.post("/withdrawals/{withdrawal_id}/reject", summary="Reject a withdrawal")
async def reject_withdrawal(
    ctx: Context, user: CurrentAdmin, withdrawal_id: WithdrawalId, request: RejectRequest
) -> WithdrawalOut:
    """Only one still waiting for approval; the amount goes back to the user's balance."""
    done = await admin.reject_withdrawal(
        ctx.deps, admin_id=user.id, withdrawal_id=withdrawal_id, reason=request.reason
    )
    if isinstance(done, Failure):
        raise ApiError.of(done.failure())
    return WithdrawalOut.of(done.unwrap())


@router.post("/controls", summary="Pause or resume betting or withdrawals")
async def set_controls(ctx: Context, user: CurrentAdmin, request: ControlsRequest) -> ControlsOut:
    done = await admin.set_controls(
        ctx.deps,
        admin_id=user.id,
        betting_paused=request.betting_paused,
        withdrawals_paused=request.withdrawals_paused,
    )
    if isinstance(done, Failure):
        raise ApiError.of(done.failure())
    return ControlsOut.of(done.unwrap())


@router.post("/rooms/{room_id}/void", summary="Void a room")
async def void_room(
    ctx: Context, user: CurrentAdmin, room_id: RoomId, request: VoidRequest
) -> VoidOut:
    """Every bet refunded in full, no fee; only a room that has not finished."""
    done = await admin.void_room(ctx.deps, admin_id=user.id, room_id=room_id, reason=request.reason)
    if isinstance(done, Failure):
        raise ApiError.of(done.failure())
    return VoidOut.of(done.unwrap())


@router.get("/stats", summary="Platform figures, with the books")
async def admin_stats(ctx: Context, user: CurrentAdmin) -> AdminStatsOut:
    done = await admin.platform_stats(ctx.deps, admin_id=user.id)
    if isinstance(done, Failure):
        raise ApiError.of(done.failure())
    return AdminStatsOut.of(done.unwrap())


@router.get("/solvency", summary="Held on chain against owed, measured now")
async def solvency(ctx: Context, user: CurrentAdmin) -> SolvencyOut:
    """Needs chain access in this process (503 ``CustodyNotConfigured`` otherwise)."""
    done = await admin.solvency(ctx.deps, admin_id=user.id, custody=ctx.ports.custody)
    if isinstance(done, Failure):
        raise ApiError.of(done.failure())
    report = done.unwrap()
    ctx.metrics.solvency_measured(report)
    return SolvencyOut.of(report)
