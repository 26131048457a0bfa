"""The operators' commands: /admin (withdrawals to approve, pause/resume betting and
withdrawals, stats, solvency) and /void ROOM_ID reason. Every action goes through the core's
admin services, which check the caller; everyone else gets a plain "Not allowed."."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from returns.result import Failure, Result

from rooms_bot.callbacks import Admin, AdminCb, AdminWithdrawalCb
from rooms_bot.handlers.common import show
from rooms_bot.screens import (
    Screen,
    admin_menu,
    admin_result,
    pending_withdrawals,
    solvency,
    stats,
)
from rooms_bot.services import BotServices
from rooms_bot.texts import error_text, t
from rooms_core.errors import DomainError, NotAllowed
from rooms_core.models import PlatformControls, User, WithdrawalState
from rooms_core.money import format_sol
from rooms_core.services import admin

router = Router(name="admin")


async def _refuse(event: Message | CallbackQuery, error: DomainError) -> None:
    if isinstance(event, CallbackQuery):
        await event.answer(error_text(error), show_alert=True)
    else:
        await event.answer(error_text(error))


async def _menu(event: Message | CallbackQuery, services: BotServices, account: User) -> None:
    if not admin.is_admin(services.deps, account.id):
        await _refuse(event, NotAllowed(account.id))
        return
    await show(event, admin_menu(await admin.controls(services.deps)))


@router.message(Command("admin"))
async def on_admin(message: Message, services: BotServices, account: User) -> None:
    await _menu(message, services, account)


@router.callback_query(AdminCb.filter(F.action == Admin.MENU))
async def on_admin_menu(callback: CallbackQuery, services: BotServices, account: User) -> None:
    await _menu(callback, services, account)


def _controls_text(controls: PlatformControls) -> str:
    def state(paused: bool) -> str:
        return t("admin.paused") if paused else t("admin.running")

    return t(
        "admin.controls_set",
        betting=state(controls.betting_paused),
        withdrawals=state(controls.withdrawals_paused),
    )


_SWITCHES: dict[Admin, dict[str, bool]] = {
    Admin.PAUSE_BETTING: {"betting_paused": True},
    Admin.RESUME_BETTING: {"betting_paused": False},
    Admin.PAUSE_WITHDRAWALS: {"withdrawals_paused": True},
    Admin.RESUME_WITHDRAWALS: {"withdrawals_paused": False},
}


@router.callback_query(AdminCb.filter(F.action.in_(set(_SWITCHES))))
async def on_switch(
    callback: CallbackQuery, callback_data: AdminCb, services: BotServices, account: User
) -> None:
    changed = await admin.set_controls(
        services.deps, admin_id=account.id, **_SWITCHES[callback_data.action]
    )
    if isinstance(changed, Failure):
        await _refuse(callback, changed.failure())
        return
    controls = changed.unwrap()
    menu = admin_menu(controls)
    await show(callback, Screen(menu.text, menu.markup), notice=_controls_text(controls))


async def _render(callback: CallbackQuery, result: Result[Screen, DomainError]) -> None:
    if isinstance(result, Failure):
        await _refuse(callback, result.failure())
        return
    await show(callback, result.unwrap())


@router.callback_query(AdminCb.filter(F.action == Admin.PENDING))
async def on_pending(callback: CallbackQuery, services: BotServices, account: User) -> None:
    found = await admin.withdrawals_awaiting_approval(services.deps, admin_id=account.id)
    await _render(callback, found.map(lambda w: pending_withdrawals(w, services.deps.settings)))


@router.callback_query(AdminCb.filter(F.action == Admin.STATS))
async def on_stats(callback: CallbackQuery, services: BotServices, account: User) -> None:
    found = await admin.platform_stats(services.deps, admin_id=account.id)
    await _render(callback, found.map(stats))


@router.callback_query(AdminCb.filter(F.action == Admin.SOLVENCY))
async def on_solvency(callback: CallbackQuery, services: BotServices, account: User) -> None:
    measured = await admin.solvency(services.deps, admin_id=account.id, custody=services.custody)
    await _render(callback, measured.map(solvency))


@router.callback_query(AdminWithdrawalCb.filter())
async def on_decide(
    callback: CallbackQuery,
    callback_data: AdminWithdrawalCb,
    services: BotServices,
    account: User,
) -> None:
    wid = callback_data.withdrawal_id
    if callback_data.approve:
        decided = await admin.approve_withdrawal(
            services.deps, admin_id=account.id, withdrawal_id=wid
        )
        needed = services.deps.settings.withdrawal_approvals_needed
        text = decided.map(
            lambda w: (
                t("admin.approved", id=w.id)
                if w.state is WithdrawalState.APPROVED
                else t("admin.approval_recorded", id=w.id, count=len(w.approvals), needed=needed)
            )
        )
    else:
        decided = await admin.reject_withdrawal(
            services.deps, admin_id=account.id, withdrawal_id=wid
        )
        text = decided.map(lambda w: t("admin.rejected", id=w.id))
    if isinstance(text, Failure):
        await _refuse(callback, text.failure())
        return
    waiting = await admin.withdrawals_awaiting_approval(services.deps, admin_id=account.id)
    screen = pending_withdrawals(waiting.unwrap(), services.deps.settings)
    await show(callback, screen, notice=text.unwrap())


@router.message(Command("void"))
async def on_void(
    message: Message, command: CommandObject, services: BotServices, account: User
) -> None:
    if not admin.is_admin(services.deps, account.id):
        await _refuse(message, NotAllowed(account.id))
        return
    room_raw, _, reason = (command.args or "").strip().partition(" ")
    room_raw = room_raw.lstrip("#")
    if not room_raw.isdigit() or not reason.strip():
        await message.answer(t("admin.void_usage"))
        return
    voided = await admin.void_room(
        services.deps, admin_id=account.id, room_id=int(room_raw), reason=reason
    )
    if isinstance(voided, Failure):
        await _refuse(message, voided.failure())
        return
    plan = voided.unwrap()
    await show(
        message,
        admin_result(
            t(
                "admin.voided",
                id=plan.room_id,
                refunded=format_sol(plan.refunded),
                bets=len(plan.results),
            )
        ),
    )
