"""Rows to domain objects and back. Rows come from our own schema (its CHECKs hold), so
models are built with ``model_construct`` and explicit enum conversions: settling a room
reads thousands of bets, and validation would be most of the cost."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rooms_core.ledger import EntryKind, JournalEntry, Posting
from rooms_core.models import (
    Asset,
    AssetKind,
    Bet,
    BetStatus,
    Comparator,
    Metric,
    NotificationKind,
    OutboxMessage,
    RefundReason,
    Side,
    User,
    Withdrawal,
    WithdrawalState,
    construct,
)
from rooms_core.room import Room, RoomState

Row = Mapping[str, Any]

ROOM_COLUMNS = (
    "id, host_id, title, asset_kind, asset_id, asset_metric, comparator, target, created_at, "
    "lock_at, settle_at, min_players, quorum, protocol_fee_bps, host_fee_bps, state, yes_pool, "
    "no_pool, yes_bets, no_bets, opened_at, settling_since, trigger_at, outcome, "
    "settlement_value, settlement_sources, closed_at, close_reason"
)
BET_COLUMNS = (
    "id, room_id, user_id, side, stake, placed_at, idempotency_key, status, payout, refund_reason"
)
USER_COLUMNS = "id, telegram_id, username, referral_code, referrer_id, deposit_address, created_at"
OUTBOX_COLUMNS = (
    "id, user_id, kind, payload, dedupe_key, created_at, next_attempt_at, attempts, sent_at, "
    "last_error, gave_up_at"
)
WITHDRAWAL_COLUMNS = (
    "id, user_id, destination, amount, state, created_at, idempotency_key, approvals, "
    "signature, blockhash, last_valid_block_height, failure_reason, updated_at"
)


def user_from_row(r: Row) -> User:
    return User.model_construct(
        id=r["id"],
        telegram_id=r["telegram_id"],
        username=r["username"],
        referral_code=r["referral_code"],
        referrer_id=r["referrer_id"],
        deposit_address=r["deposit_address"],
        created_at=r["created_at"],
    )


_ROOM_FIELDS = tuple(Room.__pydantic_fields__)
_STATES = {s.value: s for s in RoomState}
_SIDES = {s.value: s for s in Side}
_COMPARATORS = {c.value: c for c in Comparator}
_ASSETS: dict[tuple[str, str, str], Asset] = {}  # frozen values, few of them: built once


def _asset(kind: str, asset_id: str, metric: str) -> Asset:
    key = (kind, asset_id, metric)
    asset = _ASSETS.get(key)
    if asset is None:
        if len(_ASSETS) >= 10_000:
            _ASSETS.clear()
        asset = _ASSETS[key] = Asset(kind=AssetKind(kind), id=asset_id, metric=Metric(metric))
    return asset


def room_from_row(r: Row) -> Room:
    """What ``Room.model_construct`` makes of the row (every field set, no events), built
    directly: a bet reads its room, and pydantic's per-field loop was a tenth of the
    client's time a bet."""
    outcome = r["outcome"]
    values = (
        r["id"],
        r["host_id"],
        r["title"],
        _asset(r["asset_kind"], r["asset_id"], r["asset_metric"]),
        _COMPARATORS[r["comparator"]],
        r["target"],
        r["created_at"],
        r["lock_at"],
        r["settle_at"],
        r["min_players"],
        r["quorum"],
        r["protocol_fee_bps"],
        r["host_fee_bps"],
        _STATES[r["state"]],
        r["yes_pool"],
        r["no_pool"],
        r["yes_bets"],
        r["no_bets"],
        r["opened_at"],
        r["settling_since"],
        r["trigger_at"],
        None if outcome is None else _SIDES[outcome],
        r["settlement_value"],
        tuple(r["settlement_sources"]),
        r["closed_at"],
        r["close_reason"],
    )
    room = object.__new__(Room)
    _set = object.__setattr__
    _set(room, "__dict__", dict(zip(_ROOM_FIELDS, values, strict=True)))
    _set(room, "__pydantic_fields_set__", set(_ROOM_FIELDS))
    _set(room, "__pydantic_extra__", None)
    _set(room, "__pydantic_private__", {"_events": ()})
    return room


def room_record(room: Room) -> dict[str, Any]:
    """A room as the JSON object ``jsonb_populate_recordset(NULL::rooms, ...)`` reads."""
    return {
        "id": room.id,
        "host_id": room.host_id,
        "title": room.title,
        "asset_kind": room.asset.kind.value,
        "asset_id": room.asset.id,
        "asset_metric": room.asset.metric.value,
        "comparator": room.comparator.value,
        "target": str(room.target),
        "created_at": room.created_at.isoformat(),
        "lock_at": room.lock_at.isoformat(),
        "settle_at": room.settle_at.isoformat(),
        "min_players": room.min_players,
        "quorum": room.quorum,
        "protocol_fee_bps": room.protocol_fee_bps,
        "host_fee_bps": room.host_fee_bps,
        "state": room.state.value,
        "yes_pool": room.yes_pool,
        "no_pool": room.no_pool,
        "yes_bets": room.yes_bets,
        "no_bets": room.no_bets,
        "opened_at": _iso(room.opened_at),
        "settling_since": _iso(room.settling_since),
        "trigger_at": _iso(room.trigger_at),
        "outcome": None if room.outcome is None else room.outcome.value,
        "settlement_value": None if room.settlement_value is None else str(room.settlement_value),
        "settlement_sources": list(room.settlement_sources),
        "closed_at": _iso(room.closed_at),
        "close_reason": room.close_reason,
    }


def bet_from_row(r: Row) -> Bet:
    reason = r["refund_reason"]
    return construct(
        Bet,
        id=r["id"],
        room_id=r["room_id"],
        user_id=r["user_id"],
        side=Side(r["side"]),
        stake=r["stake"],
        placed_at=r["placed_at"],
        idempotency_key=r["idempotency_key"],
        status=BetStatus(r["status"]),
        payout=r["payout"],
        refund_reason=None if reason is None else RefundReason(reason),
    )


def entry_from_row(r: Row) -> JournalEntry:
    return JournalEntry(
        key=r["key"],
        kind=EntryKind(r["kind"]),
        at=r["at"],
        postings=tuple(Posting(a, n) for a, n in zip(r["accounts"], r["amounts"], strict=True)),
        memo=r["memo"],
    )


def outbox_from_row(r: Row) -> OutboxMessage:
    return OutboxMessage(
        id=r["id"],
        user_id=r["user_id"],
        kind=NotificationKind(r["kind"]),
        payload=r["payload"],
        dedupe_key=r["dedupe_key"],
        created_at=r["created_at"],
        next_attempt_at=r["next_attempt_at"],
        attempts=r["attempts"],
        sent_at=r["sent_at"],
        last_error=r["last_error"],
        gave_up_at=r["gave_up_at"],
    )


def withdrawal_from_row(r: Row) -> Withdrawal:
    return Withdrawal.model_construct(
        id=r["id"],
        user_id=r["user_id"],
        destination=r["destination"],
        amount=r["amount"],
        state=WithdrawalState(r["state"]),
        created_at=r["created_at"],
        idempotency_key=r["idempotency_key"],
        approvals=tuple(r["approvals"]),
        signature=r["signature"],
        blockhash=r["blockhash"],
        last_valid_block_height=r["last_valid_block_height"],
        failure_reason=r["failure_reason"],
        updated_at=r["updated_at"],
    )


def withdrawal_record(w: Withdrawal) -> dict[str, Any]:
    return {
        "id": w.id,
        "user_id": w.user_id,
        "destination": w.destination,
        "amount": w.amount,
        "state": w.state.value,
        "created_at": w.created_at.isoformat(),
        "idempotency_key": w.idempotency_key,
        "approvals": list(w.approvals),
        "signature": w.signature,
        "blockhash": w.blockhash,
        "last_valid_block_height": w.last_valid_block_height,
        "failure_reason": w.failure_reason,
        "updated_at": _iso(w.updated_at),
    }


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())
