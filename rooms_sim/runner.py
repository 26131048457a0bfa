"""The simulation loop: a virtual clock drives hosts, agents, the oracle monitor and the
scheduler through the real core services over the in-memory adapters.

One step is one oracle poll (3 simulated seconds by default). Within a step at time t:

1. the oracle observes every asset with active rooms; rooms whose target is hit are queued
   for instant settlement;
2. late bettors, who watch the same public price, try to bet YES half a second later;
3. the monitor settles the hit rooms a second after the observation (the late bets must be
   refunded: they came at or after the triggering observation);
4. the scheduler locks, cancels, settles or voids the rooms whose time has come;
5. hosts create rooms; on decision ticks agents bet, withdraw and top up.

After the scenario's duration no new rooms or bets come, and the clock runs on until every
room has closed, so the report covers every room created.
"""

from __future__ import annotations

import gc
import heapq
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from functools import partial
from operator import attrgetter

from returns.result import Success

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.container import InMemoryContainer
from rooms_adapters.memory.store import InMemoryStore
from rooms_adapters.memory.uow import InMemoryUnitOfWork
from rooms_core.ledger import (
    PROTOCOL_DUST_ACCOUNTS,
)
from rooms_core.models import Asset, BetStatus, Comparator, Observation, Side
from rooms_core.money import LAMPORTS_PER_SOL
from rooms_core.oracle import ConsensusOracle, OracleSettings
from rooms_core.parimutuel import SettlementPlan
from rooms_core.room import Room, RoomState
from rooms_core.services import bets as bet_service
from rooms_core.services import rooms as room_service
from rooms_core.services import users as user_service
from rooms_core.services import wallet
from rooms_core.services.deps import Deps
from rooms_core.services.dispatch import DispatchSettings
from rooms_core.services.engine import DueOutcome, hit_counts, process_due, settle_on_hit
from rooms_core.settings import RoomsSettings
from rooms_sim.agents import Agent, RoomView, Strategy, choose_side, choose_stake
from rooms_sim.feeds import SimulatedFeed
from rooms_sim.metrics import RoomRecord, SimMetrics, TimeSample, busiest_minute, queue_waits
from rooms_sim.prices import PriceModel
from rooms_sim.scenario import Scenario, build_price_model

SAMPLE_EVERY_SECONDS = 600
LATE_BET_DELAY = 0.5
SETTLE_DELAY = 1.0
# The monitor skips a poll of an asset when its true price is further from every active
# target than REACH_NOISE_MULTIPLE times the feeds' noise (a standard deviation of each
# quote): a quote that far off has a probability of about 1e-15, and a hit needs the
# consensus of the quotes to cross, so no source can report a hit then and the poll could
# not change any room. Polls that can matter all happen, every 3 s.
REACH_NOISE_MULTIPLE = 8
MIN_REACH = 0.001
PRICE_RETRY_SECONDS = (15, 30, 60, 120)
ProgressCallback = Callable[[float, int], None]


@dataclass(slots=True)
class SimAsset:
    asset: Asset
    label: str
    model: PriceModel
    weight: float
    lowest_gte: float = math.inf  # the lowest ">=" target among active rooms
    highest_lte: float = -math.inf  # the highest "<=" target among active rooms


@dataclass(slots=True)
class ActiveRoom:
    room_id: int
    asset_key: str
    gte: bool
    target: float
    lock_at_s: float
    settle_at_s: float
    bettors: set[int] = field(default_factory=set)


@dataclass
class Simulation:
    scenario: Scenario
    progress: ProgressCallback | None = None

    def __post_init__(self) -> None:
        sc = self.scenario
        seed = sc.seed
        self.rng = random.Random(f"{seed}:decisions")
        self.container = InMemoryContainer(start=sc.start, seed=seed)
        self.settings = RoomsSettings(
            protocol_fee_bps=sc.fees.protocol_bps,
            host_fee_bps=sc.fees.host_bps,
            referral_level_bps=tuple(sc.fees.referral_level_bps),
            min_players=sc.rooms.min_players,
        )
        self.container.settings.override(self.settings)
        self.container.oracle_settings.override(
            OracleSettings(
                max_age=timedelta(seconds=sc.oracle.max_age_seconds),
                max_deviation_bps=round(sc.oracle.max_deviation_bps),
                default_quorum=sc.oracle.quorum,
            )
        )
        self.clock: VirtualClock = self.container.clock()
        self.assets: list[SimAsset] = []
        for index, cfg in enumerate(sc.assets):
            model = build_price_model(
                cfg, random.Random(f"{seed}:price:{index}"), step=sc.oracle.poll_seconds
            )
            self.assets.append(SimAsset(cfg.asset, cfg.label, model, cfg.weight))
        self.asset_by_key = {a.asset.key: a for a in self.assets}
        self.reach = max(MIN_REACH, REACH_NOISE_MULTIPLE * sc.oracle.noise_bps / 10_000)
        models = {a.asset.key: a.model for a in self.assets}
        outages = [
            (
                w.start_hour * 3600.0,
                w.end_hour * 3600.0,
                sc.asset_config(w.asset).asset.key if w.asset else None,
            )
            for w in sc.oracle.outage_windows
        ]
        feeds = [
            SimulatedFeed(
                f"sim-feed-{i + 1}",
                self.clock,
                sc.start,
                models,
                random.Random(f"{seed}:feed:{i}"),
                noise_bps=sc.oracle.noise_bps,
                stale_probability=sc.oracle.stale_probability,
                outage_probability=sc.oracle.outage_probability,
                outages=outages,
                stale_by=timedelta(seconds=sc.oracle.max_age_seconds * 2 + 1),
            )
            for i in range(sc.oracle.sources)
        ]
        self.container.price_sources.override(feeds)
        self.container.concurrent_price_fetch.override(False)
        deps: Deps = self.container.deps()
        # The container's unit-of-work provider, called directly: the same unit of work over
        # the same store, without the provider machinery (~1 us each, 290,000 a run).
        self.deps = replace(deps, uow=partial(InMemoryUnitOfWork, self.container.store()))
        self.oracle: ConsensusOracle = self.container.oracle()
        self.store: InMemoryStore = self.container.store()

        self.agents: list[Agent] = []
        self.hosts: list[Agent] = []
        self.active: dict[int, ActiveRoom] = {}
        self.active_by_asset: dict[str, dict[int, ActiveRoom]] = {
            a.asset.key: {} for a in self.assets
        }
        self.bettable: list[int] = []
        self.events: list[tuple[float, int, int]] = []  # (second, seq, room id)
        self._seq = 0
        self.retries: dict[int, int] = defaultdict(int)
        self.records: dict[int, RoomRecord] = {}
        self.metrics = SimMetrics(sc.name, seed, sc.duration_hours)
        self._deposit_seq = 0
        self._withdraw_seq = 0
        self._cum_protocol = 0
        self._cum_host = 0
        self._cum_referral = 0

    # --- helpers ---------------------------------------------------------------------

    def _t(self) -> float:
        return (self.clock.now() - self.scenario.start).total_seconds()

    def _push(self, at_s: float, room_id: int) -> None:
        self._seq += 1
        heapq.heappush(self.events, (at_s, self._seq, room_id))

    def _balance(self, agent: Agent) -> int:
        return self.store.balances.get(agent.account, 0)

    def _poisson(self, mean: float) -> int:
        if mean <= 0:
            return 0
        limit, k, p = math.exp(-mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    # --- population ------------------------------------------------------------------

    def _regular_deposit(self) -> int:
        """A deposit drawn from ``initial_deposit_sol``, in whole thousandths of a SOL."""
        low, high = self.scenario.agents.initial_deposit_sol
        return int(self.rng.uniform(low, high) * 1000) * (LAMPORTS_PER_SOL // 1000)

    async def _deposit(self, agent: Agent, amount: int) -> None:
        self._deposit_seq += 1
        result = await wallet.credit_deposit(
            self.deps,
            address=agent.address,
            signature=f"simdeposit{self._deposit_seq}",
            instruction_index=0,
            amount=amount,
        )
        if isinstance(result, Success) and result.unwrap():
            agent.deposited += amount
            agent.deposits_made += 1

    async def _new_agent(self, strategy: Strategy | None, number: int) -> Agent:
        cfg = self.scenario.agents
        code = None
        if self.agents and self.rng.random() < cfg.referral_probability:
            code = self.rng.choice(self.agents).referral_code
        result = await user_service.register_user(
            self.deps,
            telegram_id=number,
            username=f"agent{number}",
            referral_code=code,
            deposit_address=f"SimDepositAddress{number}",
        )
        if not isinstance(result, Success):
            raise RuntimeError(f"simulated sign-up failed: {result.failure()}")
        user = result.unwrap()
        agent = Agent(
            user_id=user.id,
            strategy=strategy or Strategy.NOISE,
            address=f"SimDepositAddress{number}",
            referral_code=user.referral_code,
        )
        amount = cfg.whale_deposit if strategy is Strategy.WHALE else self._regular_deposit()
        await self._deposit(agent, amount)
        return agent

    async def _populate(self) -> None:
        cfg = self.scenario.agents
        strategies: list[Strategy] = []
        for strategy in Strategy:
            strategies.extend([strategy] * int(getattr(cfg, strategy.value)))
        self.rng.shuffle(strategies)
        number = 0
        for _ in range(cfg.hosts):
            number += 1
            host = await self._new_agent(None, number)
            self.hosts.append(host)
        for strategy in strategies:
            number += 1
            agent = await self._new_agent(strategy, number)
            self.agents.append(agent)
            self.metrics.agents_by_strategy[strategy.value] = (
                self.metrics.agents_by_strategy.get(strategy.value, 0) + 1
            )
        self.late_agents = [a for a in self.agents if a.strategy is Strategy.LATE]
        self.regular_agents = [a for a in self.agents if a.strategy is not Strategy.LATE]

    # --- rooms -----------------------------------------------------------------------

    async def _create_room(self) -> None:
        sc = self.scenario
        weights = [a.weight for a in self.assets]
        sim_asset = self.rng.choices(self.assets, weights=weights)[0]
        now_s = self._t()
        price = sim_asset.model.price_at(now_s)
        offset = self.rng.gauss(0.0, sc.rooms.target_spread)
        if abs(offset) < 1e-4:
            offset = 1e-4
        target = price * (1.0 + offset)
        comparator = Comparator.GTE if target > price else Comparator.LTE
        low, high = sc.rooms.min_duration_minutes, sc.rooms.max_duration_minutes
        minutes = math.exp(self.rng.uniform(math.log(low), math.log(high)))
        settle_at = self.clock.now() + timedelta(seconds=round(minutes * 60))
        host = self.rng.choice(self.hosts)
        spec = room_service.RoomSpec(
            title=f"Will {sim_asset.label} go {comparator.value} {target:.6g}?",
            asset_kind=sim_asset.asset.kind,
            asset_id=sim_asset.asset.id,
            metric=sim_asset.asset.metric,
            comparator=comparator,
            target=Decimal(f"{target:.6g}"),
            settle_at=settle_at,
        )
        result = await room_service.create_room(self.deps, host_id=host.user_id, spec=spec)
        if not isinstance(result, Success):
            key = f"create:{type(result.failure()).__name__}"
            self.metrics.bets_rejected_by_reason[key] = (
                self.metrics.bets_rejected_by_reason.get(key, 0) + 1
            )
            return
        room = result.unwrap()
        self.metrics.rooms_created += 1
        start = self.scenario.start
        lock_s = (room.lock_at - start).total_seconds()
        settle_s = (room.settle_at - start).total_seconds()
        active = ActiveRoom(
            room.id,
            room.asset.key,
            comparator is Comparator.GTE,
            float(room.target),
            lock_s,
            settle_s,
        )
        self.active[room.id] = active
        self.active_by_asset[room.asset.key][room.id] = active
        self.bettable.append(room.id)
        self._refresh_reach(room.asset.key)
        self._push(lock_s, room.id)
        self._push(settle_s, room.id)
        self.records[room.id] = RoomRecord(
            room_id=room.id,
            asset=sim_asset.label,
            comparator=comparator.value,
            target=float(room.target),
            created_h=now_s / 3600,
            lock_h=lock_s / 3600,
            settle_h=settle_s / 3600,
        )

    def _record_close(self, room_id: int, plan: SettlementPlan | None) -> None:
        room = self.store.rooms[room_id]
        record = self.records[room_id]
        record.state = room.state.value
        record.closed_h = self._t() / 3600
        record.outcome = room.outcome.value if room.outcome else None
        record.instant = room.trigger_at is not None
        record.yes_pool, record.no_pool = room.yes_pool, room.no_pool
        record.bets = room.bettors
        if record.implied_yes is None and room.total_pool:
            record.implied_yes = room.yes_pool / room.total_pool
        if plan is not None:
            record.refunded_all = plan.outcome is not None and plan.fee == 0
            self._cum_protocol += plan.protocol_fee + plan.dust
            self._cum_host += plan.host_fee
            self._cum_referral += plan.referral_total
        active = self.active.pop(room_id, None)
        if active is not None:
            self.active_by_asset[active.asset_key].pop(room_id, None)
            self._refresh_reach(active.asset_key)
        if room_id in self.bettable:
            self.bettable.remove(room_id)

    def _refresh_reach(self, asset_key: str) -> None:
        rooms = self.active_by_asset[asset_key].values()
        sim_asset = self.asset_by_key[asset_key]
        sim_asset.lowest_gte = min((r.target for r in rooms if r.gte), default=math.inf)
        sim_asset.highest_lte = max((r.target for r in rooms if not r.gte), default=-math.inf)

    async def _process_due(self) -> None:
        now_s = self._t()
        while self.events and self.events[0][0] <= now_s:
            _, _, room_id = heapq.heappop(self.events)
            if room_id not in self.active:
                continue
            result = await process_due(self.deps, room_id=room_id)
            if not isinstance(result, Success):
                continue
            due = result.unwrap()
            if due.outcome is DueOutcome.LOCKED:
                room = self.store.rooms[room_id]
                if room.total_pool:
                    self.records[room_id].implied_yes = room.yes_pool / room.total_pool
                if room_id in self.bettable:
                    self.bettable.remove(room_id)
            elif due.outcome in (DueOutcome.CANCELLED, DueOutcome.SETTLED, DueOutcome.VOID):
                self._record_close(room_id, due.plan)
            elif due.outcome is DueOutcome.WAITING_FOR_PRICE:
                tries = self.retries[room_id]
                self.retries[room_id] += 1
                delay = PRICE_RETRY_SECONDS[min(tries, len(PRICE_RETRY_SECONDS) - 1)]
                self._push(now_s + delay, room_id)

    # --- oracle monitor --------------------------------------------------------------

    async def _monitor(self, trading: bool) -> None:
        hits: list[tuple[Room, Observation]] = []
        now_s = self._t()
        polled: list[SimAsset] = []
        for sim_asset in self.assets:
            if not self.active_by_asset[sim_asset.asset.key]:
                continue
            price = sim_asset.model.price_at(now_s)
            if price < sim_asset.lowest_gte * (1 - self.reach) and price > sim_asset.highest_lte * (
                1 + self.reach
            ):
                continue
            polled.append(sim_asset)
        if not polled:
            return
        # One request per source for every asset polled (as the live monitor asks): each
        # source quotes the assets in the same order as one poll per asset would.
        self.metrics.oracle_polls += len(polled)
        observations = await self.oracle.observe_many([a.asset for a in polled])
        for sim_asset in polled:
            rooms = self.active_by_asset[sim_asset.asset.key]
            observed = observations[sim_asset.asset]
            if not isinstance(observed, Success):
                self.metrics.oracle_no_consensus += 1
                continue
            observation = observed.unwrap()
            value = float(observation.value)
            if sim_asset.highest_lte < value < sim_asset.lowest_gte:
                continue  # the consensus crosses no target
            for active in list(rooms.values()):
                crossed = value >= active.target if active.gte else value <= active.target
                if not crossed:
                    continue
                room = self.store.rooms[active.room_id]
                if hit_counts(room, observation):
                    hits.append((room, observation))
        if not hits:
            return
        if trading and self.late_agents:
            self.clock.advance(LATE_BET_DELAY)
            for room, _ in hits:
                await self._late_bets(room.id)
            self.clock.advance(SETTLE_DELAY - LATE_BET_DELAY)
        else:
            self.clock.advance(SETTLE_DELAY)
        for room, observation in hits:
            result = await settle_on_hit(self.deps, room=room, observation=observation)
            if isinstance(result, Success):
                self._record_close(room.id, result.unwrap())

    async def _late_bets(self, room_id: int) -> None:
        active = self.active.get(room_id)
        if active is None:
            return
        for agent in self.late_agents:
            if agent.user_id in active.bettors or self.rng.random() < 0.5:
                continue
            self.metrics.late_bets_attempted += 1
            await self._bet(agent, room_id, Side.YES)

    # --- agents ----------------------------------------------------------------------

    async def _bet(self, agent: Agent, room_id: int, side: Side | None) -> None:
        active = self.active[room_id]
        room = self.store.rooms[room_id]
        if side is None:
            sim_asset = self.asset_by_key[active.asset_key]
            true_p = 0.5
            if agent.strategy in (Strategy.INFORMED, Strategy.WHALE):
                now_s = self._t()
                price = sim_asset.model.price_at(now_s)
                true_p = sim_asset.model.touch_probability(
                    price, active.target, active.gte, max(active.settle_at_s - now_s, 1.0)
                )
            view = RoomView(room_id, room.yes_pool, room.no_pool, true_p)
            side = choose_side(agent.strategy, view, self.rng)
        stake = choose_stake(
            agent.strategy,
            self._balance(agent),
            self.settings.min_stake,
            self.settings.max_stake,
            self.rng,
        )
        if stake is None:
            self._reject("InsufficientBalance")
            return
        result = await bet_service.place_bet(
            self.deps,
            user_id=agent.user_id,
            room_id=room_id,
            side=side,
            stake=stake,
            idempotency_key=f"sim-{room_id}",
        )
        if not isinstance(result, Success):
            self._reject(type(result.failure()).__name__)
            return
        active.bettors.add(agent.user_id)
        self.metrics.bets_placed += 1
        self.metrics.volume += stake

    def _reject(self, reason: str) -> None:
        rejected = self.metrics.bets_rejected_by_reason
        rejected[reason] = rejected.get(reason, 0) + 1

    async def _decision_tick(self) -> None:
        cfg = self.scenario.agents
        min_stake = self.settings.min_stake
        tick_hours = cfg.decision_interval_seconds / 3600
        rng, balances, bettable, active = self.rng, self.store.balances, self.bettable, self.active
        bet_probability = cfg.bet_probability
        withdraw_above = 1 - cfg.withdraw_probability * tick_hours
        for agent in self.regular_agents:
            roll = rng.random()
            if roll < bet_probability and bettable:
                room_id = rng.choice(bettable)
                if agent.user_id not in active[room_id].bettors:
                    await self._bet(agent, room_id, None)
            elif roll > withdraw_above:
                await self._withdraw(agent)
            elif balances.get(agent.account, 0) < min_stake and rng.random() < 0.02:
                await self._deposit(agent, self._regular_deposit())

    async def _withdraw(self, agent: Agent) -> None:
        balance = self._balance(agent)
        amount = int(balance * self.rng.uniform(0.2, 0.6))
        amount -= amount % 1_000_000
        if amount < self.settings.min_withdrawal:
            return
        self._withdraw_seq += 1
        requested = await wallet.request_withdrawal(
            self.deps,
            user_id=agent.user_id,
            destination=_OUTSIDE_ADDRESS,
            amount=amount,
            idempotency_key=f"simw{self._withdraw_seq}",
        )
        if not isinstance(requested, Success):
            return
        withdrawal = requested.unwrap()
        if withdrawal.state.value != "APPROVED":
            return  # waits for admins; the simulator has none, so it stays reserved
        await wallet.record_withdrawal_sent(
            self.deps,
            withdrawal_id=withdrawal.id,
            signature=f"simwithdrawal{withdrawal.id}",
            blockhash="simblockhash",
            last_valid_block_height=0,
        )
        confirmed = await wallet.confirm_withdrawal(self.deps, withdrawal_id=withdrawal.id)
        if isinstance(confirmed, Success):
            agent.withdrawn += amount

    # --- sampling --------------------------------------------------------------------

    def _sample(self) -> None:
        now_s = self._t()
        open_pools = sum(self.store.rooms[r].total_pool for r in self.active)
        self.metrics.samples.append(
            TimeSample(
                t_h=now_s / 3600,
                open_pools=open_pools,
                active_rooms=len(self.active),
                protocol_fees=self._cum_protocol,
                host_fees=self._cum_host,
                referral_rewards=self._cum_referral,
            )
        )
        for sim_asset in self.assets:
            path = self.metrics.price_paths.setdefault(sim_asset.label, [])
            path.append((now_s / 3600, sim_asset.model.price_at(now_s)))

    # --- the loop --------------------------------------------------------------------

    async def run(self) -> SimMetrics:
        # The store keeps every row of the run (millions of objects in the stress scenario)
        # and the run makes almost no cyclic garbage (a few hundred objects an hour), yet the
        # collector would walk the rows again and again as they age through its generations.
        # So it does not run during a run: what exists is moved out of its sight (gc.freeze,
        # which costs nothing) at each sample, and everything is given back at the end.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return await self._run()
        finally:
            gc.unfreeze()
            if enabled:
                gc.enable()

    async def _run(self) -> SimMetrics:
        sc = self.scenario
        await self._populate()
        gc.freeze()
        step = sc.oracle.poll_seconds
        trading_steps = int(sc.duration_hours * 3600 / step)
        decision_every = max(1, round(sc.agents.decision_interval_seconds / step))
        sample_every = max(1, round(SAMPLE_EVERY_SECONDS / step))
        rooms_per_step = sc.rooms.per_hour * step / 3600
        drain_limit = trading_steps + int(
            (sc.rooms.max_duration_minutes * 60 + self.settings.void_grace.total_seconds() + 600)
            / step
        )
        progress_every = max(1, trading_steps // 200)
        k = 0
        while True:
            k += 1
            trading = k <= trading_steps
            if not trading and (not self.active or k > drain_limit):
                break
            self.clock.advance_to(sc.start + timedelta(seconds=k * step))
            await self._monitor(trading)
            await self._process_due()
            if trading:
                for _ in range(self._poisson(rooms_per_step)):
                    await self._create_room()
                if k % decision_every == 0:
                    await self._decision_tick()
            if k % sample_every == 0:
                self._sample()
                gc.freeze()
            if self.progress is not None and k % progress_every == 0:
                self.progress(min(1.0, k / trading_steps), self.metrics.bets_placed)
        if self.progress is not None:
            self.progress(1.0, self.metrics.bets_placed)
        self._sample()
        self._finish()
        return self.metrics

    def _finish(self) -> None:
        """End-of-run figures come from the store itself, the books of record."""
        m, store = self.metrics, self.store
        for record in self.records.values():
            room = store.rooms[record.room_id]
            if record.closed_h is None:
                record.state = room.state.value
        m.rooms = sorted(self.records.values(), key=lambda r: r.room_id)
        by_state: dict[str, int] = defaultdict(int)
        for room in store.rooms.values():
            by_state[room.state.value] += 1
        m.rooms_by_state = dict(sorted(by_state.items()))
        m.rooms_settled_instantly = sum(
            1 for r in store.rooms.values() if r.state is RoomState.SETTLED and r.trigger_at
        )
        m.rooms_refunded_no_opposition = sum(1 for r in m.rooms if r.refunded_all)
        refunded_by_reason: dict[str, int] = defaultdict(int)
        for bet in store.bets.values():
            if bet.status is BetStatus.REFUNDED:
                m.bets_refunded += 1
                m.refunds += bet.payout
                refunded_by_reason[str(bet.refund_reason)] += 1
            elif bet.status is BetStatus.WON:
                m.payouts += bet.payout
        m.bets_refunded_by_reason = dict(sorted(refunded_by_reason.items()))
        m.late_bets_refunded = refunded_by_reason.get("LATE_BET", 0)
        m.bets_rejected_by_reason = dict(sorted(m.bets_rejected_by_reason.items()))
        levels: dict[int, int] = defaultdict(int)
        for reward in store.rewards:
            levels[reward.level] += reward.amount
        m.referral_rewards_by_level = {
            lvl: levels.get(lvl, 0) for lvl in range(1, len(self.settings.referral_level_bps) + 1)
        }
        m.dust = sum(store.balances.get(a, 0) for a in PROTOCOL_DUST_ACCOUNTS)
        m.protocol_fees = sum(
            v for a, v in store.balances.items() if a.startswith("protocol:fees:")
        )
        m.host_fees = self._cum_host
        m.deposits = sum(d.amount for d in store.deposits.values())
        m.deposit_count = len(store.deposits)
        confirmed = [w for w in store.withdrawals.values() if w.state.value == "CONFIRMED"]
        m.withdrawals = sum(w.amount for w in confirmed)
        m.withdrawal_count = len(confirmed)

        pairs = [
            (r.implied_yes, 1 if r.outcome == "YES" else 0)
            for r in m.rooms
            if r.state == "SETTLED" and r.implied_yes is not None and not r.refunded_all
        ]
        m.calibration_rooms = len(pairs)
        m.brier_score = (
            round(sum((p - o) ** 2 for p, o in pairs) / len(pairs), 6) if pairs else None
        )
        pnl: dict[str, int] = defaultdict(int)
        for agent in self.hosts:
            pnl["host"] += self._balance(agent) + agent.withdrawn - agent.deposited
        for agent in self.agents:
            pnl[agent.strategy.value] += self._balance(agent) + agent.withdrawn - agent.deposited
        m.pnl_by_strategy = dict(sorted(pnl.items()))
        self._notification_load()
        m.invariants = store.books_checks()

    def _notification_load(self) -> None:
        """What the run would ask of the bot's dispatcher: the notifications queued, the
        busiest minute, and how long they would wait at its overall sending limit (the
        one-message-a-second limit per chat is left out: it only delays a user's own
        messages behind each other)."""
        m, start = self.metrics, self.scenario.start
        messages = self.store.outbox.values()
        by_kind = Counter(map(attrgetter("kind"), messages))
        # A settlement queues a message per bettor at one instant: counted per instant.
        arrivals = sorted(
            ((at - start).total_seconds(), arrived)
            for at, arrived in Counter(map(attrgetter("created_at"), messages)).items()
        )
        m.notifications_by_kind = {kind.value: n for kind, n in sorted(by_kind.items())}
        m.notifications_busiest_minute = busiest_minute(arrivals)
        m.notifications_per_second = DispatchSettings().messages_per_second
        m.notification_wait_max_s, m.notification_wait_mean_s = queue_waits(
            arrivals, m.notifications_per_second
        )


# A well-formed address outside the platform that simulated withdrawals go to.
_OUTSIDE_ADDRESS = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin"


async def run_simulation(
    scenario: Scenario, progress: ProgressCallback | None = None
) -> tuple[SimMetrics, InMemoryStore]:
    """Run a scenario to the end; returns the metrics and the final books."""
    simulation = Simulation(scenario, progress)
    metrics = await simulation.run()
    return metrics, simulation.store
