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


def validate_spec(
    spec: RoomSpec, now: datetime, settings: RoomsSettings
) -> Result[Asset, CreateRoomError]:
    """Check a spec without I/O; returns the normalised asset."""
    title = spec.title.strip()
    if not settings.title_min_length <= len(title) <= settings.title_max_length:
        return Failure(
            TitleLength(len(title), settings.title_min_length, settings.title_max_length)
        )
    if not spec.target.is_finite() or spec.target <= 0:
        return Failure(NonPositiveTarget(spec.target))
    earliest = now + settings.min_duration
    latest = now + settings.max_duration
    if not earliest <= spec.settle_at <= latest:
        return Failure(SettleTimeOutOfRange(spec.settle_at, earliest, latest))
    if spec.asset_kind is AssetKind.COIN:
        symbol = spec.asset_id.strip().upper()
        if not SYMBOL_PATTERN.match(symbol):
            return Failure(InvalidSymbol(spec.asset_id))
        return Success(Asset(kind=AssetKind.COIN, id=symbol, metric=spec.metric))
    mint = spec.asset_id.strip()
    if not is_solana_address(mint):
        return Failure(InvalidMintAddress(spec.asset_id))
    return Success(Asset(kind=AssetKind.TOKEN, id=mint, metric=spec.metric))


def default_lock_at(created_at: datetime, settle_at: datetime, lock_fraction_bps: int) -> datetime:
    """``lock_fraction_bps`` of the way from creation to settlement (75% by default),
    truncated to whole microseconds."""
    span = settle_at - created_at
    micros = (span // timedelta(microseconds=1)) * lock_fraction_bps // 10_000
    return created_at + timedelta(microseconds=micros)


async def create_room(deps: Deps, *, host_id: int, spec: RoomSpec) -> Result[Room, CreateRoomError]:
    """Validate a spec, ask the oracle whether the asset can be priced, store the room."""
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
        uow.emit(RoomCreated(room.id, host_id, now))
        await uow.audit.append(
            f"user:{host_id}",
            "room.created",
            {"room_id": room.id, "asset": asset.key, "target": str(spec.target)},
        )
        await uow.commit()
        return Success(room)
