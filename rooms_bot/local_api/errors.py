"""Bot API errors with Telegram's shapes: ``{"ok": false, "error_code": N, "description": ...,
"parameters": {...}}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer; ``description`` is Telegram's full text ("Bad Request: ...")."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot"
    " instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def injected(status: int, retry_after: int, description: str | None) -> ApiError:
    """The error ``LocalBotApi.fail_next`` makes: Telegram's 429 shape for status 429."""
    if status == 429:
        error = too_many_requests(retry_after)
        if description is not None:
            error.description = description
        return error
    return ApiError(status, description or DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"))
