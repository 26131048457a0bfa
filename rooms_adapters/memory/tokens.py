"""Deterministic tokens for tests and the simulator."""

from __future__ import annotations

import random

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class SeededTokenSource:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"tokens:{seed}")

    def token(self, length: int) -> str:
        return "".join(self._rng.choice(ALPHABET) for _ in range(length))
