"""The caller's own data (authenticated by the Mini App's initData): their account, bets,
balance history and referrals, and placing a bet. A user only ever sees their own: every
route here takes the user from the signed initData, never from a parameter."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, status
from returns.result import Failure

from rooms_api.context import Context, CurrentUser
from rooms_api.errors import ApiError
from rooms_api.schemas import (
    Amount,
    BetOut,
    BetRequest,
    HistoryLineOut,
    HistoryOut,
    MeOut,
    ReferralsOut,
)
from rooms_api.spec import ERRORS
from rooms_core.models import BetStatus
from rooms_core.parimutuel import quote_existing_bet
from rooms_core.services import admin, bets, queries, users, wallet
from rooms_core.services.queries import BetView
from rooms_core.services.retry import retrying

router = APIRouter(prefix="/api/me", tags=["me"], responses=ERRORS)

Limit = Annotated[int, Query(ge=1, le=100)]


@router.get("", summary="My account")
async def me(ctx: Context, user: CurrentUser) -> MeOut:
    balance = await wallet.balance(ctx.deps, user_id=user.id)
    return MeOut.of(user, balance, admin.is_admin(ctx.admit(user), user.id))


@router.get("/bets", summary="My bets")
async def my_bets(
    ctx: Context, user: CurrentUser, limit: Limit = 20, active: bool = False
) -> list[BetOut]:
    """Newest first; ``active=true`` for the open ones only (with their projections)."""
    found = await queries.user_bets(ctx.deps, user_id=user.id, limit=limit)
    if active:
        found = [v for v in found if not v.settled]
    return [BetOut.of(v) for v in found]


@router.post(
    "/bets", status_code=status.HTTP_201_CREATED, summary="Place a bet", response_model=BetOut
)
async def place_bet(ctx: Context, user: CurrentUser, request: BetRequest) -> BetOut:
    """Stake from my balance on one side of a room. Repeating a request with the same
    ``idempotency_key`` returns the first bet (the same key for another bet is a 409)."""
    placed = await retrying(
        partial(
            bets.place_bet,
            ctx.deps,
            user_id=user.id,
            room_id=request.room_id,
            side=request.side,
            stake=request.stake_lamports,
            idempotency_key=request.idempotency_key,
        )
    )
    if isinstance(placed, Failure):
        raise ApiError.of(placed.failure())
    bet = placed.unwrap()
    view = (await queries.room_view(ctx.deps, room_id=bet.room_id)).unwrap()
    room = view.room
    quote = None
    if bet.status is BetStatus.ACTIVE:
        quote = quote_existing_bet(room.yes_pool, room.no_pool, bet.side, bet.stake, room.fee_bps)
    return BetOut.of(BetView(bet, room, quote))


@router.get("/history", summary="My balance and its movements")
async def my_history(ctx: Context, user: CurrentUser, limit: Limit = 20) -> HistoryOut:
    found = await queries.balance_history(ctx.deps, user_id=user.id, limit=limit)
    if isinstance(found, Failure):
        raise ApiError.of(found.failure())
    balance, lines = found.unwrap()
    return HistoryOut(balance=Amount.of(balance), lines=[HistoryLineOut.of(x) for x in lines])


@router.get("/referrals", summary="My referrals and what they earned me")
async def my_referrals(ctx: Context, user: CurrentUser) -> ReferralsOut:
    found = await users.referral_stats(ctx.deps, user_id=user.id)
    if isinstance(found, Failure):
        raise ApiError.of(found.failure())
    return ReferralsOut.of(found.unwrap())
