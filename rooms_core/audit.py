"""The hash-chained audit log: each record holds the hash of the previous one, so changing or
removing any committed record breaks every hash after it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring_ascii

from returns.result import Failure, Result, Success

from rooms_core.errors import DomainError
from rooms_core.models import AuditRecord

GENESIS_HASH = "0" * 64
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@dataclass(frozen=True, slots=True)
class AuditChainBroken(DomainError):
    seq: int
    reason: str

    @property
    def message(self) -> str:
        return f"audit chain broken at record {self.seq}: {self.reason}"


_last_iso: tuple[datetime, str] | None = None
# For each shape of details seen so far (its keys in their order), the keys in sorted order
# with their '"key":' prefixes, or None when the keys are not all strings. A few dozen
# shapes in practice; bounded all the same.
_layouts: dict[tuple[object, ...], tuple[tuple[str, str], ...] | None] = {}
_MAX_LAYOUTS = 1024


def _isoformat(at: datetime) -> str:
    """``at.isoformat()``, remembered for the last moment: the records of one commit, and
    a chain being verified, share their timestamps."""
    global _last_iso
    last = _last_iso
    if last is not None and last[0] is at:
        return last[1]
    text = at.isoformat()
    _last_iso = (at, text)
    return text


def _layout(shape: tuple[object, ...]) -> tuple[tuple[str, str], ...] | None:
    if not all(type(key) is str for key in shape):
        return None  # the encoder handles (or refuses) keys of other types
    keys: list[str] = sorted(shape)  # type: ignore[arg-type]  # all str, checked above
    return tuple((key, f"{encode_basestring_ascii(key)}:") for key in keys)


def canonical_body(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, str | int | None],
    prev_hash: str,
) -> str:
    """The canonical JSON text that a record's hash is taken over: ``[seq, at, actor,
    action, details, prev_hash]`` with sorted keys, no spaces and ASCII only.

    Records are written by the hundred thousand, so the common shape (string keys; str,
    str enum, int or None values) is written directly, character for character as the JSON
    encoder writes it; anything else goes through the encoder itself."""
    iso = _isoformat(at)
    if type(seq) is int:
        shape = tuple(details)
        layout = _layouts.get(shape)
        if layout is None and shape not in _layouts:
            layout = _layout(shape)
            if len(_layouts) < _MAX_LAYOUTS:
                _layouts[shape] = layout
        if layout is not None:
            quote = encode_basestring_ascii
            parts = []
            for key, prefix in layout:
                value = details[key]
                if isinstance(value, str):
                    parts.append(prefix + quote(value))
                elif value is None:
                    parts.append(prefix + "null")
                elif type(value) is int:
                    parts.append(f"{prefix}{value}")
                else:
                    break
            else:
                return (
                    f"[{seq},{quote(iso)},{quote(actor)},{quote(action)},"
                    f"{{{','.join(parts)}}},{quote(prev_hash)}]"
                )
    return _CANONICAL.encode([seq, iso, actor, action, details, prev_hash])


def record_hash(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, str | int | None],
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form of the record and the previous hash."""
    body = canonical_body(seq, at, actor, action, details, prev_hash)
    return hashlib.sha256(body.encode()).hexdigest()


def make_record(
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    details: dict[str, str | int | None],
    prev_hash: str,
) -> AuditRecord:
    digest = record_hash(seq, at, actor, action, details, prev_hash)
    return AuditRecord(seq, at, actor, action, details, prev_hash, digest)


def verify_chain(
    records: Iterable[AuditRecord], prev_hash: str = GENESIS_HASH, prev_seq: int = 0
) -> Result[int, AuditChainBroken]:
    """Check every link; ``Success(n)`` with the number of records checked."""
    count = 0
    for r in records:
        if r.seq != prev_seq + 1:
            return Failure(AuditChainBroken(r.seq, f"expected seq {prev_seq + 1}"))
        if r.prev_hash != prev_hash:
            return Failure(AuditChainBroken(r.seq, "previous hash does not match"))
        if r.hash != record_hash(r.seq, r.at, r.actor, r.action, r.details, r.prev_hash):
            return Failure(AuditChainBroken(r.seq, "record was altered"))
        prev_hash, prev_seq = r.hash, r.seq
        count += 1
    return Success(count)
