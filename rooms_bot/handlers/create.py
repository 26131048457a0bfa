"""Creating a room, as a guided flow: market type, coin or mint, title, comparator, target,
duration, review. Each answer is checked by the core's own rule for it; a refused answer
asks the same step again with the reason. /cancel leaves at any step."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from returns.result import Failure, Success

from rooms_bot.callbacks import (
    CreateCancelCb,
    CreateComparatorCb,
    CreateConfirmCb,
    CreateDurationCb,
    CreateKindCb,
    Menu,
    MenuCb,
)
from rooms_bot.handlers.common import TYPED, nonce, show
from rooms_bot.parsing import parse_duration, parse_target
from rooms_bot.screens import (
    Screen,
    asset_label,
    cancel_only,
    create_comparator,
    create_duration,
    create_kind,
    create_review,
    menu_only,
    room_created,
    usd,
)
from rooms_bot.services import BotServices
from rooms_bot.texts import Html, error_text, t
from rooms_core.errors import (
    AssetNotPriceable,
    DomainError,
    InvalidMintAddress,
    InvalidSymbol,
    NotPriceableYet,
    SettleTimeOutOfRange,
    TitleLength,
)
from rooms_core.models import Asset, AssetKind, Comparator, Metric, User
from rooms_core.services import queries, rooms
from rooms_core.services.retry import retrying
from rooms_core.settings import RoomsSettings

router = Router(name="create")


class CreateRoom(StatesGroup):
    kind = State()
    asset = State()
    title = State()
    comparator = State()
    target = State()
    duration = State()
    custom_duration = State()
    review = State()


def _asset(data: dict[str, Any]) -> Asset:
    token = bool(data["token"])
    return Asset(
        kind=AssetKind.TOKEN if token else AssetKind.COIN,
        id=str(data["asset_id"]),
        metric=Metric.MARKET_CAP_USD if token else Metric.PRICE_USD,
    )


def _ask(text: str) -> Screen:
    return Screen(text, cancel_only(CreateCancelCb().pack()))


def _again(error: DomainError, step: Screen) -> Screen:
    """A step asked again, with the reason its answer was refused."""
    return Screen(Html(error_text(error) + "\n\n" + step.text), step.markup)


def _ask_asset(token: bool) -> Screen:
    return _ask(t("create.ask_mint") if token else t("create.ask_symbol"))


def _ask_title(settings: RoomsSettings) -> Screen:
    return _ask(t("create.ask_title", min=settings.title_min_length, max=settings.title_max_length))


def _ask_target(asset: Asset) -> Screen:
    token = asset.kind is AssetKind.TOKEN
    return _ask(
        t(
            "create.ask_target",
            unit=t("unit.market_cap") if token else t("unit.price"),
            example="1.5m" if token else "200",
        )
    )


@router.callback_query(MenuCb.filter(F.to == Menu.CREATE))
async def on_create(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await state.set_state(CreateRoom.kind)
    await show(callback, create_kind())


@router.callback_query(CreateKindCb.filter(), CreateRoom.kind)
async def on_kind(callback: CallbackQuery, callback_data: CreateKindCb, state: FSMContext) -> None:
    await state.update_data(token=callback_data.token)
    await state.set_state(CreateRoom.asset)
    await show(callback, _ask_asset(callback_data.token))


@router.message(CreateRoom.asset, TYPED)
async def on_asset(message: Message, state: FSMContext, services: BotServices) -> None:
    data = await state.get_data()
    token = bool(data["token"])
    metric = Metric.MARKET_CAP_USD if token else Metric.PRICE_USD
    checked = rooms.check_asset(
        AssetKind.TOKEN if token else AssetKind.COIN, message.text or "", metric
    )
    if isinstance(checked, Failure):
        await show(message, _again(checked.failure(), _ask_asset(token)))
        return
    asset = checked.unwrap()
    priceable = await rooms.check_priceable(services.deps, asset)
    if isinstance(priceable, Failure):
        await show(message, _again(priceable.failure(), _ask_asset(token)))
        return
    await state.update_data(asset_id=asset.id)
    await state.set_state(CreateRoom.title)
    price = await queries.current_price(services.deps, asset=asset)
    known = (
        t("create.asset_ok", asset=asset_label(asset), price=usd(price.unwrap().value))
        if isinstance(price, Success)
        else t("create.asset_ok_no_price", asset=asset_label(asset))
    )
    step = _ask_title(services.deps.settings)
    await show(message, Screen(Html(known + "\n\n" + step.text), step.markup))


@router.message(CreateRoom.title, TYPED)
async def on_title(message: Message, state: FSMContext, services: BotServices) -> None:
    settings = services.deps.settings
    checked = rooms.check_title(message.text or "", settings)
    if isinstance(checked, Failure):
        await show(message, _again(checked.failure(), _ask_title(settings)))
        return
    await state.update_data(title=checked.unwrap())
    await state.set_state(CreateRoom.comparator)
    await show(message, create_comparator(_asset(await state.get_data())))


@router.callback_query(CreateComparatorCb.filter(), CreateRoom.comparator)
async def on_comparator(
    callback: CallbackQuery, callback_data: CreateComparatorCb, state: FSMContext
) -> None:
    await state.update_data(at_least=callback_data.at_least)
    await state.set_state(CreateRoom.target)
    await show(callback, _ask_target(_asset(await state.get_data())))


@router.message(CreateRoom.target, TYPED)
async def on_target(message: Message, state: FSMContext, services: BotServices) -> None:
    asset = _asset(await state.get_data())
    value = parse_target(message.text or "")
    if value is None:
        example = "1.5m" if asset.kind is AssetKind.TOKEN else "200"
        await show(message, _ask(t("create.bad_target", example=example)))
        return
    checked = rooms.check_target(value)
    if isinstance(checked, Failure):
        await show(message, _again(checked.failure(), _ask_target(asset)))
        return
    await state.update_data(target=str(checked.unwrap()))
    await state.set_state(CreateRoom.duration)
    await show(message, create_duration(services.duration_presets))


async def _review(
    event: Message | CallbackQuery, state: FSMContext, services: BotServices, minutes: int
) -> None:
    now = services.deps.clock.now()
    settle_at = now + timedelta(minutes=minutes)
    checked = rooms.check_settle_at(settle_at, now, services.deps.settings)
    if isinstance(checked, Failure):
        await state.set_state(CreateRoom.duration)
        await show(event, _again(checked.failure(), create_duration(services.duration_presets)))
        return
    await state.update_data(minutes=minutes, nonce=nonce(services))
    await state.set_state(CreateRoom.review)
    data = await state.get_data()
    await show(event, _review_screen(data, services, now))


def _spec(data: dict[str, Any], now: datetime) -> rooms.RoomSpec:
    asset = _asset(data)
    return rooms.RoomSpec(
        title=str(data["title"]),
        asset_kind=asset.kind,
        asset_id=asset.id,
        metric=asset.metric,
        comparator=Comparator.GTE if data["at_least"] else Comparator.LTE,
        target=Decimal(str(data["target"])),
        settle_at=now + timedelta(minutes=int(data["minutes"])),
    )


def _review_screen(data: dict[str, Any], services: BotServices, now: datetime) -> Screen:
    spec = _spec(data, now)
    settings = services.deps.settings
    lock_at = rooms.default_lock_at(now, spec.settle_at, settings.lock_fraction_bps)
    sign = "≥" if spec.comparator is Comparator.GTE else "≤"
    return create_review(
        title=spec.title,
        room_question=f"{asset_label(_asset(data))} {sign} {usd(spec.target)}",
        settle_at=spec.settle_at,
        lock_at=lock_at,
        now=now,
        host_fee_bps=settings.host_fee_bps,
        nonce=str(data["nonce"]),
    )


@router.callback_query(CreateDurationCb.filter(), CreateRoom.duration)
async def on_duration(
    callback: CallbackQuery,
    callback_data: CreateDurationCb,
    state: FSMContext,
    services: BotServices,
) -> None:
    if callback_data.minutes == 0:
        await state.set_state(CreateRoom.custom_duration)
        await show(callback, _ask(t("create.ask_custom_duration")))
        return
    await _review(callback, state, services, callback_data.minutes)


@router.message(CreateRoom.custom_duration, TYPED)
async def on_custom_duration(message: Message, state: FSMContext, services: BotServices) -> None:
    duration = parse_duration(message.text or "")
    if duration is None:
        await show(message, _ask(t("create.bad_duration")))
        return
    await _review(message, state, services, int(duration.total_seconds() // 60))


# Where the flow goes back to when the final check refuses an answer that passed its step
# (time went by, or a price source went away meanwhile).
_STEP_OF_ERROR: dict[type, State] = {
    SettleTimeOutOfRange: CreateRoom.duration,
    AssetNotPriceable: CreateRoom.asset,
    NotPriceableYet: CreateRoom.asset,
    InvalidSymbol: CreateRoom.asset,
    InvalidMintAddress: CreateRoom.asset,
    TitleLength: CreateRoom.title,
}


@router.callback_query(CreateConfirmCb.filter(), CreateRoom.review)
async def on_confirm(
    callback: CallbackQuery,
    callback_data: CreateConfirmCb,
    state: FSMContext,
    services: BotServices,
    account: User,
) -> None:
    data = await state.get_data()
    if data.get("nonce") != callback_data.nonce:
        await callback.answer(t("stale"), show_alert=True)
        return
    now = services.deps.clock.now()
    created = await retrying(
        partial(
            rooms.create_room,
            services.deps,
            host_id=account.id,
            spec=_spec(data, now),
            idempotency_key=callback_data.nonce,
        )
    )
    if isinstance(created, Failure):
        error = created.failure()
        step = _STEP_OF_ERROR.get(type(error), CreateRoom.review)
        await state.set_state(step)
        again = {
            CreateRoom.duration: create_duration(services.duration_presets),
            CreateRoom.asset: _ask_asset(bool(data["token"])),
            CreateRoom.title: _ask_title(services.deps.settings),
        }.get(step, _review_screen(data, services, now))
        await show(callback, _again(error, again), notice=error_text(error), alert=True)
        return
    await state.clear()
    await show(callback, room_created(created.unwrap()), notice="🎉")


@router.callback_query(CreateConfirmCb.filter())
@router.callback_query(CreateKindCb.filter())
@router.callback_query(CreateComparatorCb.filter())
@router.callback_query(CreateDurationCb.filter())
async def on_out_of_step(callback: CallbackQuery) -> None:
    """A button of a finished or abandoned form (the flow's state has moved on)."""
    await callback.answer(t("create.expired"), show_alert=True)


@router.callback_query(CreateCancelCb.filter())
async def on_cancel(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(callback, menu_only(t("cancel.done")))
