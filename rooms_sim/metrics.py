"""What a simulation run measures. Plain data; the runner fills it, the report renders it.

Money is in lamports (int). Times are simulated hours since the scenario start (float).
Everything here is deterministic for a given scenario and seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(slots=True)
class RoomRecord:
    """One room's life, for plots and calibration."""

    room_id: int
    asset: str  # label, e.g. "SOL" or "PUMP market cap"
    comparator: str  # ">=" or "<="
    target: float
    created_h: float
    lock_h: float
    settle_h: float
    closed_h: float | None = None
    state: str = "QUEUING"
    outcome: str | None = None  # "YES" / "NO" when SETTLED
    instant: bool = False
    implied_yes: float | None = None  # yes_pool / total at lock (or at close if never locked)
    yes_pool: int = 0
    no_pool: int = 0
    bets: int = 0
    refunded_all: bool = False  # no opposition: settled with full refunds, no fee


@dataclass(slots=True)
class TimeSample:
    """Platform totals at a moment."""

    t_h: float
    open_pools: int  # lamports in escrow of active rooms
    active_rooms: int
    protocol_fees: int  # cumulative, what the protocol kept (after referral rewards) + dust
    host_fees: int  # cumulative
    referral_rewards: int  # cumulative


@dataclass(slots=True, repr=False)
class SimMetrics:
    scenario: str
    seed: int
    duration_hours: float
    agents_by_strategy: dict[str, int] = field(default_factory=dict)
    rooms_created: int = 0
    rooms_by_state: dict[str, int] = field(default_factory=dict)
    rooms_settled_instantly: int = 0
    rooms_refunded_no_opposition: int = 0
    bets_placed: int = 0
    bets_refunded: int = 0
    bets_refunded_by_reason: dict[str, int] = field(default_factory=dict)
    bets_rejected_by_reason: dict[str, int] = field(default_factory=dict)
    late_bets_attempted: int = 0
    late_bets_refunded: int = 0
    volume: int = 0  # sum of stakes of accepted bets
    payouts: int = 0  # paid to winners
    refunds: int = 0  # stakes returned
    protocol_fees: int = 0  # kept by the protocol after referral rewards
    host_fees: int = 0
    dust: int = 0
    referral_rewards_by_level: dict[int, int] = field(default_factory=dict)
    deposits: int = 0  # lamports credited
    deposit_count: int = 0
    withdrawals: int = 0  # lamports confirmed out
    withdrawal_count: int = 0
    oracle_polls: int = 0
    oracle_no_consensus: int = 0
    # The outbox the bot's dispatcher would send from: every notification the run queued.
    notifications_by_kind: dict[str, int] = field(default_factory=dict)
    notifications_busiest_minute: int = 0  # the most queued in one simulated minute
    notifications_per_second: int = 0  # the dispatcher's overall limit the waits assume
    notification_wait_max_s: float = 0.0  # sent first come, first served at that limit
    notification_wait_mean_s: float = 0.0
    brier_score: float | None = None
    calibration_rooms: int = 0
    pnl_by_strategy: dict[str, int] = field(default_factory=dict)
    rooms: list[RoomRecord] = field(default_factory=list)
    samples: list[TimeSample] = field(default_factory=list)
    price_paths: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    invariants: dict[str, bool] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"SimMetrics({self.scenario!r}, seed={self.seed}, rooms={self.rooms_created}, "
            f"bets={self.bets_placed})"
        )

    @property
    def invariants_hold(self) -> bool:
        return all(self.invariants.values())

    @property
    def notifications_queued(self) -> int:
        return sum(self.notifications_by_kind.values())


def queue_waits(arrivals: Iterable[tuple[float, int]], per_second: int) -> tuple[float, float]:
    """The longest and the mean wait of messages that leave one at a time, first come,
    first served, at most ``per_second`` a second; ``arrivals`` are ``(second, how many
    arrive then)`` in ascending order of time. ``(0.0, 0.0)`` for none."""
    gap = 1 / per_second
    free_at = -math.inf  # when the sender can take the next message
    longest = total = 0.0
    count = 0
    for at, arrived in arrivals:
        start = at if at > free_at else free_at
        first_wait = start - at  # the others of the group wait one gap more each
        longest = max(longest, first_wait + (arrived - 1) * gap)
        total += arrived * first_wait + gap * arrived * (arrived - 1) / 2
        count += arrived
        free_at = start + arrived * gap
    return longest, (total / count if count else 0.0)


def busiest_minute(arrivals: Iterable[tuple[float, int]]) -> int:
    """The most messages arriving in one minute of the run (counted from its start), of
    ``(second, how many arrive then)`` pairs."""
    per_minute: dict[int, int] = {}
    for at, arrived in arrivals:
        minute = int(at // 60)
        per_minute[minute] = per_minute.get(minute, 0) + arrived
    return max(per_minute.values(), default=0)
