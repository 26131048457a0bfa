"""Reading what people type: targets ("$1.5k", "200", "0,000123") and durations ("90m",
"1h30m", "3h"). Returns None for anything unreadable; the core then checks the values."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

_SUFFIX = {"k": Decimal(10) ** 3, "m": Decimal(10) ** 6, "b": Decimal(10) ** 9}
_DURATION = re.compile(
    r"^(?:(?P<h>\d{1,3})\s*h(?:ours?)?)?\s*(?:(?P<m>\d{1,4})\s*m(?:in(?:utes?)?)?)?$"
)


def parse_target(text: str) -> Decimal | None:
    raw = text.strip().lower().replace("$", "").replace(" ", "").replace("_", "")
    if not raw:
        return None
    factor = Decimal(1)
    if raw[-1] in _SUFFIX:
        factor, raw = _SUFFIX[raw[-1]], raw[:-1]
    if raw.count(",") == 1 and "." not in raw and len(raw.split(",")[1]) != 3:
        raw = raw.replace(",", ".")  # a decimal comma: "0,25"
    raw = raw.replace(",", "")  # thousands separators: "1,250,000"
    try:
        value = Decimal(raw) * factor
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_duration(text: str) -> timedelta | None:
    raw = text.strip().lower()
    if raw.isdigit():
        return timedelta(minutes=int(raw))
    match = _DURATION.match(raw)
    if match is None or not (match["h"] or match["m"]):
        return None
    return timedelta(hours=int(match["h"] or 0), minutes=int(match["m"] or 0))
