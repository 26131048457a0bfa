"""The bot's configuration, from the environment (``ROOMS_*``) or the command line.

The token is a secret: it is kept as ``SecretStr`` and never printed or logged.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class BotConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ROOMS_", extra="ignore", populate_by_name=True)

    telegram_token: SecretStr = Field(description="The bot's token from BotFather.")
    telegram_api: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = Field("polling", alias="ROOMS_BOT_MODE")
    webhook_url: str | None = None  # the public https URL Telegram posts updates to
    webhook_secret: SecretStr | None = None  # checked on every update (X-Telegram-...-Token)
    webhook_host: str = "0.0.0.0"  # the webhook server listens on every interface
    webhook_port: int = Field(8080, ge=1, le=65535)
    webhook_path: str = "/telegram/webhook"
    redis_url: str | None = None  # FSM state in Redis (several replicas); memory without
    fsm_ttl_seconds: int = Field(86_400, ge=60)
    throttle_per_second: float = Field(3.0, gt=0)
    throttle_burst: int = Field(6, ge=1)
    admin_telegram_ids: Annotated[tuple[int, ...], NoDecode] = ()
    mini_app_url: str | None = None

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise ValueError(
                    "ROOMS_ADMIN_TELEGRAM_IDS must be Telegram user ids separated by commas"
                ) from None
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> BotConfig:
        if self.mode == "webhook":
            url = self.webhook_url or ""
            local = url.startswith(("http://127.0.0.1", "http://localhost"))
            if not (url.startswith("https://") or local):
                raise ValueError(
                    "webhook mode needs ROOMS_WEBHOOK_URL, an https:// URL (Telegram posts "
                    "only to https; plain http is allowed for a local Bot API server)"
                )
            if self.webhook_secret is None or len(self.webhook_secret.get_secret_value()) < 16:
                raise ValueError(
                    "webhook mode needs ROOMS_WEBHOOK_SECRET of at least 16 characters "
                    "(A-Z, a-z, 0-9, _ and -)"
                )
        return self
