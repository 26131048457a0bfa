"""A small in-memory platform for tests: the real services over the in-memory adapters."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from dependency_injector import providers
from returns.result import Failure, Result, Success

from rooms_adapters.memory.clock import VirtualClock
from rooms_adapters.memory.container import InMemoryContainer
from rooms_adapters.memory.prices import InMemoryPriceSource
from rooms_adapters.memory.store import InMemoryStore
from rooms_core.models import Asset, AssetKind, Bet, Comparator, Observation, Side, User
from rooms_core.money import sol
from rooms_core.oracle import OracleDecision
from rooms_core.ports.storage import UnitOfWork
from rooms_core.room import Room
from rooms_core.services import bets, rooms, users, wallet
from rooms_core.services.deps import Deps
from rooms_core.settings import RoomsSettings

START = datetime(2026, 1, 1, tzinfo=UTC)
SOL = Asset(kind=AssetKind.COIN, id="SOL")


T = TypeVar("T")


def ok(result: Result[T, object]) -> T:
    assert isinstance(result, Success), f"expected Success, got {result}"
    value: T = result.unwrap()
    return value


def err(result: Result[object, object]) -> object:
    assert isinstance(result, Failure), f"expected Failure, got {result}"
    return result.failure()


@dataclass
class Platform:
    container: InMemoryContainer
    deps: Deps
    store: InMemoryStore
    clock: VirtualClock
    sources: list[InMemoryPriceSource]
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def set_price(self, value: str | Decimal, asset: Asset = SOL) -> None:
        for source in self.sources:
            source.set_price(asset, value)

    def observation(
        self, value: str, asset: Asset = SOL, at: datetime | None = None
    ) -> Observation:
        return Observation(
            asset=asset,
            value=Decimal(value),
            observed_at=at or self.clock.now(),
            sources=tuple(s.name for s in self.sources),
            quorum=len(self.sources),
        )

    async def user(self, deposit: int = sol(100), referral_code: str | None = None) -> User:
        n = next(self._ids)
        user = ok(
            await users.register_user(
                self.deps,
                telegram_id=1000 + n,
                username=f"user{n}",
                referral_code=referral_code,
                deposit_address=f"addr-{n}",
            )
        )
        if deposit:
            ok(
                await wallet.credit_deposit(
                    self.deps,
                    address=f"addr-{n}",
                    signature=f"sig-{n}",
                    instruction_index=0,
                    amount=deposit,
                )
            )
        return user

    async def room(
        self,
        host: User,
        target: str = "200",
        comparator: Comparator = Comparator.GTE,
        minutes: int = 60,
        asset: Asset = SOL,
    ) -> Room:
        spec = rooms.RoomSpec(
            title="Will SOL reach the target?",
            asset_kind=asset.kind,
            asset_id=asset.id,
            metric=asset.metric,
            comparator=comparator,
            target=Decimal(target),
            settle_at=self.clock.now() + timedelta(minutes=minutes),
        )
        return ok(await rooms.create_room(self.deps, host_id=host.id, spec=spec))

    async def bet(self, user: User, room: Room, side: Side, stake: int, key: str = "") -> Bet:
        return ok(await self.try_bet(user, room, side, stake, key))

    async def try_bet(
        self, user: User, room: Room, side: Side, stake: int, key: str = ""
    ) -> Result[Bet, object]:
        result = await bets.place_bet(
            self.deps,
            user_id=user.id,
            room_id=room.id,
            side=side,
            stake=stake,
            idempotency_key=key or f"{user.id}-{room.id}",
        )
        return result

    async def balance(self, user: User) -> int:
        return await wallet.balance(self.deps, user_id=user.id)

    async def get_room(self, room_id: int) -> Room:
        async with self.deps.uow() as uow:
            room = await uow.rooms.get(room_id)
        assert room is not None
        return room

    def check_invariants(self) -> None:
        """Every books-balance check of the store holds (see ``InMemoryStore.books_checks``)."""
        checks = self.store.books_checks()
        assert all(checks.values()), checks


def make_platform(
    settings: RoomsSettings | None = None,
    sources: int = 2,
    assets: Sequence[Asset] = (SOL,),
    uow: Callable[[], UnitOfWork] | None = None,
    oracle_record: Callable[[OracleDecision], None] | None = None,
) -> Platform:
    """The services over in-memory adapters; ``uow`` swaps the storage (e.g. PostgreSQL);
    ``oracle_record`` receives every decision of the oracle (a price history)."""
    container = InMemoryContainer(start=START)
    if oracle_record is not None:
        container.oracle_record.override(providers.Object(oracle_record))
    if settings is not None:
        container.settings.override(settings)
    if uow is not None:
        container.uow.override(providers.Callable(uow))
    clock = container.clock()
    feeds = [InMemoryPriceSource(f"feed{i}", clock, supported=assets) for i in range(sources)]
    container.price_sources.override(feeds)
    platform = Platform(
        container=container,
        deps=container.deps(),
        store=container.store(),
        clock=clock,
        sources=feeds,
    )
    platform.set_price("150")
    return platform
