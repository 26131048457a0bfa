"""Room creation: every validation error is its own typed error."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from returns.result import Failure, Success

from rooms_core.errors import (
    AssetNotPriceable,
    InvalidMintAddress,
    InvalidSymbol,
    NonPositiveTarget,
    NotPriceableYet,
    SettleTimeOutOfRange,
    TargetOutOfRange,
    TitleLength,
    UserNotFound,
)
from rooms_core.models import Asset, AssetKind, Comparator, Metric
from rooms_core.services.rooms import (
    RoomSpec,
    check_asset,
    check_settle_at,
    check_target,
    check_title,
    create_room,
)
from rooms_core.settings import RoomsSettings
from tests.support import START, Platform, err, ok

MINT = "6p6xgHyF7AeE6TZkSmFsko444wqoP15icUSqi2jfGiPN"


def spec(platform: Platform, **changes: object) -> RoomSpec:
    base: dict[str, object] = {
        "title": "Will SOL reach 200?",
        "asset_kind": AssetKind.COIN,
        "asset_id": "sol",
        "comparator": Comparator.GTE,
        "target": Decimal(200),
        "settle_at": platform.clock.now() + timedelta(hours=1),
    }
    base.update(changes)
    return RoomSpec.model_validate(base)


async def test_a_valid_room_is_created_with_the_normalised_symbol(platform: Platform) -> None:
    host = await platform.user()
    room = ok(await create_room(platform.deps, host_id=host.id, spec=spec(platform)))
    assert room.asset.id == "SOL"
    assert room.quorum == 2


@pytest.mark.parametrize("title", ["abcd", "x" * 201, "    a    "])
async def test_title_must_be_5_to_200_characters(platform: Platform, title: str) -> None:
    host = await platform.user()
    error = err(await create_room(platform.deps, host_id=host.id, spec=spec(platform, title=title)))
    assert isinstance(error, TitleLength)
    assert "5-200" in error.message


@pytest.mark.parametrize("target", ["0", "-1", "NaN", "Infinity"])
async def test_target_must_be_positive(platform: Platform, target: str) -> None:
    host = await platform.user()
    result = await create_room(
        platform.deps, host_id=host.id, spec=spec(platform, target=Decimal(target))
    )
    assert isinstance(err(result), NonPositiveTarget)


@pytest.mark.parametrize(
    "delta", [timedelta(minutes=14), timedelta(hours=24, seconds=1), timedelta(minutes=-5)]
)
async def test_settle_time_must_be_15_minutes_to_24_hours_ahead(
    platform: Platform, delta: timedelta
) -> None:
    host = await platform.user()
    s = spec(platform, settle_at=platform.clock.now() + delta)
    assert isinstance(
        err(await create_room(platform.deps, host_id=host.id, spec=s)), SettleTimeOutOfRange
    )


async def test_boundaries_of_the_settle_window_are_allowed(platform: Platform) -> None:
    host = await platform.user()
    for delta in (timedelta(minutes=15), timedelta(hours=24)):
        s = spec(platform, settle_at=platform.clock.now() + delta)
        ok(await create_room(platform.deps, host_id=host.id, spec=s))


async def test_symbol_must_look_like_a_symbol(platform: Platform) -> None:
    host = await platform.user()
    result = await create_room(platform.deps, host_id=host.id, spec=spec(platform, asset_id="$$"))
    assert isinstance(err(result), InvalidSymbol)


async def test_symbol_the_oracle_cannot_price_is_refused(platform: Platform) -> None:
    host = await platform.user()
    result = await create_room(platform.deps, host_id=host.id, spec=spec(platform, asset_id="DOGE"))
    assert isinstance(err(result), AssetNotPriceable)


async def test_pump_fun_mint_must_be_a_solana_address(platform: Platform) -> None:
    host = await platform.user()
    s = spec(
        platform, asset_kind=AssetKind.TOKEN, asset_id="not-a-mint", metric=Metric.MARKET_CAP_USD
    )
    assert isinstance(
        err(await create_room(platform.deps, host_id=host.id, spec=s)), InvalidMintAddress
    )


async def test_token_covered_by_one_source_runs_with_quorum_one(platform: Platform) -> None:
    token = Asset(kind=AssetKind.TOKEN, id=MINT, metric=Metric.MARKET_CAP_USD)
    platform.sources[0].set_price(token, "80000")
    host = await platform.user()
    s = spec(platform, asset_kind=AssetKind.TOKEN, asset_id=MINT, metric=Metric.MARKET_CAP_USD)
    room = ok(await create_room(platform.deps, host_id=host.id, spec=s))
    assert room.quorum == 1


async def test_token_too_new_to_be_listed_is_not_priceable_yet(platform: Platform) -> None:
    token = Asset(kind=AssetKind.TOKEN, id=MINT, metric=Metric.MARKET_CAP_USD)
    platform.sources[0].set_price(token, "1")
    platform.sources[0].unlisted.add(token.key)
    host = await platform.user()
    s = spec(platform, asset_kind=AssetKind.TOKEN, asset_id=MINT, metric=Metric.MARKET_CAP_USD)
    assert isinstance(
        err(await create_room(platform.deps, host_id=host.id, spec=s)), NotPriceableYet
    )


async def test_unknown_host_is_refused(platform: Platform) -> None:
    assert isinstance(
        err(await create_room(platform.deps, host_id=999, spec=spec(platform))), UserNotFound
    )


def test_each_answer_of_the_guided_flow_is_checked_on_its_own() -> None:
    settings = RoomsSettings()
    assert check_title("  Will SOL pump?  ", settings) == Success("Will SOL pump?")
    assert check_title("Hm", settings) == Failure(TitleLength(2, 5, 200))
    assert check_target(Decimal("0.5")) == Success(Decimal("0.5"))
    assert isinstance(check_target(Decimal("NaN")).failure(), NonPositiveTarget)
    assert check_target(Decimal(-1)) == Failure(NonPositiveTarget(Decimal(-1)))
    assert isinstance(check_target(Decimal("1e999999")).failure(), TargetOutOfRange)
    assert isinstance(check_target(Decimal("1e-19")).failure(), TargetOutOfRange)
    assert check_target(Decimal("1e15")) == Success(Decimal("1e15"))
    assert check_asset(AssetKind.COIN, " sol ").unwrap().id == "SOL"
    assert check_asset(AssetKind.COIN, "S") == Failure(InvalidSymbol("S"))
    assert check_asset(AssetKind.TOKEN, "nope") == Failure(InvalidMintAddress("nope"))
    soon = START + timedelta(minutes=14)
    assert isinstance(check_settle_at(soon, START, settings), Failure)
    assert check_settle_at(START + timedelta(hours=1), START, settings) == Success(
        START + timedelta(hours=1)
    )


async def test_a_repeated_create_request_returns_the_first_room(platform: Platform) -> None:
    host = await platform.user()
    first = ok(await create_room(platform.deps, host_id=host.id, spec=spec(platform),
                                 idempotency_key="n1"))  # fmt: skip
    again = ok(await create_room(platform.deps, host_id=host.id, spec=spec(platform),
                                 idempotency_key="n1"))  # fmt: skip
    other = ok(await create_room(platform.deps, host_id=host.id, spec=spec(platform),
                                 idempotency_key="n2"))  # fmt: skip
    assert again.id == first.id
    assert other.id != first.id
    assert len(platform.store.rooms) == 2
