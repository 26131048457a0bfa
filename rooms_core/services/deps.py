"""What every service needs, bundled once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rooms_core.ports.clock import Clock
from rooms_core.ports.prices import PriceOracle
from rooms_core.ports.storage import UnitOfWork
from rooms_core.ports.tokens import TokenSource
from rooms_core.settings import RoomsSettings


@dataclass(frozen=True, slots=True)
class Deps:
    """Ports and settings for the services. ``uow`` makes a fresh unit of work per call,
    so concurrent tasks never share one transaction."""

    uow: Callable[[], UnitOfWork]
    clock: Clock
    oracle: PriceOracle
    tokens: TokenSource
    settings: RoomsSettings
