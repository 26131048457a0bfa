"""Bitcoin-alphabet base58, the encoding of Solana addresses and signatures."""

from __future__ import annotations

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(ALPHABET)}


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(ALPHABET[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes | None:
    """Decoded bytes, or None if ``text`` has a character outside the alphabet."""
    n = 0
    for c in text:
        i = _INDEX.get(c)
        if i is None:
            return None
        n = n * 58 + i
    pad = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * pad + body


def is_solana_address(text: str) -> bool:
    """32 bytes in base58 (the shape of a Solana public key or mint address)."""
    if not 32 <= len(text) <= 44:
        return False
    decoded = b58decode(text)
    return decoded is not None and len(decoded) == 32


_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_MINUS_ONE = pow(2, (_P - 1) // 4, _P)


def is_on_ed25519_curve(key: bytes) -> bool:
    """Whether 32 bytes are a point of the ed25519 curve, i.e. a public key someone can hold
    the private key of (program-derived addresses are deliberately off the curve)."""
    if len(key) != 32:
        return False
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    sign = key[31] >> 7
    if y >= _P:
        return False
    y2 = y * y % _P
    x2 = (y2 - 1) * pow(_D * y2 + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_MINUS_ONE % _P
    if (x * x - x2) % _P != 0:
        return False
    return not (x == 0 and sign == 1)


def is_wallet_address(text: str) -> bool:
    """A base58 ed25519 public key on the curve: an address a person can sign for."""
    decoded = b58decode(text) if 32 <= len(text) <= 44 else None
    return decoded is not None and is_on_ed25519_curve(decoded)
