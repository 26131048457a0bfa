"""The read side: what the bot and the web API show (rooms with their odds, a user's bets,
balance history). Nothing here writes; every function reads through one unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from returns.result import Failure, Result, Success

from rooms_core.errors import RoomNotFound, UserNotFound
from rooms_core.ledger import EntryKind, user_account
from rooms_core.models import Asset, Bet, BetStatus, Observation, Side, User
from rooms_core.oracle_errors import NoConsensus
from rooms_core.parimutuel import BetQuote, payout_multiple, quote_existing_bet
from rooms_core.ports.storage import UnitOfWork
from rooms_core.room import Room, RoomState
from rooms_core.services.deps import Deps

ACTIVE_STATES: tuple[RoomState, ...] = (
    RoomState.QUEUING,
    RoomState.OPEN,
    RoomState.LOCKED,
    RoomState.SETTLING,
)


@dataclass(frozen=True, slots=True)
class RoomView:
    """A room as a card shows it: the room, its host's name, the payout multiple per side at
    the current pools (None while either side is empty)."""

    room: Room
    host_name: str | None
    yes_multiple: Decimal | None
    no_multiple: Decimal | None

    def multiple(self, side: Side) -> Decimal | None:
        return self.yes_multiple if side is Side.YES else self.no_multiple


def view_of(room: Room, host: User | None) -> RoomView:
    fee = room.fee_bps
    return RoomView(
        room=room,
        host_name=None if host is None else (host.username or f"user {host.id}"),
        yes_multiple=payout_multiple(room.yes_pool, room.no_pool, Side.YES, fee),
        no_multiple=payout_multiple(room.yes_pool, room.no_pool, Side.NO, fee),
    )


async def _views(uow: UnitOfWork, rooms: Sequence[Room]) -> list[RoomView]:
    hosts: dict[int, User | None] = {}
    for room in rooms:
        if room.host_id not in hosts:
            hosts[room.host_id] = await uow.users.get(room.host_id)
    return [view_of(r, hosts[r.host_id]) for r in rooms]


async def room_view(deps: Deps, *, room_id: int) -> Result[RoomView, RoomNotFound]:
    """One room with its odds."""
    async with deps.uow() as uow:
        room = await uow.rooms.get(room_id)
        if room is None:
            return Failure(RoomNotFound(room_id))
        return Success((await _views(uow, [room]))[0])


@dataclass(frozen=True, slots=True)
class RoomPage:
    rooms: list[RoomView]
    page: int  # from 0
    has_next: bool


async def list_rooms(
    deps: Deps,
    *,
    states: Sequence[RoomState] = ACTIVE_STATES,
    page: int = 0,
    per_page: int = 5,
) -> RoomPage:
    """Rooms in ``states`` (the active ones by default), oldest first, a page at a time."""
    page = max(page, 0)
    async with deps.uow() as uow:
        found = await uow.rooms.list_by_state(
            list(states), limit=per_page + 1, offset=page * per_page
        )
        views = await _views(uow, found[:per_page])
    return RoomPage(views, page, has_next=len(found) > per_page)


@dataclass(frozen=True, slots=True)
class BetView:
    """A user's bet beside its room. ``quote`` projects an active bet at the current pools;
    ``profit`` is final once the bet is settled (payout less stake; 0 for a refund)."""

    bet: Bet
    room: Room
    quote: BetQuote | None

    @property
    def settled(self) -> bool:
        return self.bet.status is not BetStatus.ACTIVE

    @property
    def profit(self) -> int | None:
        return self.bet.payout - self.bet.stake if self.settled else None


async def user_bets(deps: Deps, *, user_id: int, limit: int = 20) -> list[BetView]:
    """A user's bets, newest first, with their rooms."""
    async with deps.uow() as uow:
        bets = await uow.bets.list_for_user(user_id, limit)
        rooms: dict[int, Room] = {}
        for bet in bets:
            if bet.room_id not in rooms:
                room = await uow.rooms.get(bet.room_id)
                if room is not None:
                    rooms[room.id] = room
    views: list[BetView] = []
    for bet in bets:
        room = rooms.get(bet.room_id)
        if room is None:  # a bet always has its room (a foreign key): a bug otherwise
            raise RuntimeError(f"bet {bet.id} has no room {bet.room_id}")
        quote = None
        if bet.status is BetStatus.ACTIVE:
            quote = quote_existing_bet(
                room.yes_pool, room.no_pool, bet.side, bet.stake, room.fee_bps
            )
        views.append(BetView(bet, room, quote))
    return views


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One movement of a user's balance: what it was and the signed amount."""

    at: datetime
    kind: EntryKind
    amount: int  # lamports in (+) or out (-) of the user's balance
    key: str  # the journal entry's key, e.g. "bet:12:3" or "deposit:<signature>:..."

    @property
    def room_id(self) -> int | None:
        """The room a bet or a settlement line belongs to."""
        parts = self.key.split(":")
        if parts[0] in ("bet", "settle") and len(parts) > 1 and parts[1].isdigit():
            return int(parts[1])
        return None


async def balance_history(
    deps: Deps, *, user_id: int, limit: int = 10
) -> Result[tuple[int, list[HistoryLine]], UserNotFound]:
    """The user's balance and their latest balance movements, newest first."""
    account = user_account(user_id)
    async with deps.uow() as uow:
        if not await uow.users.exists(user_id):
            return Failure(UserNotFound(user_id))
        balance = await uow.ledger.balance(account)
        entries = await uow.ledger.entries_for(account, limit)
    lines = [
        HistoryLine(entry.at, entry.kind, amount, entry.key)
        for entry in entries
        if (amount := entry.net_by_account().get(account, 0)) != 0
    ]
    return Success((balance, lines))


async def user_by_telegram_id(deps: Deps, *, telegram_id: int) -> User | None:
    """The user registered with this Telegram id, or None."""
    async with deps.uow() as uow:
        return await uow.users.get_by_telegram_id(telegram_id)


async def get_user(deps: Deps, *, user_id: int) -> User | None:
    async with deps.uow() as uow:
        return await uow.users.get(user_id)


async def current_price(deps: Deps, *, asset: Asset) -> Result[Observation, NoConsensus]:
    """The oracle's consensus value of ``asset`` now (the same the rooms settle on)."""
    return await deps.oracle.observe(asset)
