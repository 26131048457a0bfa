"""The market engine's background work, as steps and loops on the clock port.

- :func:`monitor_once`: one oracle poll for every distinct asset among watched rooms (OPEN
  or LOCKED); each room whose target the consensus price meets is settled at once, with the
  observation's time as the trigger (bets placed from then on are refunded).
- :func:`schedule_once`: every room whose ``lock_at`` or ``settle_at`` has passed moves on
  (:func:`rooms_core.services.engine.process_due`: lock, cancel, settle on the consensus
  price, wait for one, or VOID after the grace period). A database adapter hands each due
  room to one scanner (``FOR UPDATE SKIP LOCKED``), and settling takes the room's own hold,
  so several engines can run side by side.
- :func:`dispatch_due` (in :mod:`rooms_core.services.dispatch`): the outbox.
- :func:`run_engine`: the three as loops until ``stop`` is set, each repeated transient
  storage failure retried (:mod:`rooms_core.services.retry`), every other error reported
  through ``on_error`` without stopping the loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import anyio
from returns.result import Failure, Success

from rooms_core.models import Asset, OutboxMessage
from rooms_core.ports.messenger import Messenger
from rooms_core.room import WATCHED_STATES
from rooms_core.services.custody import Custody, custody_once
from rooms_core.services.deps import Deps
from rooms_core.services.dispatch import (
    DispatchSettings,
    SendRate,
    dispatch_due,
    render_notification,
)
from rooms_core.services.engine import DueOutcome, hit_counts, process_due, settle_on_hit
from rooms_core.services.retry import retrying


@dataclass(frozen=True, slots=True)
class EngineSettings:
    poll_seconds: float = 3.0  # the oracle monitor's interval
    schedule_seconds: float = 1.0  # how often due rooms are looked for
    dispatch_seconds: float = 0.2  # how often the outbox is looked at when idle
    custody_seconds: float = 10.0  # deposits, sweeps and withdrawals
    scan_batch: int = 100
    watched_limit: int = 10_000
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)


@dataclass(slots=True)
class EngineCounts:
    polls: int = 0
    instant_settlements: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    notifications_sent: int = 0
    deposits_credited: int = 0
    withdrawals_confirmed: int = 0
    errors: int = 0


async def monitor_once(deps: Deps, limit: int = 10_000) -> list[int]:
    """Poll once; the ids of the rooms settled because their target was hit."""
    async with deps.uow() as uow:
        rooms = await uow.rooms.list_by_state(sorted(WATCHED_STATES), limit=limit)
    if not rooms:
        return []
    assets: dict[str, Asset] = {r.asset.key: r.asset for r in rooms}
    observed = await deps.oracle.observe_many(list(assets.values()))
    settled: list[int] = []
    for room in rooms:
        result = observed.get(room.asset)
        if not isinstance(result, Success):
            continue
        observation = result.unwrap()
        if not hit_counts(room, observation):
            continue
        outcome = await retrying(partial(settle_on_hit, deps, room=room, observation=observation))
        if isinstance(outcome, Success):
            settled.append(room.id)
    return settled


@dataclass(slots=True)
class PriceBackoff:
    """Rooms waiting for a settlement price are asked again after 1, 2, 4, ... up to
    ``longest`` seconds, not on every scan (the grace period still ends them on time)."""

    longest: float = 30.0
    waiting: dict[int, tuple[int, datetime]] = field(default_factory=dict)

    def ready(self, room_id: int, now: datetime) -> bool:
        entry = self.waiting.get(room_id)
        return entry is None or now >= entry[1]

    def failed(self, room_id: int, now: datetime) -> None:
        attempts = self.waiting.get(room_id, (0, now))[0] + 1
        delay = min(self.longest, 2.0 ** (attempts - 1))
        self.waiting[room_id] = (attempts, now + timedelta(seconds=delay))

    def done(self, room_id: int) -> None:
        self.waiting.pop(room_id, None)


async def schedule_once(
    deps: Deps, limit: int = 100, backoff: PriceBackoff | None = None
) -> dict[int, DueOutcome | str]:
    """Process every due room once; what happened to each (an error's name on failure)."""
    now = deps.clock.now()
    async with deps.uow() as uow:
        due = [r.id for r in await uow.rooms.due(now, limit)]
    done: dict[int, DueOutcome | str] = {}
    for room_id in due:
        if backoff is not None and not backoff.ready(room_id, now):
            continue
        result = await retrying(partial(process_due, deps, room_id=room_id))
        if isinstance(result, Failure):
            done[room_id] = type(result.failure()).__name__
            continue
        outcome = result.unwrap().outcome
        done[room_id] = outcome
        if backoff is not None:
            if outcome is DueOutcome.WAITING_FOR_PRICE:
                backoff.failed(room_id, now)
            else:
                backoff.done(room_id)
    return done


async def run_engine(
    deps: Deps,
    messenger: Messenger | None,
    stop: anyio.Event,
    settings: EngineSettings | None = None,
    counts: EngineCounts | None = None,
    on_error: Callable[[str, BaseException], None] | None = None,
    custody: Custody | None = None,
    render: Callable[[OutboxMessage], str] = render_notification,
) -> EngineCounts:
    """Run the monitor, the scheduler, (with a messenger) the dispatcher and (with custody)
    the deposit watcher, sweeps and withdrawals until ``stop``. ``render`` words each
    notification (the bot passes its own catalogue's)."""
    settings = settings or EngineSettings()
    counts = counts or EngineCounts()
    clock = deps.clock

    async def loop(name: str, step: Callable[[], Awaitable[bool]], pause: float) -> None:
        while not stop.is_set():
            try:
                busy = await step()
            except Exception as error:  # a bug or an outage: report it, keep the engine up
                counts.errors += 1
                if on_error is not None:
                    on_error(name, error)
                busy = False
            if not busy:
                await _sleep_or_stop(clock.sleep(pause), stop)

    async def monitor() -> bool:
        counts.polls += 1
        counts.instant_settlements += len(await monitor_once(deps, settings.watched_limit))
        return False

    backoff = PriceBackoff()

    async def schedule() -> bool:
        done = await schedule_once(deps, settings.scan_batch, backoff)
        for outcome in done.values():
            counts.outcomes[str(outcome)] = counts.outcomes.get(str(outcome), 0) + 1
        return len(done) >= settings.scan_batch  # a full batch: look again at once

    rate = SendRate(clock, settings.dispatch)

    async def dispatch() -> bool:
        assert messenger is not None
        report = await retrying(
            partial(dispatch_due, deps, messenger, rate, settings=settings.dispatch, render=render)
        )
        counts.notifications_sent += report.sent
        return report.sent > 0 and rate.available() > 0

    async def guard() -> bool:
        assert custody is not None
        run = await retrying(partial(custody_once, deps, custody))
        counts.deposits_credited += run.deposits.credited
        counts.withdrawals_confirmed += len(run.withdrawals.confirmed)
        problems = run.deposits.errors + run.sweeps.errors + run.withdrawals.errors
        if problems and on_error is not None:
            on_error("custody", RuntimeError("; ".join(problems)))
        return False

    async with anyio.create_task_group() as group:
        group.start_soon(loop, "monitor", monitor, settings.poll_seconds)
        if custody is not None:
            group.start_soon(loop, "custody", guard, settings.custody_seconds)
        group.start_soon(loop, "scheduler", schedule, settings.schedule_seconds)
        if messenger is not None:
            group.start_soon(loop, "dispatcher", dispatch, settings.dispatch_seconds)
    return counts


async def _sleep_or_stop(sleep: Awaitable[None], stop: anyio.Event) -> None:
    """Sleep, but wake as soon as ``stop`` is set."""
    async with anyio.create_task_group() as group:

        async def sleeper() -> None:
            await sleep
            group.cancel_scope.cancel()

        async def stopper() -> None:
            await stop.wait()
            group.cancel_scope.cancel()

        group.start_soon(sleeper)
        group.start_soon(stopper)
