"""Unguessable tokens (referral codes). Seeded in the simulator, ``secrets`` in production."""

from __future__ import annotations

from typing import Protocol


class TokenSource(Protocol):
    def token(self, length: int) -> str:
        """A random string of ``length`` characters from an unambiguous alphabet."""
