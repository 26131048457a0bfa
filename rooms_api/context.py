"""What the routes share, and the dependencies that give it to them: the context of one
app (no module-level state: two apps in one process never mix), the caller's identity
from the Mini App's initData, the admin check."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated

from fastapi import Depends, Header, Request, WebSocket
from returns.result import Failure

from rooms_adapters.system.metrics import RoomsMetrics
from rooms_api.auth import NotAuthenticated, init_data_from_header, verify_init_data
from rooms_api.errors import ApiError
from rooms_api.health import HealthCheck
from rooms_api.hub import RoomHub
from rooms_api.settings import ApiSettings
from rooms_core.errors import NotAllowed
from rooms_core.events import DomainEvent
from rooms_core.models import User
from rooms_core.ports.changes import RoomChangeFeed
from rooms_core.ports.figures import PlatformFigures
from rooms_core.ports.price_history import PriceHistory
from rooms_core.services import admin, queries
from rooms_core.services.custody import Custody
from rooms_core.services.deps import Deps


@dataclass(frozen=True, slots=True)
class ApiPorts:
    """The deployment's adapters the API reads besides ``Deps``. ``events`` is the store's
    subscriber list (in-process domain events feed the metrics); ``checks`` the health
    checks by name; ``custody`` the chain access, where this process has it (solvency)."""

    changes: RoomChangeFeed
    prices: PriceHistory
    figures: PlatformFigures
    events: list[Callable[[DomainEvent], None]]
    checks: Mapping[str, HealthCheck] = field(default_factory=dict)
    custody: Custody | None = None


@dataclass
class ApiContext:
    deps: Deps
    settings: ApiSettings
    ports: ApiPorts
    hub: RoomHub
    metrics: RoomsMetrics

    def admit(self, user: User) -> Deps:
        """The deps for an admin action by ``user``: a Telegram id configured as an admin
        becomes an admin user id (:func:`rooms_core.services.admin.is_admin` decides)."""
        if user.telegram_id in self.settings.admin_telegram_ids and not admin.is_admin(
            self.deps, user.id
        ):
            ids = (*self.deps.settings.admin_user_ids, user.id)
            self.deps = replace(
                self.deps, settings=self.deps.settings.model_copy(update={"admin_user_ids": ids})
            )
        return self.deps


def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.rooms
    return ctx


def ws_context(websocket: WebSocket) -> ApiContext:
    ctx: ApiContext = websocket.app.state.rooms
    return ctx


Context = Annotated[ApiContext, Depends(context)]


async def current_user(
    ctx: Context,
    authorization: Annotated[
        str | None,
        Header(description="`tma <initData>`: the Mini App's Telegram.WebApp.initData."),
    ] = None,
) -> User:
    init_data = init_data_from_header(authorization)
    if init_data is None:
        error = NotAuthenticated()
        raise ApiError(401, error.name, error.message)
    verified = verify_init_data(
        init_data, ctx.settings.bot_token, ctx.deps.clock.now(), ctx.settings.init_data_max_age
    )
    if isinstance(verified, Failure):
        failure = verified.failure()
        raise ApiError(401, failure.name, failure.message)
    user = await queries.user_by_telegram_id(ctx.deps, telegram_id=verified.unwrap().id)
    if user is None:
        raise ApiError(403, "UserNotRegistered", "Open the bot and send /start first.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def current_admin(ctx: Context, user: CurrentUser) -> User:
    if not admin.is_admin(ctx.admit(user), user.id):
        raise ApiError.of(NotAllowed(user.id))
    return user


CurrentAdmin = Annotated[User, Depends(current_admin)]
