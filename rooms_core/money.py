"""Money is an ``int`` number of lamports. No float ever touches a balance.

Rounding rule used everywhere in the core: multiply first, then floor-divide
(:func:`mul_div_floor`). Whatever flooring leaves over is booked explicitly to a
protocol account by the caller; it is never dropped.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TypeAlias

Lamports: TypeAlias = int

LAMPORTS_PER_SOL: Lamports = 1_000_000_000
BPS_DENOMINATOR = 10_000


def sol(amount: str | int | Decimal) -> Lamports:
    """Exact conversion of a SOL amount to lamports; rejects sub-lamport precision.

    >>> sol("14.55")
    14550000000
    """
    value = Decimal(amount) * LAMPORTS_PER_SOL
    if value != value.to_integral_value():
        raise ValueError(f"{amount} SOL is not a whole number of lamports")
    return int(value)


def parse_sol(text: str) -> Lamports | None:
    """Parse user input such as ``"1.5"`` into lamports, flooring below one lamport.

    Returns ``None`` for anything that is not a finite, non-negative decimal number.
    """
    try:
        value = Decimal(text.strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value < 0:
        return None
    return int((value * LAMPORTS_PER_SOL).to_integral_value(rounding=ROUND_DOWN))


def format_sol(lamports: Lamports) -> str:
    """Render lamports as SOL with up to nine decimals and no trailing zeros.

    >>> format_sol(14_550_000_000)
    '14.55'
    """
    sign = "-" if lamports < 0 else ""
    whole, frac = divmod(abs(lamports), LAMPORTS_PER_SOL)
    if frac == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:09d}".rstrip("0")


def mul_div_floor(amount: Lamports, numerator: int, denominator: int) -> Lamports:
    """floor(amount * numerator / denominator) in exact integer arithmetic."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    return (amount * numerator) // denominator


def bps_of(amount: Lamports, bps: int) -> Lamports:
    """floor(amount * bps / 10_000)."""
    return mul_div_floor(amount, bps, BPS_DENOMINATOR)
