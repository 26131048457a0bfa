"""Typed domain errors: expected failures are values, returned inside ``Failure``.

Each error is a small frozen dataclass with a ``message`` a user can act on. Bugs still raise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

from rooms_core.money import format_sol


@dataclass(frozen=True, slots=True)
class DomainError:
    """Base of every expected failure."""

    @property
    def message(self) -> str:
        return type(self).__name__


# --- users and referrals -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserNotFound(DomainError):
    user_id: int

    @property
    def message(self) -> str:
        return "Unknown user. Send /start first."


@dataclass(frozen=True, slots=True)
class UnknownReferralCode(DomainError):
    code: str

    @property
    def message(self) -> str:
        return "That referral code does not exist."


@dataclass(frozen=True, slots=True)
class SelfReferral(DomainError):
    @property
    def message(self) -> str:
        return "You cannot refer yourself."


@dataclass(frozen=True, slots=True)
class ReferralCycle(DomainError):
    @property
    def message(self) -> str:
        return "That referral would create a cycle."


@dataclass(frozen=True, slots=True)
class ReferrerAlreadySet(DomainError):
    @property
    def message(self) -> str:
        return "Your referrer is already set and cannot change."


# --- rooms ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomNotFound(DomainError):
    room_id: int

    @property
    def message(self) -> str:
        return "That room does not exist."


@dataclass(frozen=True, slots=True)
class TitleLength(DomainError):
    length: int
    minimum: int
    maximum: int

    @property
    def message(self) -> str:
        return (
            f"The title must be {self.minimum}-{self.maximum} characters; yours has {self.length}."
        )


@dataclass(frozen=True, slots=True)
class NonPositiveTarget(DomainError):
    target: Decimal

    @property
    def message(self) -> str:
        return "The target must be a positive number."


@dataclass(frozen=True, slots=True)
class TargetOutOfRange(DomainError):
    """A target no price or market cap will ever reach, or with more digits than a price
    has (kept exactly in the database)."""

    target: Decimal
    maximum: Decimal

    @property
    def message(self) -> str:
        return f"The target must be at most {self.maximum:,} with at most 18 decimals."


@dataclass(frozen=True, slots=True)
class SettleTimeOutOfRange(DomainError):
    settle_at: datetime
    earliest: datetime
    latest: datetime

    @property
    def message(self) -> str:
        return "The settlement time must be between 15 minutes and 24 hours from now."


@dataclass(frozen=True, slots=True)
class InvalidMintAddress(DomainError):
    address: str

    @property
    def message(self) -> str:
        return "That is not a valid Solana token mint address."


@dataclass(frozen=True, slots=True)
class InvalidSymbol(DomainError):
    symbol: str

    @property
    def message(self) -> str:
        return "A coin symbol is 2-10 letters or digits, such as SOL."


@dataclass(frozen=True, slots=True)
class AssetNotPriceable(DomainError):
    asset: str
    reason: str = "no price source covers it"

    @property
    def message(self) -> str:
        return f"{self.asset} cannot be priced by the oracle: {self.reason}."


@dataclass(frozen=True, slots=True)
class NotPriceableYet(DomainError):
    """A pump.fun token whose pool is too new for the price sources to list it."""

    asset: str

    @property
    def message(self) -> str:
        return f"{self.asset} is not price-able yet; try again in a minute."


@dataclass(frozen=True, slots=True)
class IllegalTransition(DomainError):
    room_id: int
    from_state: str
    to_state: str

    @property
    def message(self) -> str:
        return f"Room {self.room_id} cannot go from {self.from_state} to {self.to_state}."


@dataclass(frozen=True, slots=True)
class NotDue(DomainError):
    """A time-driven transition was asked for before its time."""

    room_id: int
    due_at: datetime

    @property
    def message(self) -> str:
        return f"Room {self.room_id} has nothing due before {self.due_at.isoformat()}."


# --- bets ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoomClosedForBets(DomainError):
    room_id: int
    state: str

    @property
    def message(self) -> str:
        return f"Betting is closed in this room ({self.state.lower()})."


@dataclass(frozen=True, slots=True)
class RoomLocked(DomainError):
    room_id: int
    lock_at: datetime

    @property
    def message(self) -> str:
        return "This room is locked: no new bets."


@dataclass(frozen=True, slots=True)
class AlreadyBet(DomainError):
    room_id: int
    user_id: int

    @property
    def message(self) -> str:
        return "You already have a bet in this room."


@dataclass(frozen=True, slots=True)
class StakeBelowMinimum(DomainError):
    stake: int
    minimum: int

    @property
    def message(self) -> str:
        return f"The minimum bet is {format_sol(self.minimum)} SOL."


@dataclass(frozen=True, slots=True)
class StakeAboveMaximum(DomainError):
    stake: int
    maximum: int

    @property
    def message(self) -> str:
        return f"The maximum bet is {format_sol(self.maximum)} SOL."


@dataclass(frozen=True, slots=True)
class InsufficientBalance(DomainError):
    needed: int
    available: int

    @property
    def message(self) -> str:
        return (
            f"Insufficient balance: you need {format_sol(self.needed)} SOL "
            f"and have {format_sol(self.available)} SOL."
        )


@dataclass(frozen=True, slots=True)
class BettingPaused(DomainError):
    """The operators paused betting on the whole platform."""

    @property
    def message(self) -> str:
        return "Betting is paused by the operators for a moment. Please try again later."


# --- settlement ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AlreadySettled(DomainError):
    room_id: int
    state: str

    @property
    def message(self) -> str:
        return f"Room {self.room_id} is already finished ({self.state})."


@dataclass(frozen=True, slots=True)
class SettlementInProgress(DomainError):
    room_id: int

    @property
    def message(self) -> str:
        return f"Room {self.room_id} is being settled by another worker."


# --- ledger, deposits, withdrawals -------------------------------------------------


@dataclass(frozen=True, slots=True)
class InsufficientFunds(DomainError):
    """A journal entry would take a non-external account below zero."""

    account: str
    needed: int
    available: int

    @property
    def message(self) -> str:
        return f"Account {self.account} holds {self.available}, needs {self.needed}."


@dataclass(frozen=True, slots=True)
class NonPositiveAmount(DomainError):
    amount: int

    @property
    def message(self) -> str:
        return "The amount must be positive."


@dataclass(frozen=True, slots=True)
class UnknownDepositAddress(DomainError):
    """A payment to an address that is not any user's deposit address."""

    address: str

    @property
    def message(self) -> str:
        return f"{self.address} is not a ROOMS deposit address."


@dataclass(frozen=True, slots=True)
class WithdrawalNotFound(DomainError):
    withdrawal_id: int

    @property
    def message(self) -> str:
        return "That withdrawal does not exist."


@dataclass(frozen=True, slots=True)
class InvalidWithdrawalAddress(DomainError):
    address: str
    reason: str

    @property
    def message(self) -> str:
        return f"Invalid destination address: {self.reason}."


@dataclass(frozen=True, slots=True)
class WithdrawalBelowMinimum(DomainError):
    amount: int
    minimum: int

    @property
    def message(self) -> str:
        return f"The minimum withdrawal is {format_sol(self.minimum)} SOL."


@dataclass(frozen=True, slots=True)
class WithdrawalStateConflict(DomainError):
    withdrawal_id: int
    state: str

    @property
    def message(self) -> str:
        return f"Withdrawal {self.withdrawal_id} is {self.state.lower()}; nothing to do."


@dataclass(frozen=True, slots=True)
class WithdrawalsPaused(DomainError):
    """The operators paused withdrawals on the whole platform."""

    @property
    def message(self) -> str:
        return "Withdrawals are paused by the operators for a moment. Your balance is safe."


# --- administration ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotAllowed(DomainError):
    """The caller is not one of the configured admins."""

    user_id: int

    @property
    def message(self) -> str:
        return "Not allowed."


@dataclass(frozen=True, slots=True)
class CustodyNotConfigured(DomainError):
    """This process has no chain access (no RPC endpoint): solvency cannot be measured."""

    @property
    def message(self) -> str:
        return "Custody is not configured in this process: there is no chain to measure."


@dataclass(frozen=True, slots=True)
class IdempotencyConflict(DomainError):
    """The idempotency key was already used for a different request."""

    key: str

    @property
    def message(self) -> str:
        return "This request id was already used for a different request."


RegistrationError: TypeAlias = (
    UnknownReferralCode | SelfReferral | ReferralCycle | (ReferrerAlreadySet | UserNotFound)
)
CreateRoomError: TypeAlias = (
    UserNotFound
    | TitleLength
    | NonPositiveTarget
    | TargetOutOfRange
    | SettleTimeOutOfRange
    | InvalidMintAddress
    | InvalidSymbol
    | AssetNotPriceable
    | NotPriceableYet
)
BetError: TypeAlias = (
    UserNotFound
    | RoomNotFound
    | RoomClosedForBets
    | RoomLocked
    | AlreadyBet
    | StakeBelowMinimum
    | StakeAboveMaximum
    | InsufficientBalance
    | IdempotencyConflict
    | BettingPaused
)
SettleError: TypeAlias = (
    RoomNotFound | AlreadySettled | SettlementInProgress | IllegalTransition | NotDue
)
LifecycleError: TypeAlias = (
    RoomNotFound | IllegalTransition | NotDue | AlreadySettled | SettlementInProgress
)
DepositError: TypeAlias = UnknownDepositAddress | NonPositiveAmount
WithdrawalError: TypeAlias = (
    UserNotFound
    | NonPositiveAmount
    | WithdrawalBelowMinimum
    | InsufficientBalance
    | InvalidWithdrawalAddress
    | WithdrawalNotFound
    | WithdrawalStateConflict
    | IdempotencyConflict
    | WithdrawalsPaused
)
