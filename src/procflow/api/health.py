"""Probes and metrics for whoever runs procflow: a process supervisor, a load balancer,
Prometheus.

- `/healthz`: the process answers (liveness; nothing else is checked, so a slow database
  never gets a healthy process restarted). `/health` stays as it was.
- `/readyz`: the database answers and its schema is at the latest migration; else 503, so
  a proxy sends no traffic to a node that cannot serve it.
- `/metrics`: Prometheus's text format (`api.metrics`); absent when `metrics` is off.
"""

import asyncio

from fastapi import FastAPI, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from procflow.api.responses import JsonResponse
from procflow.storage.migrate import is_current

READY_TIMEOUT_SECONDS = 5.0


def add_probes(app: FastAPI, *, metrics: bool) -> None:
    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JsonResponse:
        engine = request.app.state.engine
        try:
            async with asyncio.timeout(READY_TIMEOUT_SECONDS):
                current = await run_in_threadpool(is_current, engine)
        except (SQLAlchemyError, TimeoutError):
            return JsonResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if not current:
            return JsonResponse({"status": "unavailable", "database": "migrations pending"}, 503)
        return JsonResponse({"status": "ready", "database": "ok"})

    if metrics:
        from procflow.api.metrics import exposition

        @app.get("/metrics", include_in_schema=False)
        async def prometheus_metrics() -> Response:
            body, content_type = exposition()
            return Response(body, media_type=content_type)
