"""Placing a bet: side, amount (a preset or typed), a confirmation with the projected payout
and the fee, then the result or the precise reason it was refused."""

from __future__ import annotations

from functools import partial

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from returns.result import Failure

from rooms_bot.callbacks import BetAmountCb, BetCancelCb, BetConfirmCb, BetSideCb
from rooms_bot.handlers.common import TYPED, balance_of, nonce, show
from rooms_bot.handlers.rooms import show_room
from rooms_bot.screens import (
    Screen,
    amount_chooser,
    back_to_room,
    bet_confirmation,
    bet_placed,
    cancel_only,
)
from rooms_bot.services import BotServices
from rooms_bot.texts import error_text, t
from rooms_core.errors import StakeAboveMaximum, StakeBelowMinimum
from rooms_core.models import Side, User
from rooms_core.money import parse_sol
from rooms_core.parimutuel import quote_bet
from rooms_core.room import Room
from rooms_core.services import bets, queries
from rooms_core.services.retry import retrying

router = Router(name="bets")


class BetFlow(StatesGroup):
    amount = State()  # waiting for a typed stake


async def _bettable_room(
    callback: CallbackQuery, services: BotServices, account: User, room_id: int
) -> Room | None:
    """The room, if it still takes bets; otherwise the card is shown again with why not
    (a stale button of a locked or settled room)."""
    view = await queries.room_view(services.deps, room_id=room_id)
    if isinstance(view, Failure):
        await callback.answer(error_text(view.failure()), show_alert=True)
        return None
    room = view.unwrap().room
    accepts = room.check_accepts_bet(services.deps.clock.now())
    if isinstance(accepts, Failure):
        await show_room(
            callback, services, account, room_id, notice=error_text(accepts.failure()), alert=True
        )
        return None
    return room


@router.callback_query(BetSideCb.filter())
async def on_side(
    callback: CallbackQuery, callback_data: BetSideCb, services: BotServices, account: User
) -> None:
    room = await _bettable_room(callback, services, account, callback_data.room_id)
    if room is None:
        return
    balance = await balance_of(services, account.id)
    await show(
        callback,
        amount_chooser(
            room, callback_data.side, balance, services.stake_presets, services.deps.settings
        ),
    )


@router.callback_query(BetAmountCb.filter())
async def on_amount(
    callback: CallbackQuery,
    callback_data: BetAmountCb,
    services: BotServices,
    account: User,
    state: FSMContext,
) -> None:
    room = await _bettable_room(callback, services, account, callback_data.room_id)
    if room is None:
        return
    if callback_data.lamports == 0:
        await state.set_state(BetFlow.amount)
        await state.update_data(room_id=room.id, side=callback_data.side.value)
        await show(
            callback,
            Screen(
                t("bet.ask_amount", side=callback_data.side.value, id=room.id),
                cancel_only(BetCancelCb(room_id=room.id).pack()),
            ),
        )
        return
    quote = quote_bet(
        room.yes_pool, room.no_pool, callback_data.side, callback_data.lamports, room.fee_bps
    )
    await show(callback, bet_confirmation(room, callback_data.side, quote, nonce(services)))


@router.message(BetFlow.amount, TYPED)
async def on_typed_amount(
    message: Message, services: BotServices, account: User, state: FSMContext
) -> None:
    data = await state.get_data()
    room_id, side = int(data["room_id"]), Side(data["side"])
    stake = parse_sol(message.text or "")
    settings = services.deps.settings
    if stake is None or stake == 0:
        await message.answer(t("bet.bad_amount"))
        return
    if stake < settings.min_stake:
        await message.answer(error_text(StakeBelowMinimum(stake, settings.min_stake)))
        return
    if stake > settings.max_stake:
        await message.answer(error_text(StakeAboveMaximum(stake, settings.max_stake)))
        return
    view = await queries.room_view(services.deps, room_id=room_id)
    await state.clear()
    if isinstance(view, Failure):
        await message.answer(error_text(view.failure()))
        return
    room = view.unwrap().room
    quote = quote_bet(room.yes_pool, room.no_pool, side, stake, room.fee_bps)
    await show(message, bet_confirmation(room, side, quote, nonce(services)))


@router.callback_query(BetConfirmCb.filter())
async def on_confirm(
    callback: CallbackQuery, callback_data: BetConfirmCb, services: BotServices, account: User
) -> None:
    placed = await retrying(
        partial(
            bets.place_bet,
            services.deps,
            user_id=account.id,
            room_id=callback_data.room_id,
            side=callback_data.side,
            stake=callback_data.lamports,
            idempotency_key=callback_data.nonce,
        )
    )
    if isinstance(placed, Failure):
        reason = error_text(placed.failure())
        await show(callback, back_to_room(reason, callback_data.room_id), notice=reason, alert=True)
        return
    bet = placed.unwrap()
    view = await queries.room_view(services.deps, room_id=bet.room_id)
    balance = await balance_of(services, account.id)
    room = view.unwrap().room
    await show(callback, bet_placed(room, bet.side, bet.stake, balance), notice="✅")


@router.callback_query(BetCancelCb.filter())
async def on_cancel(
    callback: CallbackQuery,
    callback_data: BetCancelCb,
    services: BotServices,
    account: User,
    state: FSMContext,
) -> None:
    await state.clear()
    await show_room(callback, services, account, callback_data.room_id, notice=t("bet.cancelled"))
