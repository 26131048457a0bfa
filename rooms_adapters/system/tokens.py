"""Unguessable tokens from the operating system's CSPRNG."""

from __future__ import annotations

import secrets

from rooms_adapters.memory.tokens import ALPHABET


class SecretTokenSource:
    def token(self, length: int) -> str:
        return "".join(secrets.choice(ALPHABET) for _ in range(length))
