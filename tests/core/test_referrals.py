"""Referral codes, chains, cycles and rewards by level."""

from __future__ import annotations

from returns.result import Failure, Result

from rooms_core.errors import ReferralCycle, ReferrerAlreadySet, SelfReferral, UnknownReferralCode
from rooms_core.models import Side
from rooms_core.money import sol
from rooms_core.ports.signer import SignerError
from rooms_core.services import users
from rooms_core.services.settlement import settle_room
from rooms_core.services.users import attach_referrer, referral_stats, register_user
from tests.support import Platform, err, ok


async def test_codes_are_unique_and_long(platform: Platform) -> None:
    users = [await platform.user(deposit=0) for _ in range(50)]
    codes = {u.referral_code for u in users}
    assert len(codes) == 50
    assert all(len(c) >= 10 for c in codes)


async def test_sign_up_with_a_code_sets_the_referrer(platform: Platform) -> None:
    parent = await platform.user()
    child = await platform.user(referral_code=parent.referral_code)
    assert child.referrer_id == parent.id
    stats = ok(await referral_stats(platform.deps, user_id=parent.id))
    assert stats.referred_by_level == [1, 0, 0]


async def test_unknown_code_creates_nothing(platform: Platform) -> None:
    result = await register_user(platform.deps, telegram_id=5, referral_code="NOPE")
    assert isinstance(err(result), UnknownReferralCode)
    assert not platform.store.users


async def test_returning_user_keeps_their_referrer(platform: Platform) -> None:
    a, b = await platform.user(), await platform.user()
    child = ok(await register_user(platform.deps, telegram_id=77, referral_code=a.referral_code))
    again = ok(await register_user(platform.deps, telegram_id=77, referral_code=b.referral_code))
    assert again.referrer_id == child.referrer_id == a.id


async def test_referrer_is_set_once(platform: Platform) -> None:
    a, b, c = await platform.user(), await platform.user(), await platform.user()
    ok(await attach_referrer(platform.deps, user_id=c.id, code=a.referral_code))
    assert isinstance(
        err(await attach_referrer(platform.deps, user_id=c.id, code=b.referral_code)),
        ReferrerAlreadySet,
    )


async def test_self_referral_is_refused(platform: Platform) -> None:
    a = await platform.user()
    assert isinstance(
        err(await attach_referrer(platform.deps, user_id=a.id, code=a.referral_code)), SelfReferral
    )


async def test_cycles_are_refused(platform: Platform) -> None:
    a = await platform.user()
    b = await platform.user(referral_code=a.referral_code)
    c = await platform.user(referral_code=b.referral_code)
    # a has no referrer yet; making c a's referrer would close a -> c -> b -> a
    assert isinstance(
        err(await attach_referrer(platform.deps, user_id=a.id, code=c.referral_code)), ReferralCycle
    )


async def test_three_levels_earn_15_5_2_percent_of_the_fee_of_settled_bets(
    platform: Platform,
) -> None:
    top = await platform.user()
    mid = await platform.user(referral_code=top.referral_code)
    low = await platform.user(referral_code=mid.referral_code)
    bettor = await platform.user(referral_code=low.referral_code)
    other = await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(bettor, room, Side.YES, sol(10))
    await platform.bet(other, room, Side.NO, sol(10))
    platform.clock.advance(1)
    ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    )
    fee = sol("0.3")
    assert ok(await referral_stats(platform.deps, user_id=low.id)).earnings_by_level == {
        1: fee * 15 // 100,
        2: 0,
        3: 0,
    }
    assert ok(await referral_stats(platform.deps, user_id=mid.id)).earnings_by_level[2] == (
        fee * 5 // 100
    )
    assert ok(await referral_stats(platform.deps, user_id=top.id)).earnings_by_level[3] == (
        fee * 2 // 100
    )
    assert await platform.balance(top) == sol(100) + fee * 2 // 100
    assert ok(await referral_stats(platform.deps, user_id=top.id)).referred_by_level == [1, 1, 1]
    platform.check_invariants()


async def test_refunded_bets_earn_no_referral_reward(platform: Platform) -> None:
    parent = await platform.user()
    child = await platform.user(referral_code=parent.referral_code)
    other = await platform.user()
    room = await platform.room(await platform.user())
    await platform.bet(child, room, Side.NO, sol(10))
    await platform.bet(other, room, Side.NO, sol(10))
    ok(
        await settle_room(
            platform.deps, room_id=room.id, observation=platform.observation("300"), instant=True
        )
    )  # YES wins with nobody on YES: everyone refunded
    assert ok(await referral_stats(platform.deps, user_id=parent.id)).earnings_by_level[1] == 0
    assert await platform.balance(child) == sol(100)


class FailingSigner:
    """A custodian that is down."""

    async def create_wallet(self, owner: str) -> Result[str, SignerError]:
        return Failure(SignerError("custodian unavailable"))

    async def sign(self, address: str, message: bytes) -> Result[bytes, SignerError]:
        return Failure(SignerError("custodian unavailable"))


async def test_start_registers_with_a_deposit_address_and_the_referrer(
    platform: Platform,
) -> None:
    signer = platform.container.signer()
    referrer = await platform.user()
    first = await users.sign_up(
        platform.deps, signer, telegram_id=77, username="neo", referral_code=referrer.referral_code
    )
    assert first.created
    assert first.referral_error is None
    assert first.user.referrer_id == referrer.id
    wallet = await signer.create_wallet(f"user:{first.user.id}")
    assert first.user.deposit_address == wallet.unwrap()

    again = await users.sign_up(platform.deps, signer, telegram_id=77, referral_code="OTHER")
    assert not again.created
    assert again.user == first.user  # same user, same referrer, same address


async def test_start_with_an_unknown_code_registers_without_a_referrer(platform: Platform) -> None:
    done = await users.sign_up(
        platform.deps, platform.container.signer(), telegram_id=78, referral_code="NOPE"
    )
    assert done.created
    assert done.referral_error == UnknownReferralCode("NOPE")
    assert done.user.referrer_id is None


async def test_start_while_the_custodian_is_down_asks_again_next_time(platform: Platform) -> None:
    down = await users.sign_up(platform.deps, FailingSigner(), telegram_id=79)
    assert down.wallet_error == SignerError("custodian unavailable")
    assert down.user.deposit_address is None
    later = await users.sign_up(platform.deps, platform.container.signer(), telegram_id=79)
    assert not later.created
    assert later.user.id == down.user.id
    assert later.user.deposit_address is not None
