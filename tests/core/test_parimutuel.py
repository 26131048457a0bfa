"""Parimutuel arithmetic: the worked examples of docs/rules.md and its invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rooms_core.models import Bet, BetStatus, RefundReason, Side
from rooms_core.money import sol
from rooms_core.parimutuel import SettlementPlan, plan_refund_all, plan_settlement

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_bet(
    bet_id: int, side: Side, stake: int, user_id: int | None = None, minute: int = 0
) -> Bet:
    return Bet(
        id=bet_id,
        room_id=1,
        user_id=user_id if user_id is not None else bet_id,
        side=side,
        stake=stake,
        placed_at=T0 + timedelta(minutes=minute),
        idempotency_key=str(bet_id),
    )


def settle(
    bets: list[Bet],
    outcome: Side = Side.YES,
    chains: dict[int, list[int]] | None = None,
    trigger_at: datetime | None = None,
) -> SettlementPlan:
    return plan_settlement(
        room_id=1,
        outcome=outcome,
        bets=bets,
        trigger_at=trigger_at,
        protocol_fee_bps=200,
        host_fee_bps=100,
        referral_level_bps=(1500, 500, 200),
        referrer_chains=chains or {},
    )


def test_seed_example_pays_14_55_sol_for_a_10_sol_yes_bet() -> None:
    yes = [make_bet(i, Side.YES, sol(10)) for i in range(1, 11)]
    no = [make_bet(i, Side.NO, sol(10)) for i in range(11, 16)]
    plan = settle(yes + no)
    mine = next(r for r in plan.results if r.bet_id == 1)
    assert mine.payout == sol("14.55")
    assert mine.profit == sol("4.55")
    assert plan.fee == sol("4.5")
    assert plan.host_fee == sol("1.5")
    assert plan.protocol_fee == sol(3)
    assert plan.dust == 0


def test_losers_get_nothing_and_are_marked_lost() -> None:
    plan = settle([make_bet(1, Side.YES, sol(1)), make_bet(2, Side.NO, sol(1))])
    loser = next(r for r in plan.results if r.bet_id == 2)
    assert loser.status is BetStatus.LOST
    assert loser.payout == 0


def test_flooring_remainder_goes_to_dust() -> None:
    bets = [
        make_bet(1, Side.YES, 1_000_000_001),
        make_bet(2, Side.YES, 2_000_000_000),
        make_bet(3, Side.YES, 3),
        make_bet(4, Side.NO, 1_000_000_007),
    ]
    plan = settle(bets)
    assert [r.payout for r in plan.results] == [1_293_333_336, 2_586_666_670, 3, 0]
    assert plan.dust == 2  # the worked example of docs/rules.md
    assert plan.paid_to_winners + plan.fee + plan.dust == plan.total_pool


def test_empty_winning_side_refunds_everyone_without_fee() -> None:
    bets = [make_bet(1, Side.NO, sol(3)), make_bet(2, Side.NO, sol(2))]
    plan = settle(bets, outcome=Side.YES)
    assert plan.fee == 0
    assert all(r.status is BetStatus.REFUNDED and r.payout == r.stake for r in plan.results)
    assert all(r.refund_reason is RefundReason.NO_OPPOSITION for r in plan.results)


def test_one_sided_room_with_no_losers_refunds_without_fee() -> None:
    bets = [make_bet(1, Side.YES, sol(3)), make_bet(2, Side.YES, sol(2))]
    plan = settle(bets, outcome=Side.YES)
    assert plan.fee == 0
    assert plan.referral_total == 0
    assert sum(r.payout for r in plan.results) == sol(5)


def test_late_bets_are_refunded_and_not_counted() -> None:
    trigger = T0 + timedelta(minutes=5)
    bets = [
        make_bet(1, Side.YES, sol(1), minute=1),
        make_bet(2, Side.NO, sol(1), minute=2),
        make_bet(3, Side.YES, sol(5), minute=5),  # exactly at the observation: late
        make_bet(4, Side.NO, sol(7), minute=6),
    ]
    plan = settle(bets, trigger_at=trigger)
    late = {r.bet_id for r in plan.results if r.refund_reason is RefundReason.LATE_BET}
    assert late == {3, 4}
    assert plan.counted_pool == sol(2)
    winner = next(r for r in plan.results if r.bet_id == 1)
    assert winner.payout == sol(2) - sol("0.06")


def test_referral_rewards_are_15_5_2_percent_of_the_attributable_fee() -> None:
    bets = [make_bet(1, Side.YES, sol(10), user_id=100), make_bet(2, Side.NO, sol(10), user_id=200)]
    plan = settle(bets, chains={100: [11, 12, 13], 200: [21]})
    rewards = {(r.referrer_id, r.level): r.amount for r in plan.rewards}
    fee_of_bet = sol("0.3")  # 10 SOL x 3%
    assert rewards == {
        (11, 1): fee_of_bet * 15 // 100,
        (12, 2): fee_of_bet * 5 // 100,
        (13, 3): fee_of_bet * 2 // 100,
        (21, 1): fee_of_bet * 15 // 100,
    }
    assert plan.protocol_fee == plan.fee - plan.host_fee - plan.referral_total


def test_refund_all_returns_every_stake() -> None:
    bets = [make_bet(1, Side.YES, 5), make_bet(2, Side.NO, 7)]
    plan = plan_refund_all(1, bets, RefundReason.CANCELLED)
    assert [r.payout for r in plan.results] == [5, 7]
    assert plan.fee == 0


stakes = st.lists(
    st.tuples(st.sampled_from([Side.YES, Side.NO]), st.integers(1, 10**12)), min_size=1, max_size=40
)


@given(
    stakes,
    st.sampled_from([Side.YES, Side.NO]),
    st.integers(0, 1000),
    st.integers(0, 1000),
    st.lists(st.integers(0, 40), max_size=40),
)
def test_money_is_conserved_exactly(
    bets_spec: list[tuple[Side, int]],
    outcome: Side,
    protocol_bps: int,
    host_bps: int,
    referred: list[int],
) -> None:
    bets = [make_bet(i + 1, side, stake) for i, (side, stake) in enumerate(bets_spec)]
    chains = {user: [900 + user, 950 + user, 990 + user] for user in referred}
    plan = plan_settlement(
        room_id=1,
        outcome=outcome,
        bets=bets,
        trigger_at=None,
        protocol_fee_bps=protocol_bps,
        host_fee_bps=host_bps,
        referral_level_bps=(1500, 500, 200),
        referrer_chains=chains,
    )
    paid = sum(r.payout for r in plan.results)
    assert paid + plan.host_fee + plan.referral_total + plan.protocol_fee + plan.dust == sum(
        stake for _, stake in bets_spec
    )
    assert plan.referral_total <= plan.fee - plan.host_fee
    assert all(r.payout >= 0 for r in plan.results)
    assert 0 <= plan.dust < max(1, sum(1 for r in plan.results if r.status is BetStatus.WON))
    postings = plan.postings(host_id=7)
    assert sum(p.amount for p in postings) == 0
