"""The wallet: balance, deposit address (text and QR image), recent history, and
withdrawals as a guided flow (address, amount, confirmation)."""

from __future__ import annotations

import io
from functools import partial

import segno
from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from returns.result import Failure

from rooms_bot.callbacks import Menu, MenuCb, Wallet, WalletCb, WithdrawCancelCb, WithdrawConfirmCb
from rooms_bot.handlers.common import TYPED, balance_of, nonce, show
from rooms_bot.screens import Screen, cancel_only, history, menu_only, withdraw_confirmation
from rooms_bot.screens import wallet as wallet_screen
from rooms_bot.services import BotServices
from rooms_bot.texts import Html, error_text, t
from rooms_core.errors import InsufficientBalance, WithdrawalBelowMinimum
from rooms_core.models import User, WithdrawalState
from rooms_core.money import format_sol, parse_sol
from rooms_core.services import queries, users, wallet
from rooms_core.services.retry import retrying

router = Router(name="wallet")


class Withdraw(StatesGroup):
    address = State()
    amount = State()
    confirm = State()


def deposit_qr_png(address: str) -> bytes:
    """The deposit address as a QR code image (a ``solana:`` URI, which wallets open)."""
    out = io.BytesIO()
    segno.make(f"solana:{address}", error="m").save(out, kind="png", scale=8, border=2)
    return out.getvalue()


async def _address(services: BotServices, account: User) -> str | None:
    if account.deposit_address is not None:
        return account.deposit_address
    # Made at /start; if the custodian was down then, try again now.
    done = await retrying(
        partial(users.sign_up, services.deps, services.signer, telegram_id=account.telegram_id or 0)
    )
    return done.user.deposit_address


@router.message(Command("wallet"))
async def on_wallet_command(message: Message, services: BotServices, account: User) -> None:
    balance = await balance_of(services, account.id)
    await show(message, wallet_screen(balance, await _address(services, account)))


@router.callback_query(MenuCb.filter(F.to == Menu.WALLET))
async def on_wallet(
    callback: CallbackQuery, services: BotServices, account: User, state: FSMContext
) -> None:
    await state.clear()
    balance = await balance_of(services, account.id)
    await show(callback, wallet_screen(balance, await _address(services, account)))


@router.callback_query(WalletCb.filter(F.action == Wallet.QR))
async def on_qr(callback: CallbackQuery, services: BotServices, account: User) -> None:
    address = await _address(services, account)
    if address is None or callback.bot is None:
        await callback.answer(t("wallet.address_pending"), show_alert=True)
        return
    await callback.bot.send_photo(
        callback.from_user.id,
        BufferedInputFile(deposit_qr_png(address), filename="deposit.png"),
        caption=t("wallet.qr_caption", address=address),
    )
    await callback.answer()


@router.callback_query(WalletCb.filter(F.action == Wallet.HISTORY))
async def on_history(callback: CallbackQuery, services: BotServices, account: User) -> None:
    found = await queries.balance_history(services.deps, user_id=account.id, limit=10)
    balance, lines = found.unwrap()  # the account exists: the middleware found it
    await show(callback, history(balance, lines))


def _ask(text: str) -> Screen:
    return Screen(text, cancel_only(WithdrawCancelCb().pack()))


@router.callback_query(WalletCb.filter(F.action == Wallet.WITHDRAW))
async def on_withdraw(
    callback: CallbackQuery, services: BotServices, account: User, state: FSMContext
) -> None:
    balance = await balance_of(services, account.id)
    await state.set_state(Withdraw.address)
    await show(callback, _ask(t("withdraw.ask_address", balance=format_sol(balance))))


@router.message(Withdraw.address, TYPED)
async def on_address(
    message: Message, services: BotServices, account: User, state: FSMContext
) -> None:
    checked = wallet.check_destination(message.text or "")
    balance = await balance_of(services, account.id)
    if isinstance(checked, Failure):
        again = t("withdraw.ask_address", balance=format_sol(balance))
        await show(message, _ask(Html(error_text(checked.failure()) + "\n\n" + again)))
        return
    address = checked.unwrap()
    await state.update_data(address=address)
    await state.set_state(Withdraw.amount)
    settings = services.deps.settings
    await show(
        message,
        _ask(
            t(
                "withdraw.ask_amount",
                address=address,
                min=format_sol(settings.min_withdrawal),
                balance=format_sol(balance),
            )
        ),
    )


@router.message(Withdraw.amount, TYPED)
async def on_amount(
    message: Message, services: BotServices, account: User, state: FSMContext
) -> None:
    data = await state.get_data()
    address = str(data["address"])
    balance = await balance_of(services, account.id)
    settings = services.deps.settings
    text = (message.text or "").strip().lower()
    amount = balance if text in ("all", "max") else parse_sol(text)
    again = t(
        "withdraw.ask_amount",
        address=address,
        min=format_sol(settings.min_withdrawal),
        balance=format_sol(balance),
    )
    problem: str | None = None
    if amount is None:
        problem = t("bet.bad_amount")
    elif amount < settings.min_withdrawal:
        problem = error_text(WithdrawalBelowMinimum(amount, settings.min_withdrawal))
    elif amount > balance:
        problem = error_text(InsufficientBalance(amount, balance))
    if problem is not None or amount is None:
        await show(message, _ask(Html(f"{problem}\n\n{again}")))
        return
    key = nonce(services)
    await state.update_data(amount=amount, nonce=key)
    await state.set_state(Withdraw.confirm)
    await show(message, withdraw_confirmation(amount, address, settings, key))


@router.callback_query(WithdrawConfirmCb.filter(), Withdraw.confirm)
async def on_confirm(
    callback: CallbackQuery,
    callback_data: WithdrawConfirmCb,
    services: BotServices,
    account: User,
    state: FSMContext,
) -> None:
    data = await state.get_data()
    if data.get("nonce") != callback_data.nonce:
        await callback.answer(t("stale"), show_alert=True)
        return
    requested = await retrying(
        partial(
            wallet.request_withdrawal,
            services.deps,
            user_id=account.id,
            destination=str(data["address"]),
            amount=int(data["amount"]),
            idempotency_key=callback_data.nonce,
        )
    )
    await state.clear()
    if isinstance(requested, Failure):
        reason = error_text(requested.failure())
        await show(callback, menu_only(reason), notice=reason, alert=True)
        return
    w = requested.unwrap()
    key = (
        "withdraw.requested_approval"
        if w.state is WithdrawalState.PENDING_APPROVAL
        else "withdraw.requested"
    )
    await show(callback, menu_only(t(key, id=w.id, amount=format_sol(w.amount))))


@router.callback_query(WithdrawConfirmCb.filter())
async def on_stale_confirm(callback: CallbackQuery) -> None:
    await callback.answer(t("create.expired"), show_alert=True)


@router.callback_query(WithdrawCancelCb.filter())
async def on_cancel(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(callback, menu_only(t("withdraw.cancelled")))
