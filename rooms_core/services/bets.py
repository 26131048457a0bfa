"""Placing a bet: stake from the user's balance into the room's escrow, atomically."""

from __future__ import annotations

from returns.result import Failure, Result, Success

from rooms_core.errors import (
    AlreadyBet,
    BetError,
    BettingPaused,
    IdempotencyConflict,
    InsufficientBalance,
    RoomNotFound,
    StakeAboveMaximum,
    StakeBelowMinimum,
    UserNotFound,
)
from rooms_core.events import BetPlaced
from rooms_core.ledger import EntryKind, JournalEntry, escrow_account, user_account
from rooms_core.models import Bet, BetStatus, NotificationKind, Side, construct
from rooms_core.notifications import notify, save_room
from rooms_core.services.deps import Deps


def bet_request_key(user_id: int, idempotency_key: str) -> str:
    return f"bet:{user_id}:{idempotency_key}"


async def place_bet(
    deps: Deps,
    *,
    user_id: int,
    room_id: int,
    side: Side,
    stake: int,
    idempotency_key: str,
) -> Result[Bet, BetError]:
    """Place a user's one bet in a room.

    Replaying the same ``idempotency_key`` returns the first bet unchanged; the same key
    for a different request is an ``IdempotencyConflict``. The lock time is checked
    against the server clock at the moment of writing. While the operators have paused
    betting every new bet is refused (``BettingPaused``).
    """
    settings = deps.settings
    request_key = bet_request_key(user_id, idempotency_key)
    async with deps.uow() as uow:
        view = await uow.bets.placement_view(user_id, room_id, request_key)
        if view.previous_ref is not None:
            bet = await uow.bets.get(int(view.previous_ref))
            if bet is not None and (bet.room_id, bet.side, bet.stake) == (room_id, side, stake):
                return Success(bet)
            return Failure(IdempotencyConflict(idempotency_key))
        if view.betting_paused:
            return Failure(BettingPaused())
        if stake < settings.min_stake:
            return Failure(StakeBelowMinimum(stake, settings.min_stake))
        if stake > settings.max_stake:
            return Failure(StakeAboveMaximum(stake, settings.max_stake))
        now = deps.clock.now()
        room = view.room
        if room is None:
            return Failure(RoomNotFound(room_id))
        accepts = room.check_accepts_bet(now)
        if not isinstance(accepts, Success):
            return Failure(accepts.failure())
        if view.has_bet:
            return Failure(AlreadyBet(room_id, user_id))
        if not view.user_exists:
            return Failure(UserNotFound(user_id))

        bet = construct(
            Bet,
            id=await uow.bets.next_id(),
            room_id=room_id,
            user_id=user_id,
            side=side,
            stake=stake,
            placed_at=now,
            idempotency_key=idempotency_key,
            status=BetStatus.ACTIVE,
            payout=0,
            refund_reason=None,
        )
        entry = JournalEntry.transfer(
            f"bet:{room_id}:{user_id}",
            EntryKind.BET,
            now,
            user_account(user_id),
            escrow_account(room_id),
            stake,
        )
        posted = await uow.ledger.post(entry)
        if not isinstance(posted, Success):
            funds = posted.failure()
            return Failure(InsufficientBalance(stake, funds.available))
        if not posted.unwrap():  # the stake entry exists: a bet committed since the view
            return Failure(AlreadyBet(room_id, user_id))
        added = await uow.bets.add(bet)
        if not isinstance(added, Success):
            return Failure(added.failure())
        room.add_to_pool(side, stake, now)
        await save_room(uow, room)
        bet_id, side_name = bet.id, side.value
        uow.emit(BetPlaced(bet_id, room_id, user_id, side_name, stake, now))
        await uow.idempotency.put(request_key, str(bet_id))
        await notify(
            uow,
            user_id=user_id,
            kind=NotificationKind.BET_CONFIRMED,
            dedupe_key=f"bet-confirmed:{bet_id}",
            at=now,
            room_id=room_id,
            side=side_name,
            stake=stake,
        )
        await uow.audit.append(
            f"user:{user_id}",
            "bet.placed",
            {"bet_id": bet_id, "room_id": room_id, "side": side_name, "stake": stake},
        )
        await uow.commit()
        return Success(bet)
