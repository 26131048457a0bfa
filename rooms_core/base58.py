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
