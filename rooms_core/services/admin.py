"""What the operators do: approve or reject withdrawals waiting for approval, pause and
resume betting or withdrawals, void a room with a reason, read platform figures and the
solvency report. Every action checks that the caller is a configured admin
(``RoomsSettings.admin_user_ids``) and is written to the audit log with the admin as actor.
"""

from __future__ import annotations

from dataclasses import dataclass

from returns.result import Failure, Result, Success

from rooms_core.errors import (
    CustodyNotConfigured,
    NotAllowed,
    SettleError,
    WithdrawalError,
)
from rooms_core.ledger import PENDING_WITHDRAWALS
from rooms_core.models import PlatformControls, Withdrawal, WithdrawalState
from rooms_core.parimutuel import SettlementPlan
from rooms_core.ports.chain import ChainError
from rooms_core.room import RoomState
from rooms_core.services import settlement, wallet
from rooms_core.services.custody import Custody, SolvencyReport, check_solvency
from rooms_core.services.deps import Deps


def is_admin(deps: Deps, user_id: int) -> bool:
    return user_id in deps.settings.admin_user_ids


def _allowed(deps: Deps, admin_id: int) -> Failure[NotAllowed] | None:
    return None if is_admin(deps, admin_id) else Failure(NotAllowed(admin_id))


async def set_controls(
    deps: Deps,
    *,
    admin_id: int,
    betting_paused: bool | None = None,
    withdrawals_paused: bool | None = None,
) -> Result[PlatformControls, NotAllowed]:
    """Pause or resume betting and/or withdrawals (``None`` leaves a switch as it is)."""
    if (refused := _allowed(deps, admin_id)) is not None:
        return refused
    async with deps.uow() as uow:
        current = await uow.controls.get()
        changed = PlatformControls(
            current.betting_paused if betting_paused is None else betting_paused,
            current.withdrawals_paused if withdrawals_paused is None else withdrawals_paused,
        )
        if changed != current:
            await uow.controls.set(changed)
            await uow.audit.append(
                f"admin:{admin_id}",
                "platform.controls",
                {
                    "betting_paused": int(changed.betting_paused),
                    "withdrawals_paused": int(changed.withdrawals_paused),
                },
            )
            await uow.commit()
        return Success(changed)


async def controls(deps: Deps) -> PlatformControls:
    """The switches as they are (anyone may read them: the bot tells users)."""
    async with deps.uow() as uow:
        return await uow.controls.get()


async def withdrawals_awaiting_approval(
    deps: Deps, *, admin_id: int, limit: int = 20
) -> Result[list[Withdrawal], NotAllowed]:
    """Withdrawals waiting for admins' approval, oldest first."""
    if (refused := _allowed(deps, admin_id)) is not None:
        return refused
    async with deps.uow() as uow:
        return Success(
            await uow.withdrawals.list_by_state([WithdrawalState.PENDING_APPROVAL], limit)
        )


async def approve_withdrawal(
    deps: Deps, *, admin_id: int, withdrawal_id: int
) -> Result[Withdrawal, NotAllowed | WithdrawalError]:
    """One admin's approval (``withdrawal_approvals_needed`` distinct admins approve it)."""
    if (refused := _allowed(deps, admin_id)) is not None:
        return refused
    return await wallet.approve_withdrawal(deps, withdrawal_id=withdrawal_id, admin_id=admin_id)


async def reject_withdrawal(
    deps: Deps, *, admin_id: int, withdrawal_id: int, reason: str = "rejected by an admin"
) -> Result[Withdrawal, NotAllowed | WithdrawalError]:
    """Reject a withdrawal that waits for approval: the amount goes back to the balance.
    Only one still waiting can be rejected; an approved one may be in signing already."""
    if (refused := _allowed(deps, admin_id)) is not None:
        return refused
    return await wallet.release_withdrawal(
        deps,
        withdrawal_id=withdrawal_id,
        reason=reason,
        actor=f"admin:{admin_id}",
        rejected=True,
        only_from=(WithdrawalState.PENDING_APPROVAL,),
    )


async def void_room(
    deps: Deps, *, admin_id: int, room_id: int, reason: str
) -> Result[SettlementPlan, NotAllowed | SettleError]:
    """Void a room that has not finished: every bet refunded in full, no fee."""
    if (refused := _allowed(deps, admin_id)) is not None:
        return refused
    reason = " ".join(reason.split())[:200] or "voided by an admin"
    return await settlement.void_room(
        deps, room_id=room_id, reason=reason, actor=f"admin:{admin_id}"
    )


@dataclass(frozen=True, slots=True)
class PlatformStats:
    users: int
    rooms_by_state: dict[RoomState, int]
    bets: int
    volume: int  # lamports ever staked
    user_balances: int
    in_rooms: int  # stakes in rooms not yet closed
    pending_withdrawals: int
    protocol_fees: int  # kept by the protocol after referral rewards
    protocol_dust: int
    notifications_waiting: int
    controls: PlatformControls

    @property
    def rooms(self) -> int:
        return sum(self.rooms_by_state.values())


async def platform_stats(deps: Deps, *, admin_id: int) -> Result[PlatformStats, NotAllowed]:
    if (refused := _allowed(deps, admin_id)) is not None:
        return refused
    return Success(await read_platform_stats(deps))


async def read_platform_stats(deps: Deps) -> PlatformStats:
    """The figures without the admin check (for metrics and internal callers)."""
    async with deps.uow() as uow:
        totals = await uow.ledger.total_by_prefix(
            ["user:", "escrow:", PENDING_WITHDRAWALS, "protocol:fees:", "protocol:dust:"]
        )
        bets = await uow.bets.totals()
        return PlatformStats(
            users=await uow.users.count(),
            rooms_by_state=await uow.rooms.count_by_state(),
            bets=bets.count,
            volume=bets.volume,
            user_balances=totals["user:"],
            in_rooms=totals["escrow:"],
            pending_withdrawals=totals[PENDING_WITHDRAWALS],
            protocol_fees=totals["protocol:fees:"],
            protocol_dust=totals["protocol:dust:"],
            notifications_waiting=await uow.outbox.pending_count(),
            controls=await uow.controls.get(),
        )


async def solvency(
    deps: Deps, *, admin_id: int, custody: Custody | None
) -> Result[SolvencyReport, NotAllowed | CustodyNotConfigured | ChainError]:
    """Held on chain against owed in the ledger, measured now."""
    if (refused := _allowed(deps, admin_id)) is not None:
        return refused
    if custody is None:
        return Failure(CustodyNotConfigured())
    measured = await check_solvency(deps, custody.chain, custody.hot_wallet)
    if isinstance(measured, Failure):
        return Failure(measured.failure())
    return Success(measured.unwrap())
