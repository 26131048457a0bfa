"""The market engine's decisions, shared by the live workers and the simulator.

The workers decide *when* to call these (a poll loop, a job scan, a simulated event
queue); these functions decide *what* happens to a room at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from returns.result import Failure, Result, Success

from rooms_core.errors import LifecycleError, NotDue, SettleError
from rooms_core.models import Observation
from rooms_core.parimutuel import SettlementPlan
from rooms_core.room import WATCHED_STATES, Room, RoomState
from rooms_core.services.deps import Deps
from rooms_core.services.settlement import advance_room, settle_room, void_room


class DueOutcome(StrEnum):
    LOCKED = "LOCKED"
    CANCELLED = "CANCELLED"
    SETTLED = "SETTLED"
    VOID = "VOID"
    WAITING_FOR_PRICE = "WAITING_FOR_PRICE"  # SETTLING, retry later
    NOTHING = "NOTHING"


@dataclass(frozen=True, slots=True)
class DueResult:
    outcome: DueOutcome
    plan: SettlementPlan | None = None


def hit_counts(room: Room, observation: Observation) -> bool:
    """Whether an accepted observation settles ``room`` early: the room is watched (OPEN or
    LOCKED), the observation is from after it opened and before ``settle_at``, and it meets
    the condition."""
    if room.state not in WATCHED_STATES or room.opened_at is None:
        return False
    if not room.opened_at <= observation.observed_at < room.settle_at:
        return False
    return room.condition_met(observation.value)


async def settle_on_hit(
    deps: Deps, *, room: Room, observation: Observation
) -> Result[SettlementPlan, SettleError] | None:
    """Instant settlement when ``observation`` hits the target; None when it does not."""
    if not hit_counts(room, observation):
        return None
    return await settle_room(deps, room_id=room.id, observation=observation, instant=True)


async def process_due(
    deps: Deps, *, room_id: int
) -> Result[DueResult, LifecycleError | SettleError]:
    """Do what is due for a room now: lock or cancel at ``lock_at``; at ``settle_at`` settle
    on the consensus price, or wait for one, or VOID once the grace period is over."""
    advanced = await advance_room(deps, room_id=room_id)
    if not isinstance(advanced, Success):
        error = advanced.failure()
        if not isinstance(error, NotDue):  # NotDue: maybe SETTLING already, awaiting a price
            return Failure(error)
    elif advanced.unwrap() is RoomState.LOCKED:
        return Success(DueResult(DueOutcome.LOCKED))
    elif advanced.unwrap() is RoomState.CANCELLED:
        return Success(DueResult(DueOutcome.CANCELLED))
    async with deps.uow() as uow:
        room = await uow.rooms.get(room_id)
    if room is None or room.state is not RoomState.SETTLING:
        return Success(DueResult(DueOutcome.NOTHING))
    observed = await deps.oracle.observe(room.asset)
    now = deps.clock.now()
    if isinstance(observed, Success):
        settled = await settle_room(
            deps, room_id=room_id, observation=observed.unwrap(), instant=False
        )
        if not isinstance(settled, Success):
            return Failure(settled.failure())
        return Success(DueResult(DueOutcome.SETTLED, settled.unwrap()))
    if now >= room.settle_at + deps.settings.void_grace:
        voided = await void_room(
            deps, room_id=room_id, reason=f"no valid price: {observed.failure().message}"
        )
        if not isinstance(voided, Success):
            return Failure(voided.failure())
        return Success(DueResult(DueOutcome.VOID, voided.unwrap()))
    return Success(DueResult(DueOutcome.WAITING_FOR_PRICE))
