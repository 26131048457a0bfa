"""The Telegram Mini App: one page of plain HTML, CSS and JavaScript (no build step, no
CDN), served from ``rooms_api/static``."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/app")


@router.get("/app")
async def page() -> FileResponse:
    # no-cache: Telegram's in-app browser keeps pages long; a new release must show.
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})
