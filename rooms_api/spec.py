"""OpenAPI: the error answers every route may give, documented once."""

from __future__ import annotations

from typing import Any

from rooms_api.schemas import ErrorOut

_ERROR = {"model": ErrorOut}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "A body that is not JSON"},
    401: {**_ERROR, "description": "No valid Mini App initData"},
    403: {**_ERROR, "description": "Not registered, or not an admin"},
    404: {**_ERROR, "description": "No such room, user or withdrawal"},
    409: {**_ERROR, "description": "Refused in the current state (a domain error)"},
    422: {**_ERROR, "description": "Invalid request or amount"},
    503: {**_ERROR, "description": "Paused, or a dependency is unavailable"},
}
