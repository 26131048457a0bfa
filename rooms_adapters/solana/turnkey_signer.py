"""A signer whose keys never leave Turnkey's enclaves.

Each owner gets a Turnkey wallet (named after the owner) with one Solana account (ed25519,
path m/44'/501'/0'/0'); signing is ``ACTIVITY_TYPE_SIGN_RAW_PAYLOAD_V2`` over the message
bytes (hex, no hashing), whose ``r`` and ``s`` make the 64-byte ed25519 signature. Every
request is stamped with the API key by the official ``turnkey-api-key-stamper`` (ECDSA P-256
over the exact body); request intents and results are the official ``turnkey-sdk-types``
models. Activities that are not finished at once are polled until a terminal status.
Which address belongs to which owner is kept in a :class:`WalletDirectory`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
import httpx
from returns.result import Failure, Result, Success
from turnkey_api_key_stamper import ApiKeyStamper, ApiKeyStamperConfig
from turnkey_sdk_types.generated.types import (
    v1AddressFormat,
    v1CreateWalletIntent,
    v1CreateWalletResult,
    v1Curve,
    v1HashFunction,
    v1PathFormat,
    v1PayloadEncoding,
    v1SignRawPayloadIntentV2,
    v1SignRawPayloadResult,
    v1WalletAccountParams,
)

from rooms_core.ports.signer import SignerError

SOLANA_PATH = "m/44'/501'/0'/0'"
_DONE = "ACTIVITY_STATUS_COMPLETED"
_FAILED = {
    "ACTIVITY_STATUS_FAILED": "failed",
    "ACTIVITY_STATUS_REJECTED": "rejected",
    "ACTIVITY_STATUS_CONSENSUS_NEEDED": "needs the consensus of more approvers",
}


class WalletDirectory(Protocol):
    """Which Turnkey address belongs to which owner (a database table in production)."""

    async def address_of(self, owner: str) -> str | None: ...

    async def owner_of(self, address: str) -> str | None: ...

    async def add(self, owner: str, address: str) -> str:
        """Keep the pair unless the owner has an address already; the address kept."""


class InMemoryWalletDirectory:
    def __init__(self) -> None:
        self.addresses: dict[str, str] = {}

    async def address_of(self, owner: str) -> str | None:
        return self.addresses.get(owner)

    async def owner_of(self, address: str) -> str | None:
        return next((o for o, a in self.addresses.items() if a == address), None)

    async def add(self, owner: str, address: str) -> str:
        return self.addresses.setdefault(owner, address)


@dataclass(frozen=True, slots=True)
class TurnkeySettings:
    organization_id: str
    api_public_key: str  # compressed P-256, hex
    api_private_key: str = ""  # hex; never logged
    base_url: str = "https://api.turnkey.com"
    poll_interval: float = 0.5
    poll_timeout: float = 30.0

    def __repr__(self) -> str:
        return f"TurnkeySettings(organization_id={self.organization_id!r}, key=<hidden>)"


class TurnkeySigner:
    def __init__(
        self, settings: TurnkeySettings, client: httpx.AsyncClient, directory: WalletDirectory
    ) -> None:
        self.settings = settings
        self.client = client
        self.directory = directory
        self._stamper = ApiKeyStamper(
            ApiKeyStamperConfig(settings.api_public_key, settings.api_private_key)
        )

    def __repr__(self) -> str:
        return f"TurnkeySigner({self.settings!r})"

    async def create_wallet(self, owner: str) -> Result[str, SignerError]:
        known = await self.directory.address_of(owner)
        if known is not None:
            return Success(known)
        intent = v1CreateWalletIntent(
            walletName=owner,
            accounts=[
                v1WalletAccountParams(
                    curve=v1Curve.CURVE_ED25519,
                    pathFormat=v1PathFormat.PATH_FORMAT_BIP32,
                    path=SOLANA_PATH,
                    addressFormat=v1AddressFormat.ADDRESS_FORMAT_SOLANA,
                )
            ],
        )
        result = await self._activity("create_wallet", "ACTIVITY_TYPE_CREATE_WALLET", intent)
        if isinstance(result, Failure):
            return Failure(result.failure())
        try:
            created = v1CreateWalletResult.model_validate(result.unwrap()["createWalletResult"])
            address = created.addresses[0]
        except (KeyError, IndexError, ValueError):
            return Failure(SignerError("Turnkey's create-wallet result has no address"))
        return Success(await self.directory.add(owner, address))

    async def sign(self, address: str, message: bytes) -> Result[bytes, SignerError]:
        if await self.directory.owner_of(address) is None:
            return Failure(SignerError(f"no wallet with address {address}"))
        intent = v1SignRawPayloadIntentV2(
            signWith=address,
            payload=message.hex(),
            encoding=v1PayloadEncoding.PAYLOAD_ENCODING_HEXADECIMAL,
            hashFunction=v1HashFunction.HASH_FUNCTION_NOT_APPLICABLE,
        )
        result = await self._activity(
            "sign_raw_payload", "ACTIVITY_TYPE_SIGN_RAW_PAYLOAD_V2", intent
        )
        if isinstance(result, Failure):
            return Failure(result.failure())
        try:
            signed = v1SignRawPayloadResult.model_validate(result.unwrap()["signRawPayloadResult"])
            signature = bytes.fromhex(signed.r) + bytes.fromhex(signed.s)
        except (KeyError, ValueError):
            return Failure(SignerError("Turnkey's signing result is malformed"))
        if len(signature) != 64:
            return Failure(SignerError(f"Turnkey returned a {len(signature)}-byte signature"))
        return Success(signature)

    async def _post(self, path: str, body: dict[str, Any]) -> Result[dict[str, Any], SignerError]:
        content = json.dumps(body, separators=(",", ":"))
        stamp = self._stamper.stamp(content)
        try:
            response = await self.client.post(
                f"{self.settings.base_url.rstrip('/')}{path}",
                content=content,
                headers={
                    "Content-Type": "application/json",
                    stamp.stamp_header_name: stamp.stamp_header_value,
                },
            )
        except httpx.HTTPError as error:
            return Failure(SignerError(f"Turnkey unreachable: {type(error).__name__}"))
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code != 200 or not isinstance(answer, dict):
            detail = answer.get("message") if isinstance(answer, dict) else None
            return Failure(SignerError(f"Turnkey HTTP {response.status_code}: {detail or ''}"))
        return Success(answer)

    async def _activity(
        self, name: str, activity_type: str, intent: Any
    ) -> Result[dict[str, Any], SignerError]:
        body = {
            "type": activity_type,
            "timestampMs": str(int(time.time() * 1000)),
            "organizationId": self.settings.organization_id,
            "parameters": intent.model_dump(mode="json", exclude_none=True),
        }
        answer = await self._post(f"/public/v1/submit/{name}", body)
        deadline = time.monotonic() + self.settings.poll_timeout
        while True:
            if isinstance(answer, Failure):
                return Failure(answer.failure())
            activity = answer.unwrap().get("activity")
            if not isinstance(activity, dict):
                return Failure(SignerError("Turnkey answered without an activity"))
            status = activity.get("status")
            if status == _DONE:
                result = activity.get("result")
                if not isinstance(result, dict):
                    return Failure(SignerError("Turnkey's activity has no result"))
                return Success(result)
            if status in _FAILED:
                return Failure(SignerError(f"Turnkey activity {_FAILED[status]}"))
            if time.monotonic() > deadline:
                return Failure(SignerError(f"Turnkey activity still {status} after polling"))
            await anyio.sleep(self.settings.poll_interval)
            answer = await self._post(
                "/public/v1/query/get_activity",
                {"organizationId": self.settings.organization_id, "activityId": activity.get("id")},
            )
