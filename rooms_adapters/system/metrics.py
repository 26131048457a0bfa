"""Prometheus metrics of a ROOMS process, with prometheus-client, in a registry of its own.

Two kinds, because ROOMS runs as several processes on one database:

- **Events** (counters and a histogram, named ``rooms_process_*``): what *this* process did,
  counted from the domain events its units of work publish after commit
  (:meth:`RoomsMetrics.on_event`, added to the store's ``subscribers``). Exact and free,
  but only for this process: the bot places most bets, the worker settles rooms, so each
  process exports its own and Prometheus sums them (``sum(rate(...))``).
- **Storage** (named ``rooms_*``): platform-wide figures read from the database when
  Prometheus scrapes (:meth:`RoomsMetrics.refresh`): bets and volume, balances, the outbox,
  deposits and withdrawals, the oracle's source health. Any one process gives the whole
  platform's figures, whichever process did the work; they cost a few queries per scrape.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from rooms_core import events
from rooms_core.events import DomainEvent
from rooms_core.ports.figures import OperationsFigures, PlatformFigures
from rooms_core.ports.price_history import PriceHistory, SourceHealth
from rooms_core.services.admin import PlatformStats, read_platform_stats
from rooms_core.services.custody import SolvencyReport
from rooms_core.services.deps import Deps

LATENCY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
SOURCE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class StorageSnapshot:
    stats: PlatformStats
    figures: OperationsFigures
    sources: list[SourceHealth]
    read_seconds: float


class _StorageCollector:
    """Yields the last snapshot read from storage (the scrape handler refreshes it first)."""

    def __init__(self) -> None:
        self.snapshot: StorageSnapshot | None = None
        self.solvency: tuple[SolvencyReport, float] | None = None
        self.refresh_errors = 0

    def collect(self) -> Iterable[Metric]:
        yield from self._refresh_errors()
        if self.solvency is not None:
            yield from self._solvency(*self.solvency)
        if self.snapshot is not None:
            yield from self._stats(self.snapshot.stats)
            yield from self._figures(self.snapshot.figures)
            yield from self._sources(self.snapshot.sources)
            g = GaugeMetricFamily(
                "rooms_storage_read_seconds", "Time taken to read the storage figures."
            )
            g.add_metric([], self.snapshot.read_seconds)
            yield g

    def _refresh_errors(self) -> Iterator[Metric]:
        c = CounterMetricFamily(
            "rooms_storage_read_errors", "Scrapes whose storage figures could not be read."
        )
        c.add_metric([], self.refresh_errors)
        yield c

    def _stats(self, s: PlatformStats) -> Iterator[Metric]:
        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            g = GaugeMetricFamily(name, doc)
            g.add_metric([], value)
            return g

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            c = CounterMetricFamily(name, doc)
            c.add_metric([], value)
            return c

        yield gauge("rooms_users", "Registered users.", s.users)
        rooms = GaugeMetricFamily("rooms_rooms", "Rooms by state.", labels=["state"])
        for state, count in sorted(s.rooms_by_state.items()):
            rooms.add_metric([state.value], count)
        yield rooms
        yield counter("rooms_bets", "Bets ever placed (all processes).", s.bets)
        yield counter("rooms_volume_lamports", "Lamports ever staked (all processes).", s.volume)
        yield gauge("rooms_user_balances_lamports", "Sum of users' balances.", s.user_balances)
        yield gauge("rooms_in_rooms_lamports", "Stakes in rooms not yet closed.", s.in_rooms)
        yield gauge(
            "rooms_pending_withdrawals_lamports",
            "Withdrawals reserved and not yet confirmed or released.",
            s.pending_withdrawals,
        )
        yield gauge("rooms_protocol_fees_lamports", "Fees kept by the protocol.", s.protocol_fees)
        yield gauge("rooms_protocol_dust_lamports", "Flooring remainders.", s.protocol_dust)
        yield gauge(
            "rooms_outbox_waiting", "Notifications waiting to be sent.", s.notifications_waiting
        )
        yield gauge(
            "rooms_betting_paused",
            "1 while the operators pause betting.",
            s.controls.betting_paused,
        )
        yield gauge(
            "rooms_withdrawals_paused",
            "1 while the operators pause withdrawals.",
            s.controls.withdrawals_paused,
        )

    def _figures(self, f: OperationsFigures) -> Iterator[Metric]:
        for name, doc, value in (
            ("rooms_outbox_sent", "Notifications ever sent.", f.notifications_sent),
            ("rooms_outbox_given_up", "Notifications given up on.", f.notifications_given_up),
            ("rooms_deposits", "Deposits ever credited.", f.deposits),
            ("rooms_deposited_lamports", "Lamports ever credited by deposits.", f.deposited),
        ):
            c = CounterMetricFamily(name, doc)
            c.add_metric([], value)
            yield c
        count = GaugeMetricFamily("rooms_withdrawals", "Withdrawals by state.", labels=["state"])
        amount = GaugeMetricFamily(
            "rooms_withdrawals_lamports", "Lamports of withdrawals by state.", labels=["state"]
        )
        for state in sorted(f.withdrawals):
            count.add_metric([state.value], f.withdrawals[state])
            amount.add_metric([state.value], f.withdrawn.get(state, 0))
        yield count
        yield amount

    def _sources(self, sources: list[SourceHealth]) -> Iterator[Metric]:
        used = GaugeMetricFamily(
            "rooms_oracle_source_used",
            "Oracle decisions that used the source's quote in the last 5 minutes.",
            labels=["source"],
        )
        up = GaugeMetricFamily(
            "rooms_oracle_source_up",
            "1 if the oracle used the source's quote in the last 5 minutes.",
            labels=["source"],
        )
        rejected = GaugeMetricFamily(
            "rooms_oracle_source_rejections",
            "Quotes of the source the oracle rejected in the last 5 minutes, by reason.",
            labels=["source", "reason"],
        )
        for health in sources:
            used.add_metric([health.source], health.used)
            up.add_metric([health.source], 1 if health.used else 0)
            for reason, n in sorted(health.rejected.items()):
                rejected.add_metric([health.source, reason], n)
        yield used
        yield up
        yield rejected

    def _solvency(self, report: SolvencyReport, at: float) -> Iterator[Metric]:
        margin = GaugeMetricFamily(
            "rooms_solvency_surplus_lamports",
            "Held on chain less owed in the ledger, at the last measurement in this process.",
        )
        margin.add_metric([], report.surplus)
        yield margin
        when = GaugeMetricFamily(
            "rooms_solvency_measured_timestamp_seconds", "When solvency was last measured."
        )
        when.add_metric([], at)
        yield when


class RoomsMetrics:
    """The metrics of one process. Hand :meth:`on_event` to the store's ``subscribers``;
    call :meth:`refresh` before each scrape; :meth:`render` gives the exposition text."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.bets = Counter("rooms_process_bets", "Bets placed by this process.", registry=r)
        self.bet_volume = Counter(
            "rooms_process_bet_volume_lamports", "Lamports staked by this process.", registry=r
        )
        self.closed = Counter(
            "rooms_process_rooms_closed",
            "Rooms this process closed, by outcome (YES, NO, CANCELLED, VOID).",
            ["outcome"],
            registry=r,
        )
        self.settlement_latency = Histogram(
            "rooms_process_settlement_latency_seconds",
            "From the observation that hit the target (or the start of settling) to SETTLED.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.deposits = Counter(
            "rooms_process_deposits", "Deposits this process credited.", registry=r
        )
        self.withdrawal_changes = Counter(
            "rooms_process_withdrawal_changes",
            "Withdrawal state changes made by this process, by new state.",
            ["state"],
            registry=r,
        )
        self.storage = _StorageCollector()
        r.register(self.storage)
        self._settling_since: dict[int, datetime] = {}

    def on_event(self, event: DomainEvent) -> None:
        """Count one committed domain event (a store subscriber: cheap, never raises)."""
        match event:
            case events.BetPlaced(stake=stake):
                self.bets.inc()
                self.bet_volume.inc(stake)
            case events.RoomSettling(room_id=room_id, at=at, trigger_at=trigger_at):
                self._settling_since[room_id] = trigger_at or at
            case events.RoomSettled(room_id=room_id, at=at, outcome=outcome):
                self.closed.labels(outcome).inc()
                started = self._settling_since.pop(room_id, None)
                if started is not None:
                    self.settlement_latency.observe(max(0.0, (at - started).total_seconds()))
            case events.RoomCancelled():
                self.closed.labels("CANCELLED").inc()
            case events.RoomVoided(room_id=room_id):
                self._settling_since.pop(room_id, None)
                self.closed.labels("VOID").inc()
            case events.DepositCredited():
                self.deposits.inc()
            case events.WithdrawalChanged(state=state):
                self.withdrawal_changes.labels(state).inc()
            case _:
                pass

    def solvency_measured(self, report: SolvencyReport) -> None:
        """Keep a solvency report measured in this process, for the margin gauge."""
        self.storage.solvency = (report, time.time())

    async def refresh(self, deps: Deps, figures: PlatformFigures, history: PriceHistory) -> None:
        """Read the storage figures for the next :meth:`render` (a failed read is counted
        and the previous figures are kept, so one slow scrape does not blank the graphs)."""
        started = time.perf_counter()
        try:
            stats = await read_platform_stats(deps)
            operations = await figures.read()
            sources = await history.source_health(deps.clock.now() - SOURCE_WINDOW)
        except Exception:
            self.storage.refresh_errors += 1
            raise
        self.storage.snapshot = StorageSnapshot(
            stats, operations, sources, time.perf_counter() - started
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
