"""What the API answers, as pydantic models built from the core's models and views. The
core's enums (room state, side, bet status, withdrawal state) are used as they are, so the
OpenAPI schema and the core agree; money is always integer lamports, with the SOL amount
as an exact decimal string beside it for display."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from pydantic import BaseModel, Field

from rooms_core.ledger import EntryKind
from rooms_core.models import (
    AssetKind,
    BetStatus,
    Comparator,
    Metric,
    PlatformControls,
    RefundReason,
    Side,
    User,
    Withdrawal,
    WithdrawalState,
)
from rooms_core.money import format_sol
from rooms_core.parimutuel import BetQuote, SettlementPlan
from rooms_core.ports.price_history import PricePoint
from rooms_core.room import RoomState
from rooms_core.services.admin import PlatformStats
from rooms_core.services.custody import SolvencyReport
from rooms_core.services.queries import BetView, HistoryLine, RoomView
from rooms_core.services.users import ReferralStats

MULTIPLE_PLACES = Decimal("0.0001")


class Amount(BaseModel):
    """An amount of money: exact lamports, and the same in SOL as a decimal string."""

    lamports: int
    sol: str

    @classmethod
    def of(cls, lamports: int) -> Amount:
        return cls(lamports=lamports, sol=format_sol(lamports))


def _multiple(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(MULTIPLE_PLACES, rounding=ROUND_DOWN))


class AssetOut(BaseModel):
    kind: AssetKind
    id: str
    metric: Metric
    key: str


class RoomOut(BaseModel):
    """A room as a card shows it. ``yes_multiple``/``no_multiple``: what one staked lamport
    on that side would bring back if it won at the current pools (fees taken), rounded down
    to 4 places; null while either side is empty (such a room refunds everyone).
    ``yes_share``: YES's share of the pool, the crowd's implied probability of YES."""

    id: int
    title: str
    question: str
    asset: AssetOut
    comparator: Comparator
    target: Decimal
    state: RoomState
    host_name: str | None
    created_at: datetime
    lock_at: datetime
    settle_at: datetime
    opened_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    outcome: Side | None
    settlement_value: Decimal | None
    min_players: int
    quorum: int
    fee_bps: int
    yes_pool: Amount
    no_pool: Amount
    total_pool: Amount
    yes_bets: int
    no_bets: int
    yes_multiple: str | None
    no_multiple: str | None
    yes_share: str | None

    @classmethod
    def of(cls, view: RoomView) -> RoomOut:
        room = view.room
        total = room.total_pool
        return cls(
            id=room.id,
            title=room.title,
            question=room.question(),
            asset=AssetOut(
                kind=room.asset.kind, id=room.asset.id, metric=room.asset.metric, key=room.asset.key
            ),
            comparator=room.comparator,
            target=room.target,
            state=room.state,
            host_name=view.host_name,
            created_at=room.created_at,
            lock_at=room.lock_at,
            settle_at=room.settle_at,
            opened_at=room.opened_at,
            closed_at=room.closed_at,
            close_reason=room.close_reason,
            outcome=room.outcome,
            settlement_value=room.settlement_value,
            min_players=room.min_players,
            quorum=room.quorum,
            fee_bps=room.fee_bps,
            yes_pool=Amount.of(room.yes_pool),
            no_pool=Amount.of(room.no_pool),
            total_pool=Amount.of(total),
            yes_bets=room.yes_bets,
            no_bets=room.no_bets,
            yes_multiple=_multiple(view.yes_multiple),
            no_multiple=_multiple(view.no_multiple),
            yes_share=None
            if total == 0
            else str((Decimal(room.yes_pool) / total).quantize(MULTIPLE_PLACES, ROUND_DOWN)),
        )


class PricePointOut(BaseModel):
    at: datetime
    value: Decimal

    @classmethod
    def of(cls, point: PricePoint) -> PricePointOut:
        return cls(at=point.at, value=point.value)


class RoomDetail(RoomOut):
    """A room with the oracle's accepted prices of its asset over ``prices_since`` to now."""

    prices_since: datetime
    prices: list[PricePointOut]


class RoomPageOut(BaseModel):
    rooms: list[RoomOut]
    page: int
    per_page: int
    has_next: bool


class QuoteOut(BaseModel):
    """An active bet projected at the current pools."""

    payout_if_win: Amount
    profit_if_win: Amount
    refund_only: bool

    @classmethod
    def of(cls, quote: BetQuote) -> QuoteOut:
        return cls(
            payout_if_win=Amount.of(quote.payout_if_win),
            profit_if_win=Amount.of(quote.profit_if_win),
            refund_only=quote.refund_only,
        )


class BetOut(BaseModel):
    id: int
    room_id: int
    room_title: str
    room_state: RoomState
    side: Side
    stake: Amount
    placed_at: datetime
    status: BetStatus
    payout: Amount
    refund_reason: RefundReason | None
    profit: Amount | None  # final once the bet is settled
    quote: QuoteOut | None  # while the bet is active

    @classmethod
    def of(cls, view: BetView) -> BetOut:
        bet = view.bet
        return cls(
            id=bet.id,
            room_id=bet.room_id,
            room_title=view.room.title,
            room_state=view.room.state,
            side=bet.side,
            stake=Amount.of(bet.stake),
            placed_at=bet.placed_at,
            status=bet.status,
            payout=Amount.of(bet.payout),
            refund_reason=bet.refund_reason,
            profit=None if view.profit is None else Amount.of(view.profit),
            quote=None if view.quote is None else QuoteOut.of(view.quote),
        )


class BetRequest(BaseModel):
    room_id: int = Field(ge=1, le=2**62)
    side: Side
    stake_lamports: int = Field(gt=0, le=2**62)
    idempotency_key: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")


class MeOut(BaseModel):
    id: int
    telegram_id: int | None
    username: str | None
    referral_code: str
    deposit_address: str | None
    balance: Amount
    is_admin: bool

    @classmethod
    def of(cls, user: User, balance: int, is_admin: bool) -> MeOut:
        return cls(
            id=user.id,
            telegram_id=user.telegram_id,
            username=user.username,
            referral_code=user.referral_code,
            deposit_address=user.deposit_address,
            balance=Amount.of(balance),
            is_admin=is_admin,
        )


class HistoryLineOut(BaseModel):
    at: datetime
    kind: EntryKind
    amount: Amount  # signed: into (+) or out of (-) the balance
    room_id: int | None

    @classmethod
    def of(cls, line: HistoryLine) -> HistoryLineOut:
        return cls(at=line.at, kind=line.kind, amount=Amount.of(line.amount), room_id=line.room_id)


class HistoryOut(BaseModel):
    balance: Amount
    lines: list[HistoryLineOut]


class ReferralLevelOut(BaseModel):
    level: int
    referred: int
    earned: Amount


class ReferralsOut(BaseModel):
    code: str
    levels: list[ReferralLevelOut]
    total_earned: Amount

    @classmethod
    def of(cls, stats: ReferralStats) -> ReferralsOut:
        levels = [
            ReferralLevelOut(
                level=level,
                referred=count,
                earned=Amount.of(stats.earnings_by_level.get(level, 0)),
            )
            for level, count in enumerate(stats.referred_by_level, start=1)
        ]
        return cls(
            code=stats.code,
            levels=levels,
            total_earned=Amount.of(sum(stats.earnings_by_level.values())),
        )


class ControlsOut(BaseModel):
    betting_paused: bool
    withdrawals_paused: bool

    @classmethod
    def of(cls, controls: PlatformControls) -> ControlsOut:
        return cls(
            betting_paused=controls.betting_paused, withdrawals_paused=controls.withdrawals_paused
        )


class ControlsRequest(BaseModel):
    """Switches to change; a field left out (or null) keeps its switch as it is."""

    betting_paused: bool | None = None
    withdrawals_paused: bool | None = None


class PublicStatsOut(BaseModel):
    users: int
    rooms: int
    rooms_by_state: dict[RoomState, int]
    bets: int
    volume: Amount

    @classmethod
    def of(cls, stats: PlatformStats) -> PublicStatsOut:
        return cls(
            users=stats.users,
            rooms=stats.rooms,
            rooms_by_state=stats.rooms_by_state,
            bets=stats.bets,
            volume=Amount.of(stats.volume),
        )


class AdminStatsOut(PublicStatsOut):
    user_balances: Amount
    in_rooms: Amount
    pending_withdrawals: Amount
    protocol_fees: Amount
    protocol_dust: Amount
    notifications_waiting: int
    controls: ControlsOut

    @classmethod
    def of(cls, stats: PlatformStats) -> AdminStatsOut:
        return cls(
            **PublicStatsOut.of(stats).model_dump(),
            user_balances=Amount.of(stats.user_balances),
            in_rooms=Amount.of(stats.in_rooms),
            pending_withdrawals=Amount.of(stats.pending_withdrawals),
            protocol_fees=Amount.of(stats.protocol_fees),
            protocol_dust=Amount.of(stats.protocol_dust),
            notifications_waiting=stats.notifications_waiting,
            controls=ControlsOut.of(stats.controls),
        )


class WithdrawalOut(BaseModel):
    id: int
    user_id: int
    destination: str
    amount: Amount
    state: WithdrawalState
    created_at: datetime
    approvals: list[int]
    signature: str | None
    failure_reason: str | None

    @classmethod
    def of(cls, w: Withdrawal) -> WithdrawalOut:
        return cls(
            id=w.id,
            user_id=w.user_id,
            destination=w.destination,
            amount=Amount.of(w.amount),
            state=w.state,
            created_at=w.created_at,
            approvals=list(w.approvals),
            signature=w.signature,
            failure_reason=w.failure_reason,
        )


class RejectRequest(BaseModel):
    reason: str = Field("rejected by an admin", min_length=1, max_length=200)


class VoidRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=200)


class VoidOut(BaseModel):
    room_id: int
    refunded: Amount
    bets: int

    @classmethod
    def of(cls, plan: SettlementPlan) -> VoidOut:
        return cls(room_id=plan.room_id, refunded=Amount.of(plan.refunded), bets=len(plan.results))


class SolvencyOut(BaseModel):
    hot_wallet: Amount
    deposit_addresses: Amount
    held: Amount
    user_balances: Amount
    in_rooms: Amount
    pending_withdrawals: Amount
    owed: Amount
    surplus: Amount
    solvent: bool

    @classmethod
    def of(cls, r: SolvencyReport) -> SolvencyOut:
        return cls(
            hot_wallet=Amount.of(r.hot_wallet),
            deposit_addresses=Amount.of(r.deposit_addresses),
            held=Amount.of(r.held),
            user_balances=Amount.of(r.user_balances),
            in_rooms=Amount.of(r.in_rooms),
            pending_withdrawals=Amount.of(r.pending_withdrawals),
            owed=Amount.of(r.owed),
            surplus=Amount.of(r.surplus),
            solvent=r.solvent,
        )


class ErrorOut(BaseModel):
    """Every error answer: the error's name (stable, for programs) and a message (for
    people)."""

    error: str
    message: str


class CheckOut(BaseModel):
    ok: bool
    detail: str
    seconds: float


class HealthOut(BaseModel):
    ok: bool
    checks: dict[str, CheckOut]
