"""For operators' tools: ``/health`` (200 when every dependency answers, 503 otherwise,
with each check in the body) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from rooms_api.context import Context
from rooms_api.health import run_checks
from rooms_api.schemas import HealthOut

router = APIRouter(tags=["operations"])
log = logging.getLogger("rooms.api")


@router.get(
    "/health",
    summary="Health of the database, Redis and the oracle",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "A check failed"}},
)
async def health(ctx: Context) -> JSONResponse:
    report = await run_checks(ctx.ports.checks, ctx.settings.health_timeout)
    return JSONResponse(report.model_dump(mode="json"), status_code=200 if report.ok else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(ctx: Context) -> Response:
    try:
        await ctx.metrics.refresh(ctx.deps, ctx.ports.figures, ctx.ports.prices)
    except Exception as error:  # the in-process metrics are still worth a scrape
        log.warning("metrics: storage figures unavailable: %s", type(error).__name__)
    return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)
