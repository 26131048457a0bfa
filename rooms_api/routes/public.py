"""Public reads: rooms (a page by state, one with its odds and price history), platform
figures, the operators' switches. No authentication: nothing here is anyone's own."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from returns.result import Failure

from rooms_api.context import Context
from rooms_api.errors import ApiError
from rooms_api.schemas import (
    ControlsOut,
    PricePointOut,
    PublicStatsOut,
    RoomDetail,
    RoomOut,
    RoomPageOut,
)
from rooms_api.spec import ERRORS
from rooms_core.room import RoomState
from rooms_core.services import admin, queries
from rooms_core.services.queries import ACTIVE_STATES

router = APIRouter(prefix="/api", tags=["rooms"], responses=ERRORS)

RoomId = Annotated[int, Path(ge=1, le=2**62, description="The room's id.")]


@router.get("/rooms", summary="Rooms, a page at a time")
async def list_rooms(
    ctx: Context,
    state: Annotated[
        list[RoomState] | None,
        Query(
            description="Rooms in these states (repeat the parameter); the active ones by "
            "default: QUEUING, OPEN, LOCKED, SETTLING."
        ),
    ] = None,
    page: Annotated[int, Query(ge=0, le=100_000, description="From 0.")] = 0,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RoomPageOut:
    """Rooms oldest first, with their pools and payout multiples."""
    found = await queries.list_rooms(
        ctx.deps, states=state or ACTIVE_STATES, page=page, per_page=per_page
    )
    return RoomPageOut(
        rooms=[RoomOut.of(v) for v in found.rooms],
        page=found.page,
        per_page=per_page,
        has_next=found.has_next,
    )


@router.get("/rooms/{room_id}", summary="One room, with its price history")
async def room_detail(
    ctx: Context,
    room_id: RoomId,
    minutes: Annotated[
        int | None,
        Query(ge=1, le=1440, description="Price history over this many minutes to now."),
    ] = None,
) -> RoomDetail:
    """The room, its pools and multiples, and the oracle's accepted prices of its asset."""
    found = await queries.room_view(ctx.deps, room_id=room_id)
    if isinstance(found, Failure):
        raise ApiError.of(found.failure())
    view = found.unwrap()
    now = ctx.deps.clock.now()
    since = now - timedelta(minutes=minutes or ctx.settings.history_minutes)
    points = await ctx.ports.prices.points(view.room.asset, since, now, ctx.settings.price_points)
    return RoomDetail(
        **RoomOut.of(view).model_dump(),
        prices_since=since,
        prices=[PricePointOut.of(p) for p in points],
    )


@router.get("/stats", tags=["platform"], summary="Platform figures")
async def stats(ctx: Context) -> PublicStatsOut:
    """Users, rooms by state, bets and volume."""
    return PublicStatsOut.of(await admin.read_platform_stats(ctx.deps))


@router.get("/controls", tags=["platform"], summary="The operators' switches")
async def controls(ctx: Context) -> ControlsOut:
    """Whether betting or withdrawals are paused."""
    return ControlsOut.of(await admin.controls(ctx.deps))
