"""The simulation loop: determinism, books balance, every room closes, rules observed."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from rooms_core.ledger import (
    EntryKind,
    JournalEntry,
    escrow_account,
    may_go_negative,
    user_account,
)
from rooms_core.models import BetStatus, Side
from rooms_sim.agents import RoomView, Strategy, choose_side, choose_stake
from rooms_sim.metrics import SimMetrics, busiest_minute, queue_waits
from rooms_sim.report import report_dict, write_json
from rooms_sim.runner import run_simulation
from rooms_sim.scenario import OutageWindow, Scenario, available_scenarios, load_scenario
from tests.support import START


def small(seed: int = 7, hours: float = 3.0) -> Scenario:
    scenario = load_scenario("default")
    return scenario.model_copy(update={"seed": seed, "duration_hours": hours})


def run(scenario: Scenario) -> SimMetrics:
    metrics, _ = asyncio.run(run_simulation(scenario))
    return metrics


@pytest.fixture(scope="module")
def default_run() -> SimMetrics:
    return run(small())


def test_same_seed_gives_a_byte_identical_report(tmp_path: Path, default_run: SimMetrics) -> None:
    write_json(default_run, tmp_path / "a.json")
    write_json(run(small()), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_different_seeds_give_different_reports(tmp_path: Path, default_run: SimMetrics) -> None:
    write_json(default_run, tmp_path / "a.json")
    write_json(run(small(seed=8)), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() != (tmp_path / "b.json").read_bytes()


def test_every_invariant_holds_and_every_room_closes(default_run: SimMetrics) -> None:
    assert default_run.invariants
    assert all(default_run.invariants.values()), default_run.invariants
    assert default_run.rooms_created > 0
    assert sum(default_run.rooms_by_state.values()) == default_run.rooms_created
    assert set(default_run.rooms_by_state) <= {"SETTLED", "CANCELLED", "VOID"}


def test_money_flows_add_up_to_the_volume(default_run: SimMetrics) -> None:
    m = default_run
    referrals = sum(m.referral_rewards_by_level.values())
    assert m.bets_placed > 0
    assert m.payouts + m.refunds + m.protocol_fees + m.host_fees + referrals + m.dust == m.volume


def test_late_bettors_are_refunded(default_run: SimMetrics) -> None:
    assert default_run.late_bets_attempted > 0
    assert default_run.late_bets_refunded > 0
    assert default_run.bets_refunded_by_reason.get("LATE_BET") == default_run.late_bets_refunded


def test_referral_trees_pay_several_levels(default_run: SimMetrics) -> None:
    assert default_run.referral_rewards_by_level[1] > 0
    assert default_run.referral_rewards_by_level[2] > 0


def test_an_oracle_outage_over_settle_time_voids_rooms() -> None:
    scenario = small(seed=3, hours=2.0)
    windows = (OutageWindow(start_hour=0.0, end_hour=30.0),)
    oracle = scenario.oracle.model_copy(update={"outage_windows": windows})
    metrics = run(scenario.model_copy(update={"oracle": oracle}))
    assert metrics.rooms_by_state.get("VOID", 0) > 0
    assert "SETTLED" not in metrics.rooms_by_state or metrics.rooms_settled_instantly == 0
    assert all(metrics.invariants.values())


@pytest.mark.parametrize("name", sorted(available_scenarios()))
def test_every_bundled_scenario_runs_with_its_books_balanced(name: str) -> None:
    # An hour of each (the stress day is a benchmark's load): a shipped scenario that no
    # longer loads, or breaks a rule, is found here rather than by a researcher.
    scenario = load_scenario(name)
    metrics = run(scenario.model_copy(update={"duration_hours": min(1.0, scenario.duration_hours)}))
    assert metrics.rooms_created > 0
    assert metrics.bets_placed > 0
    assert sum(metrics.rooms_by_state.values()) == metrics.rooms_created
    assert metrics.invariants
    assert all(metrics.invariants.values()), metrics.invariants
    report = report_dict(metrics)
    assert report["invariants"] == metrics.invariants


def test_notification_load_counts_the_outbox(default_run: SimMetrics) -> None:
    m = default_run
    # every accepted bet is confirmed, and every one that closed says how
    assert m.notifications_by_kind["BET_CONFIRMED"] == m.bets_placed
    closed = sum(m.notifications_by_kind.get(k, 0) for k in ("BET_WON", "BET_LOST"))
    assert closed + m.notifications_by_kind["BET_REFUNDED"] == m.bets_placed
    assert 0 < m.notifications_busiest_minute < m.notifications_queued
    assert m.notifications_per_second == 30
    assert 0 < m.notification_wait_mean_s < m.notification_wait_max_s


def test_notification_load_is_read_from_the_store() -> None:
    metrics, store = asyncio.run(run_simulation(small(hours=1.0)))
    assert metrics.notifications_queued == sum(metrics.notifications_by_kind.values())
    assert metrics.notifications_queued == len(store.outbox) > 0


def test_whales_deposit_exactly_the_configured_sol() -> None:
    # 2.01 * 10**9 in floating point is 2009999999.9999998: one lamport short if truncated
    scenario = small(hours=0.1)
    agents = scenario.agents.model_copy(update={"whale_deposit_sol": 2.01})
    _, store = asyncio.run(run_simulation(scenario.model_copy(update={"agents": agents})))
    amounts = [deposit.amount for deposit in store.deposits.values()]
    assert amounts.count(2_010_000_000) == scenario.agents.whale
    assert 2_009_999_999 not in amounts


def test_queue_waits_first_come_first_served() -> None:
    # three at once at 2 a second: the second waits 0.5 s, the third 1 s
    assert queue_waits([(0.0, 3)], 2) == (1.0, 0.5)
    # spaced wider than the limit: nobody waits
    assert queue_waits([(0.0, 1), (10.0, 1), (20.0, 1)], 1) == (0.0, 0.0)
    # a burst, then one that arrives while the burst is still being sent (at 2.0 s)
    assert queue_waits([(0.0, 4), (1.0, 1)], 2) == (1.5, 0.8)
    # a burst that arrives after the sender is free again waits only on itself
    assert queue_waits([(0.0, 2), (5.0, 2)], 1) == (1.0, 0.5)
    assert queue_waits([], 30) == (0.0, 0.0)


def test_busiest_minute_counts_by_minute_of_the_run() -> None:
    assert busiest_minute([(0.0, 1), (59.9, 2), (60.0, 1), (61.0, 1), (3600.0, 1)]) == 3
    assert busiest_minute([]) == 0


def test_check_invariants_catches_a_broken_ledger() -> None:
    _, store = asyncio.run(run_simulation(small(hours=1.0)))
    assert all(store.books_checks().values())
    account = next(a for a in store.balances if not may_go_negative(a) and store.balances[a] > 0)
    store.balances[account] += 1
    broken = store.books_checks()
    assert broken["ledger_sums_to_zero"] is False
    assert broken["balances_match_postings"] is False


def test_each_books_check_catches_its_own_breakage() -> None:
    _, store = asyncio.run(run_simulation(small(hours=1.0)))
    assert all(store.books_checks().values())
    closed = {r.id for r in store.rooms.values() if r.state.is_terminal}
    settled = next(b for b in store.bets.values() if b.room_id in closed)

    def broken_by(change: Callable[[], Callable[[], None]]) -> set[str]:
        """The checks that fail after ``change``; the callable it returns undoes it."""
        undo = change()
        try:
            return {name for name, ok in store.books_checks().items() if not ok}
        finally:
            undo()
            assert all(store.books_checks().values())

    def reopen_bet() -> Callable[[], None]:
        store.bets[settled.id] = settled.model_copy(update={"status": BetStatus.ACTIVE})
        return lambda: store.bets.__setitem__(settled.id, settled)

    def alter_audit() -> Callable[[], None]:
        middle = len(store.audit) // 2
        record = store.audit[middle]
        store.audit[middle] = replace(record, actor="someone else")
        return lambda: store.audit.__setitem__(middle, record)

    def post_directly(key: str, debit: str, credit: str, amount: int) -> Callable[[], None]:
        """A balanced entry written straight into the store, past the ledger's refusals."""
        entry = JournalEntry.transfer(key, EntryKind.BET, START, debit, credit, amount)
        store.entries[entry.key] = entry
        store.balances[debit] -= amount
        store.balances[credit] += amount

        def undo() -> None:
            del store.entries[entry.key]
            store.balances[debit] += amount
            store.balances[credit] -= amount

        return undo

    def fill_escrow() -> Callable[[], None]:
        # a user's lamport moved into a closed room's escrow
        user, escrow = user_account(settled.user_id), escrow_account(settled.room_id)
        return post_directly("test:escrow", user, escrow, 1)

    def overdraw() -> Callable[[], None]:
        # a user taken below zero, into another user's account
        debtor, creditor = user_account(settled.user_id), user_account(settled.user_id + 1)
        return post_directly("test:overdraw", debtor, creditor, store.balances[debtor] + 1)

    assert broken_by(reopen_bet) == {"every_bet_resolved"}
    assert broken_by(alter_audit) == {"audit_chain_valid"}
    assert broken_by(fill_escrow) == {"escrows_empty"}
    assert broken_by(overdraw) == {"no_negative_balance"}


# --- strategies ----------------------------------------------------------------------


def view(yes: int, no: int, p: float = 0.5) -> RoomView:
    return RoomView(room_id=1, yes_pool=yes, no_pool=no, true_yes_probability=p)


def test_herders_follow_the_bigger_pool() -> None:
    rng = random.Random(1)
    assert choose_side(Strategy.HERDER, view(10, 5), rng) is Side.YES
    assert choose_side(Strategy.HERDER, view(5, 10), rng) is Side.NO


def test_contrarians_take_the_better_payout() -> None:
    rng = random.Random(1)
    assert choose_side(Strategy.CONTRARIAN, view(10, 5), rng) is Side.NO
    assert choose_side(Strategy.CONTRARIAN, view(5, 10), rng) is Side.YES


def test_informed_bettors_mostly_follow_the_true_probability() -> None:
    rng = random.Random(1)
    sides = [choose_side(Strategy.INFORMED, view(50, 50, p=0.9), rng) for _ in range(500)]
    assert sides.count(Side.YES) > 450
    sides = [choose_side(Strategy.INFORMED, view(50, 50, p=0.1), rng) for _ in range(500)]
    assert sides.count(Side.NO) > 450


def test_noise_bettors_flip_coins() -> None:
    rng = random.Random(1)
    sides = [choose_side(Strategy.NOISE, view(90, 10), rng) for _ in range(2000)]
    assert 900 < sides.count(Side.YES) < 1100


def test_late_bettors_bet_yes() -> None:
    assert choose_side(Strategy.LATE, view(1, 100), random.Random(1)) is Side.YES


def test_whales_stake_more_than_noise_bettors() -> None:
    rng = random.Random(1)
    balance = 10**13
    whale = [choose_stake(Strategy.WHALE, balance, 10**7, 10**12, rng) or 0 for _ in range(300)]
    noise = [choose_stake(Strategy.NOISE, balance, 10**7, 10**12, rng) or 0 for _ in range(300)]
    assert sum(whale) > sum(noise)


def test_stakes_stay_within_balance_and_limits() -> None:
    rng = random.Random(2)
    for balance in (0, 10**7 - 1, 10**7, 10**9, 10**15):
        for strategy in Strategy:
            stake = choose_stake(strategy, balance, 10**7, 10**12, rng)
            if balance < 10**7:
                assert stake is None
            else:
                assert stake is not None
                assert 10**7 <= stake <= min(balance, 10**12)
