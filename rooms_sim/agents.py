"""Agent populations: who bets, on which side, and how much.

Every decision takes the run's seeded ``random.Random``; nothing reads the wall clock, so a
run is reproducible from its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum

from rooms_core.frozen import quick_init
from rooms_core.ledger import user_account
from rooms_core.models import Side

STAKE_GRANULARITY = 1_000_000  # stakes are whole thousandths of a SOL, like a person types


class Strategy(StrEnum):
    NOISE = "noise"  # a coin flip
    INFORMED = "informed"  # sees a noisy estimate of the true hit probability
    HERDER = "herder"  # follows the bigger pool
    CONTRARIAN = "contrarian"  # takes the better payout
    WHALE = "whale"  # large, fairly well-informed stakes
    LATE = "late"  # tries to bet after the target is hit (must be refunded)


@dataclass(slots=True)
class Agent:
    user_id: int
    strategy: Strategy
    address: str
    referral_code: str
    deposited: int = 0
    withdrawn: int = 0
    deposits_made: int = 0
    account: str = field(init=False)  # the ledger account of the agent's balance

    def __post_init__(self) -> None:
        self.account = user_account(self.user_id)


@quick_init
@dataclass(frozen=True, slots=True)
class RoomView:
    """What an agent sees of a room before betting (what the bot's room card shows)."""

    room_id: int
    yes_pool: int
    no_pool: int
    true_yes_probability: float  # only informed agents and whales get a (noisy) look


INFORMED_NOISE = 0.12
WHALE_NOISE = 0.08


def _pool_implied_yes(view: RoomView) -> float:
    total = view.yes_pool + view.no_pool
    return 0.5 if total == 0 else view.yes_pool / total


def choose_side(strategy: Strategy, view: RoomView, rng: random.Random) -> Side:
    """The side an agent of ``strategy`` takes in a room."""
    if strategy in (Strategy.INFORMED, Strategy.WHALE):
        noise = INFORMED_NOISE if strategy is Strategy.INFORMED else WHALE_NOISE
        estimate = min(1.0, max(0.0, view.true_yes_probability + rng.gauss(0.0, noise)))
        return Side.YES if estimate > _pool_implied_yes(view) else Side.NO
    if strategy is Strategy.HERDER and view.yes_pool != view.no_pool:
        return Side.YES if view.yes_pool > view.no_pool else Side.NO
    if strategy is Strategy.CONTRARIAN and view.yes_pool != view.no_pool:
        return Side.YES if view.yes_pool < view.no_pool else Side.NO
    if strategy is Strategy.LATE:
        return Side.YES
    return Side.YES if rng.random() < 0.5 else Side.NO


_STAKE_FRACTION = {
    Strategy.NOISE: (0.01, 0.08),
    Strategy.INFORMED: (0.02, 0.10),
    Strategy.HERDER: (0.01, 0.06),
    Strategy.CONTRARIAN: (0.01, 0.06),
    Strategy.WHALE: (0.03, 0.12),
    Strategy.LATE: (0.10, 0.30),
}


def choose_stake(
    strategy: Strategy, balance: int, min_stake: int, max_stake: int, rng: random.Random
) -> int | None:
    """A stake within the balance and the room limits, or None when the agent cannot bet."""
    if balance < min_stake:
        return None
    low, high = _STAKE_FRACTION[strategy]
    stake = int(balance * rng.uniform(low, high))
    stake -= stake % STAKE_GRANULARITY
    stake = max(min_stake, min(stake, max_stake, balance))
    return stake if stake >= min_stake else None
