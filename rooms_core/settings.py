"""Business settings of a deployment (fees, limits, durations). Plain values, passed in."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rooms_core.money import sol


class RoomsSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    protocol_fee_bps: int = Field(200, ge=0, le=5000)
    host_fee_bps: int = Field(100, ge=0, le=5000)
    referral_level_bps: tuple[int, ...] = (1500, 500, 200)  # of the fee attributable to a bet
    min_stake: int = Field(sol("0.01"), gt=0)
    max_stake: int = Field(sol(1000), gt=0)
    min_players: int = Field(2, ge=1)
    lock_fraction_bps: int = Field(7500, ge=1, le=10_000)
    min_duration: timedelta = timedelta(minutes=15)
    max_duration: timedelta = timedelta(hours=24)
    title_min_length: int = 5
    title_max_length: int = 200
    void_grace: timedelta = timedelta(minutes=10)
    referral_code_length: int = Field(10, ge=8)
    min_withdrawal: int = Field(sol("0.01"), gt=0)
    withdrawal_approval_threshold: int = Field(sol(100), gt=0)
    withdrawal_approvals_needed: int = Field(2, ge=1)
    admin_user_ids: tuple[int, ...] = ()  # who is alerted (solvency deficits, ...)

    @model_validator(mode="after")
    def _consistent(self) -> RoomsSettings:
        if self.min_stake > self.max_stake:
            raise ValueError("min_stake must not exceed max_stake")
        if sum(self.referral_level_bps) > 10_000:
            raise ValueError("referral levels cannot pay out more than the whole fee")
        if self.min_duration > self.max_duration:
            raise ValueError("min_duration must not exceed max_duration")
        return self

    @property
    def fee_bps(self) -> int:
        return self.protocol_fee_bps + self.host_fee_bps
