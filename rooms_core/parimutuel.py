"""Parimutuel settlement arithmetic: pure functions over integers (see docs/rules.md).

For a room with counted pools W (winning side) and L (losing side), T = W + L:

* fee      F = floor(T * (protocol_bps + host_bps) / 10_000)
* host     H = floor(T * host_bps / 10_000); the protocol's share is P = F - H
* payout   p_i = floor(stake_i * (T - F) / W) for every winning bet
* dust     D = (T - F) - sum(p_i), booked to the protocol dust account
* referral r = floor(stake * fee_bps * level_bps / 10_000^2) per settled bet and level,
  paid out of P (never more than P); the protocol fee account keeps P - sum(r)

so that sum(p_i) + H + sum(r) + (P - sum(r)) + D == T exactly. Bets placed at or after the
observation that triggered an instant settlement are refunded in full and not counted. If
either counted pool is empty, every counted bet is refunded and no fee is taken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from rooms_core.frozen import quick_init
from rooms_core.ledger import (
    EntryKind,
    JournalEntry,
    Posting,
    escrow_account,
    protocol_dust_account,
    protocol_fee_account,
    user_account,
)
from rooms_core.models import Bet, BetStatus, RefundReason, Side
from rooms_core.money import BPS_DENOMINATOR, mul_div_floor


@quick_init
@dataclass(frozen=True, slots=True)
class ReferralReward:
    referrer_id: int
    level: int  # 1, 2 or 3
    amount: int
    bet_id: int


@quick_init
@dataclass(frozen=True, slots=True)
class BetResult:
    bet_id: int
    user_id: int
    side: Side
    stake: int
    status: BetStatus
    payout: int
    refund_reason: RefundReason | None = None

    @property
    def profit(self) -> int:
        return self.payout - self.stake


@dataclass(slots=True)
class SettlementPlan:
    """Everything a settlement writes, computed before anything is written."""

    room_id: int
    outcome: Side | None
    results: list[BetResult] = field(default_factory=list)
    rewards: list[ReferralReward] = field(default_factory=list)
    total_pool: int = 0
    counted_pool: int = 0
    winning_pool: int = 0
    fee: int = 0
    host_fee: int = 0
    protocol_fee: int = 0  # what the protocol keeps after referral rewards
    referral_total: int = 0
    dust: int = 0
    paid_to_winners: int = 0
    refunded: int = 0

    def postings(self, host_id: int) -> tuple[Posting, ...]:
        """The balanced postings that empty the room's escrow."""
        credits: dict[str, int] = {}

        def credit(account: str, amount: int) -> None:
            if amount:
                credits[account] = credits.get(account, 0) + amount

        get = credits.get
        for r in self.results:  # inline credit(): one call fewer per bet
            if r.payout:
                account = user_account(r.user_id)
                credits[account] = get(account, 0) + r.payout
        credit(user_account(host_id), self.host_fee)
        for reward in self.rewards:
            if reward.amount:
                account = user_account(reward.referrer_id)
                credits[account] = get(account, 0) + reward.amount
        credit(protocol_fee_account(self.room_id), self.protocol_fee)
        credit(protocol_dust_account(self.room_id), self.dust)
        total = sum(credits.values())
        postings = [Posting(escrow_account(self.room_id), -total)]
        postings.extend(Posting(a, v) for a, v in credits.items())
        return tuple(postings)

    def journal_entry(self, host_id: int, at: datetime) -> JournalEntry:
        return JournalEntry(
            key=f"settle:{self.room_id}",
            kind=EntryKind.SETTLEMENT,
            at=at,
            postings=self.postings(host_id),
            memo=f"room {self.room_id} outcome {self.outcome}",
        )


def _bet_id(bet: Bet) -> int:
    return bet.id


def is_late(bet: Bet, trigger_at: datetime | None) -> bool:
    """A bet at or after the observation that triggered instant settlement is late."""
    return trigger_at is not None and bet.placed_at >= trigger_at


def plan_settlement(
    *,
    room_id: int,
    outcome: Side,
    bets: Sequence[Bet],
    trigger_at: datetime | None,
    protocol_fee_bps: int,
    host_fee_bps: int,
    referral_level_bps: Sequence[int],
    referrer_chains: Mapping[int, Sequence[int]],
) -> SettlementPlan:
    """Compute payouts, fees, referral rewards and dust for a room with a known outcome.

    ``referrer_chains`` maps a bettor's user id to their referrers, nearest first.
    """
    plan = SettlementPlan(room_id=room_id, outcome=outcome)
    counted: list[Bet] = []
    total_pool = winning = losing = 0
    for bet in bets:  # is_late() inlined, and the pools summed in the same pass
        total_pool += bet.stake
        if trigger_at is not None and bet.placed_at >= trigger_at:
            plan.results.append(_refund(bet, RefundReason.LATE_BET))
        else:
            counted.append(bet)
            if bet.side is outcome:
                winning += bet.stake
            else:
                losing += bet.stake
    plan.total_pool = total_pool
    plan.counted_pool = winning + losing
    plan.winning_pool = winning

    if winning == 0 or losing == 0:
        plan.results.extend(_refund(b, RefundReason.NO_OPPOSITION) for b in counted)
        plan.refunded = sum(r.payout for r in plan.results)
        plan.results.sort(key=lambda r: r.bet_id)
        return plan

    total = plan.counted_pool
    fee_bps = protocol_fee_bps + host_fee_bps
    plan.fee = mul_div_floor(total, fee_bps, BPS_DENOMINATOR)
    plan.host_fee = mul_div_floor(total, host_fee_bps, BPS_DENOMINATOR)
    protocol_share = plan.fee - plan.host_fee
    distributable = total - plan.fee

    paid = 0
    results = plan.results
    won, lost = BetStatus.WON, BetStatus.LOST
    for bet in counted:
        if bet.side is outcome:
            payout = bet.stake * distributable // winning  # mul_div_floor, winning > 0
            paid += payout
            results.append(BetResult(bet.id, bet.user_id, bet.side, bet.stake, won, payout))
        else:
            results.append(BetResult(bet.id, bet.user_id, bet.side, bet.stake, lost, 0))
    plan.paid_to_winners = paid
    plan.dust = distributable - paid

    remaining = protocol_share
    denominator = BPS_DENOMINATOR * BPS_DENOMINATOR
    for bet in sorted(counted, key=_bet_id):
        chain = referrer_chains.get(bet.user_id, ())
        for level, (referrer_id, level_bps) in enumerate(
            zip(chain, referral_level_bps, strict=False), start=1
        ):
            # mul_div_floor(stake, fee_bps * level_bps, denominator), the denominator > 0
            amount = min(bet.stake * (fee_bps * level_bps) // denominator, remaining)
            if amount <= 0:
                continue
            remaining -= amount
            plan.rewards.append(ReferralReward(referrer_id, level, amount, bet.id))
    plan.referral_total = protocol_share - remaining
    plan.protocol_fee = remaining
    plan.refunded = sum(r.payout for r in plan.results if r.status is BetStatus.REFUNDED)
    plan.results.sort(key=lambda r: r.bet_id)
    return plan


def plan_refund_all(room_id: int, bets: Sequence[Bet], reason: RefundReason) -> SettlementPlan:
    """Cancelled or void rooms: every bet back in full, no fee."""
    plan = SettlementPlan(room_id=room_id, outcome=None)
    plan.results = [_refund(b, reason) for b in sorted(bets, key=lambda b: b.id)]
    plan.total_pool = plan.refunded = sum(b.stake for b in bets)
    return plan


def _refund(bet: Bet, reason: RefundReason) -> BetResult:
    return BetResult(
        bet.id, bet.user_id, bet.side, bet.stake, BetStatus.REFUNDED, bet.stake, reason
    )


# --- quoting at the current pools (what a room card and a bet confirmation show) --------


def payout_multiple(yes_pool: int, no_pool: int, side: Side, fee_bps: int) -> Decimal | None:
    """What each lamport staked on ``side`` would bring back if ``side`` won at these pools:
    (T - F) / W. ``None`` while either pool is empty: a room settling like that refunds
    every bet (no opposition, no fee), so there is no multiple to show yet."""
    winning = yes_pool if side is Side.YES else no_pool
    if yes_pool == 0 or no_pool == 0:
        return None
    total = yes_pool + no_pool
    return Decimal(total - mul_div_floor(total, fee_bps, BPS_DENOMINATOR)) / Decimal(winning)


@dataclass(frozen=True, slots=True)
class BetQuote:
    """A new bet's projected outcome if the pools stayed as they are after it."""

    stake: int
    payout_if_win: int  # floored, exactly as settlement would compute it
    fee: int  # the room's whole fee at those pools (protocol and host)
    refund_only: bool  # the other side is empty: as things stand, every bet is refunded

    @property
    def profit_if_win(self) -> int:
        return self.payout_if_win - self.stake


def quote_bet(yes_pool: int, no_pool: int, side: Side, stake: int, fee_bps: int) -> BetQuote:
    """Project a bet of ``stake`` on ``side``: the pools with it added, the fee taken
    from the whole pool, and the bet's floored share of what is left (the settlement
    formula of this module)."""
    yes = yes_pool + (stake if side is Side.YES else 0)
    no = no_pool + (stake if side is Side.NO else 0)
    if yes == 0 or no == 0:
        return BetQuote(stake, stake, 0, True)
    total = yes + no
    fee = mul_div_floor(total, fee_bps, BPS_DENOMINATOR)
    winning = yes if side is Side.YES else no
    return BetQuote(stake, mul_div_floor(stake, total - fee, winning), fee, False)


def quote_existing_bet(
    yes_pool: int, no_pool: int, side: Side, stake: int, fee_bps: int
) -> BetQuote:
    """Project a bet that is already counted in the pools."""
    return quote_bet(
        yes_pool - (stake if side is Side.YES else 0),
        no_pool - (stake if side is Side.NO else 0),
        side,
        stake,
        fee_bps,
    )
