"""Errors as answers: every error is ``{"error": "<Name>", "message": "..."}`` with a 4xx
status (a 500 only for a bug, which is logged with the request's trace id). A domain
error's name is its class's name (``InsufficientBalance``, ``RoomNotFound``, ...)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rooms_core import errors as e
from rooms_core.errors import DomainError
from rooms_core.oracle_errors import NoConsensus
from rooms_core.ports.chain import ChainError
from rooms_core.ports.storage import TransientStorageError

log = logging.getLogger("rooms.api")

# Status by error; anything not listed is 409 (a conflict with the current state).
STATUS: dict[type[DomainError], int] = {
    e.UserNotFound: 404,
    e.RoomNotFound: 404,
    e.WithdrawalNotFound: 404,
    e.NotAllowed: 403,
    e.StakeBelowMinimum: 422,
    e.StakeAboveMaximum: 422,
    e.NonPositiveAmount: 422,
    e.WithdrawalBelowMinimum: 422,
    e.InvalidWithdrawalAddress: 422,
    e.CustodyNotConfigured: 503,
    e.BettingPaused: 503,
    e.WithdrawalsPaused: 503,
    ChainError: 503,
    NoConsensus: 503,
}


class ApiError(Exception):
    """An error answer raised from a route or a dependency."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.name = name
        self.message = message

    @classmethod
    def of(cls, error: DomainError) -> ApiError:
        return cls(STATUS.get(type(error), 409), type(error).__name__, error.message)


def error_body(name: str, message: str) -> dict[str, str]:
    return {"error": name, "message": message}


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        headers = {"WWW-Authenticate": "tma"} if exc.status == 401 else None
        return JSONResponse(error_body(exc.name, exc.message), exc.status, headers=headers)

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors()[:5]
        ]
        return JSONResponse(error_body("InvalidRequest", "; ".join(problems)), 422)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        name = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
        return JSONResponse(error_body(name, str(exc.detail)), exc.status_code, headers=exc.headers)

    async def unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("storage unavailable: %s", type(exc).__name__)
        return JSONResponse(
            error_body("StorageUnavailable", "The database is busy or away; try again."), 503
        )

    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error in %s %s", request.method, request.url.path)
        return JSONResponse(error_body("InternalError", "Something went wrong on our side."), 500)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(TransientStorageError, unavailable)
    app.add_exception_handler(Exception, bug)
