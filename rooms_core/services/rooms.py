"""Room creation and its validation."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from returns.result import Failure, Result, Success

from rooms_core.base58 import is_solana_address
from rooms_core.errors import (
    CreateRoomError,
    InvalidMintAddress,
    InvalidSymbol,
    NonPositiveTarget,
    SettleTimeOutOfRange,
    TargetOutOfRange,
    TitleLength,
    UserNotFound,
)
from rooms_core.events import RoomCreated
from rooms_core.models import Asset, AssetKind, Comparator, Metric
from rooms_core.room import Room
from rooms_core.services.deps import Deps
from rooms_core.settings import RoomsSettings

SYMBOL_PATTERN = re.compile(r"^[A-Z0-9]{2,10}$")


class RoomSpec(BaseModel):
    """What a host asks for. Validated by :func:`validate_spec`, not by pydantic, so each
    problem comes back as its own typed error."""

    model_config = ConfigDict(frozen=True)

    title: str
    asset_kind: AssetKind
    asset_id: str
    metric: Metric = Metric.PRICE_USD
    comparator: Comparator
    target: Annotated[Decimal, Field(allow_inf_nan=True)]
    settle_at: datetime
    lock_at: datetime | None = None


def check_title(title: str, settings: RoomsSettings) -> Result[str, TitleLength]:
    """The title, stripped, if its length is within the settings' bounds."""
    title = title.strip()
    if not settings.title_min_length <= len(title) <= settings.title_max_length:
        return Failure(
            TitleLength(len(title), settings.title_min_length, settings.title_max_length)
        )
    return Success(title)


MAX_TARGET = Decimal(10) ** 15  # above any market cap; a price target is far below
MAX_TARGET_DECIMALS = 18


def check_target(target: Decimal) -> Result[Decimal, NonPositiveTarget | TargetOutOfRange]:
    """A positive number up to :data:`MAX_TARGET` with at most 18 decimals."""
    if not target.is_finite() or target <= 0:
        return Failure(NonPositiveTarget(target))
    exponent = target.as_tuple().exponent
    if target > MAX_TARGET or (isinstance(exponent, int) and -exponent > MAX_TARGET_DECIMALS):
        return Failure(TargetOutOfRange(target, MAX_TARGET))
    return Success(target)


def check_settle_at(
    settle_at: datetime, now: datetime, settings: RoomsSettings
) -> Result[datetime, SettleTimeOutOfRange]:
    """Settlement between ``min_duration`` and ``max_duration`` from now."""
    earliest = now + settings.min_duration
    latest = now + settings.max_duration
    if not earliest <= settle_at <= latest:
        return Failure(SettleTimeOutOfRange(settle_at, earliest, latest))
    return Success(settle_at)


def check_asset(
    kind: AssetKind, asset_id: str, metric: Metric = Metric.PRICE_USD
) -> Result[Asset, InvalidSymbol | InvalidMintAddress]:
    """A coin symbol (2-10 letters or digits, upper-cased) or a Solana mint address."""
    if kind is AssetKind.COIN:
        symbol = asset_id.strip().upper()
        if not SYMBOL_PATTERN.match(symbol):
            return Failure(InvalidSymbol(asset_id))
        return Success(Asset(kind=AssetKind.COIN, id=symbol, metric=metric))
    mint = asset_id.strip()
    if not is_solana_address(mint):
        return Failure(InvalidMintAddress(asset_id))
    return Success(Asset(kind=AssetKind.TOKEN, id=mint, metric=metric))


def validate_spec(
    spec: RoomSpec, now: datetime, settings: RoomsSettings
) -> Result[Asset, CreateRoomError]:
    """Check a spec without I/O; returns the normalised asset. (Each check is also its own
    function, so a guided flow can check one answer at a time.)"""
    checks: tuple[Result[object, CreateRoomError], ...] = (
        check_title(spec.title, settings),
        check_target(spec.target),
        check_settle_at(spec.settle_at, now, settings),
    )
    for check in checks:
        if isinstance(check, Failure):
            return Failure(check.failure())
    asset = check_asset(spec.asset_kind, spec.asset_id, spec.metric)
    if isinstance(asset, Failure):
        return Failure(asset.failure())
    return Success(asset.unwrap())


async def check_priceable(deps: Deps, asset: Asset) -> Result[int, CreateRoomError]:
    """Whether the oracle can price ``asset`` (its quorum if so): ``AssetNotPriceable``, or
    ``NotPriceableYet`` for a token too new for the sources to list."""
    priceable = await deps.oracle.check_priceable(asset)
    if isinstance(priceable, Failure):
        return Failure(priceable.failure())
    return Success(priceable.unwrap())


def default_lock_at(created_at: datetime, settle_at: datetime, lock_fraction_bps: int) -> datetime:
    """``lock_fraction_bps`` of the way from creation to settlement (75% by default),
    truncated to whole microseconds."""
    span = settle_at - created_at
    micros = (span // timedelta(microseconds=1)) * lock_fraction_bps // 10_000
    return created_at + timedelta(microseconds=micros)


async def create_room(
    deps: Deps, *, host_id: int, spec: RoomSpec, idempotency_key: str | None = None
) -> Result[Room, CreateRoomError]:
    """Validate a spec, ask the oracle whether the asset can be priced, store the room.

    With an ``idempotency_key``, repeating the request (a double-pressed button) returns
    the room the first one created instead of a second room."""
    request_key = None if idempotency_key is None else f"room:{host_id}:{idempotency_key}"
    if request_key is not None:
        async with deps.uow() as uow:
            previous = await uow.idempotency.get(request_key)
            if previous is not None and (room := await uow.rooms.get(int(previous))):
                return Success(room)
    now = deps.clock.now()
    validated = validate_spec(spec, now, deps.settings)
    if isinstance(validated, Failure):
        return Failure(validated.failure())
    asset = validated.unwrap()
    priceable = await deps.oracle.check_priceable(asset)
    if isinstance(priceable, Failure):
        return Failure(priceable.failure())
    quorum = priceable.unwrap()
    lock_at = spec.lock_at or default_lock_at(now, spec.settle_at, deps.settings.lock_fraction_bps)
    if not now < lock_at <= spec.settle_at:
        lock_at = default_lock_at(now, spec.settle_at, deps.settings.lock_fraction_bps)
    settings = deps.settings
    async with deps.uow() as uow:
        if await uow.users.get(host_id) is None:
            return Failure(UserNotFound(host_id))
        room = Room(
            id=await uow.rooms.next_id(),
            host_id=host_id,
            title=spec.title.strip(),
            asset=asset,
            comparator=spec.comparator,
            target=spec.target,
            created_at=now,
            lock_at=lock_at,
            settle_at=spec.settle_at,
            min_players=settings.min_players,
            quorum=quorum,
            protocol_fee_bps=settings.protocol_fee_bps,
            host_fee_bps=settings.host_fee_bps,
        )
        await uow.rooms.add(room)
        if request_key is not None:
            # A concurrent repeat loses here on the unique key (a transient conflict) and,
            # retried, finds this room above.
            await uow.idempotency.put(request_key, str(room.id))
        uow.emit(RoomCreated(room.id, host_id, now))
        await uow.audit.append(
            f"user:{host_id}",
            "room.created",
            {"room_id": room.id, "asset": asset.key, "target": str(spec.target)},
        )
        await uow.commit()
        return Success(room)
