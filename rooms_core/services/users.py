"""Sign-up and referrals."""

from __future__ import annotations

from dataclasses import dataclass

from returns.result import Failure, Result, Success

from rooms_core.errors import (
    ReferralCycle,
    ReferrerAlreadySet,
    RegistrationError,
    SelfReferral,
    UnknownReferralCode,
    UserNotFound,
)
from rooms_core.models import User
from rooms_core.ports.signer import Signer, SignerError
from rooms_core.ports.storage import UnitOfWork
from rooms_core.services.deps import Deps

MAX_REFERRAL_DEPTH_CHECK = 10_000


async def register_user(
    deps: Deps,
    *,
    telegram_id: int | None,
    username: str | None = None,
    referral_code: str | None = None,
    deposit_address: str | None = None,
) -> Result[User, RegistrationError]:
    """Create a user (or return the existing one for this Telegram id).

    A referral code is honoured only at sign-up: a returning user keeps their referrer.
    An unknown code is an error and creates nothing, so the caller can retry without it.
    """
    now = deps.clock.now()
    async with deps.uow() as uow:
        if telegram_id is not None:
            existing = await uow.users.get_by_telegram_id(telegram_id)
            if existing is not None:
                return Success(existing)
        referrer_id: int | None = None
        if referral_code:
            referrer = await uow.users.get_by_referral_code(referral_code.strip())
            if referrer is None:
                return Failure(UnknownReferralCode(referral_code))
            referrer_id = referrer.id
        user = User(
            id=await uow.users.next_id(),
            telegram_id=telegram_id,
            username=username,
            referral_code=await _unique_code(deps, uow),
            referrer_id=referrer_id,
            deposit_address=deposit_address,
            created_at=now,
        )
        await uow.users.add(user)
        await uow.audit.append(f"user:{user.id}", "user.registered", {"referrer_id": referrer_id})
        await uow.commit()
        return Success(user)


async def attach_referrer(
    deps: Deps, *, user_id: int, code: str
) -> Result[User, RegistrationError]:
    """Set a user's referrer once. Refuses self-referral and cycles."""
    async with deps.uow() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            return Failure(UserNotFound(user_id))
        if user.referrer_id is not None:
            return Failure(ReferrerAlreadySet())
        referrer = await uow.users.get_by_referral_code(code.strip())
        if referrer is None:
            return Failure(UnknownReferralCode(code))
        if referrer.id == user.id:
            return Failure(SelfReferral())
        chain = await uow.users.referrer_chains([referrer.id], MAX_REFERRAL_DEPTH_CHECK)
        if user.id in chain.get(referrer.id, []):
            return Failure(ReferralCycle())
        user.referrer_id = referrer.id
        await uow.users.update(user)
        await uow.audit.append(f"user:{user.id}", "user.referrer_set", {"referrer_id": referrer.id})
        await uow.commit()
        return Success(user)


async def set_deposit_address(
    deps: Deps, *, user_id: int, address: str
) -> Result[User, UserNotFound]:
    """Record the deposit address the signer created for a user."""
    async with deps.uow() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            return Failure(UserNotFound(user_id))
        if user.deposit_address == address:
            return Success(user)
        user.deposit_address = address
        await uow.users.update(user)
        await uow.audit.append(f"user:{user.id}", "user.deposit_address", {"address": address})
        await uow.commit()
        return Success(user)


@dataclass(frozen=True, slots=True)
class ReferralStats:
    code: str
    referred_by_level: list[int]
    earnings_by_level: dict[int, int]


async def referral_stats(deps: Deps, *, user_id: int) -> Result[ReferralStats, UserNotFound]:
    levels = len(deps.settings.referral_level_bps)
    async with deps.uow() as uow:
        user = await uow.users.get(user_id)
        if user is None:
            return Failure(UserNotFound(user_id))
        counts = await uow.users.referral_counts(user_id, levels)
        earnings = await uow.referrals.earnings(user_id)
    return Success(
        ReferralStats(
            code=user.referral_code,
            referred_by_level=counts,
            earnings_by_level={lvl: earnings.get(lvl, 0) for lvl in range(1, levels + 1)},
        )
    )


async def _unique_code(deps: Deps, uow: UnitOfWork) -> str:
    while True:
        code = deps.tokens.token(deps.settings.referral_code_length)
        if await uow.users.get_by_referral_code(code) is None:
            return code


@dataclass(frozen=True, slots=True)
class SignUp:
    """What :func:`sign_up` did. ``referral_error`` says why a referral code given at
    sign-up was not honoured (the user is registered without a referrer);
    ``wallet_error`` why no deposit address could be made yet (asked again next time)."""

    user: User
    created: bool
    referral_error: RegistrationError | None = None
    wallet_error: SignerError | None = None


async def sign_up(
    deps: Deps,
    signer: Signer,
    *,
    telegram_id: int,
    username: str | None = None,
    referral_code: str | None = None,
) -> SignUp:
    """``/start``: register a Telegram user (with their referrer, if the code is good) and
    give them a deposit address; a returning user is returned as they are (their referrer
    never changes), with a deposit address made if they still lack one."""
    async with deps.uow() as uow:
        existing = await uow.users.get_by_telegram_id(telegram_id)
    created = existing is None
    referral_error: RegistrationError | None = None
    if existing is not None:
        user = existing
    else:
        registered = await register_user(
            deps, telegram_id=telegram_id, username=username, referral_code=referral_code
        )
        if isinstance(registered, Failure):
            referral_error = registered.failure()
            registered = await register_user(deps, telegram_id=telegram_id, username=username)
        user = registered.unwrap()  # without a referral code, registration cannot fail
    if user.deposit_address is not None:
        return SignUp(user, created, referral_error)
    wallet = await signer.create_wallet(f"user:{user.id}")
    if isinstance(wallet, Failure):
        return SignUp(user, created, referral_error, wallet.failure())
    stored = await set_deposit_address(deps, user_id=user.id, address=wallet.unwrap())
    return SignUp(stored.unwrap(), created, referral_error)
