"""Application factory: nothing is built at import time."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from procflow import __version__
from procflow.api.body_deadline import BodyDeadline
from procflow.api.errors import add_error_handlers
from procflow.api.front import add_front
from procflow.api.health import add_probes
from procflow.api.metrics import POOL_CAPACITY, watch_pool
from procflow.api.mounting import mount
from procflow.api.observability import Observability
from procflow.api.ratelimit import install_rate_limiting
from procflow.api.responses import JsonResponse
from procflow.api.routes import ROUTERS
from procflow.api.schemas.openapi import describe
from procflow.services.auth import CallerCache
from procflow.settings import Settings, get_settings
from procflow.storage.blobs import open_blob_store
from procflow.storage.database import is_sqlite, make_engine, make_session_factory
from procflow.storage.sqlite import checkpointer as wal
from procflow.storage.sqlite.gate import WriteGate
from procflow.storage.threads import DatabaseThreads

DESCRIPTION = (
    "A self-hosted server for Tallyfy's REST API. Every route is served at the root and "
    "under `/api`. Authenticate with `Authorization: Bearer <token>`."
)


def create_app(settings: Settings | None = None, *, lean: bool = False) -> FastAPI:
    """The application. A `lean` one (the sandbox's, which must start fast) builds no
    routes: it serves only the routers' own, at the root, for `/api/...` to be rewritten
    to them (`api.mounting`)."""
    settings = settings or get_settings()
    engine = make_engine(settings)
    sessions = make_session_factory(engine)
    sessions.allow_private_webhooks = settings.webhook_allow_private
    sessions.blobs = open_blob_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far lives as long as the process: keep it out of the
        # collector's way so that collections stay short under load. A sandbox, whose
        # start is waited for, does not first look for garbage (a start leaves none), and
        # `procflow sandbox` imports with the collector off: it is on from here.
        if not lean:
            gc.collect()
        gc.freeze()
        gc.enable()
        gate = WriteGate()
        checkpointer = wal.start_for(engine, gate, settings.sqlite_checkpoint_ms)
        if checkpointer is not None:
            sessions.write_gate = gate
        sessions.keep_connection()
        capacity = watch_pool(engine) if settings.metrics else 0
        if not is_sqlite(settings.database_url) and settings.database_threads:
            sessions.threads = DatabaseThreads(settings.database_threads)
        yield
        if sessions.threads is not None:
            sessions.threads.close()
            sessions.threads = None
        POOL_CAPACITY.dec(capacity)
        sessions.release_connection()
        if checkpointer is not None:
            sessions.write_gate = None
            checkpointer.stop()
        engine.dispose()

    app = FastAPI(
        title="procflow",
        version=__version__,
        description=DESCRIPTION,
        default_response_class=JsonResponse,
        lifespan=lifespan,
        docs_url=None,  # api.front serves /docs and /redoc without a CDN
        redoc_url=None,
        # procflow sets up no OpenTelemetry, and FastAPI would otherwise look for its
        # providers on every request (a FastAPI without telemetry keeps this in app.extra).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = sessions
    app.state.blobs = sessions.blobs
    app.state.caller_cache = CallerCache(settings.auth_cache_seconds)
    add_error_handlers(app)
    mount(app, ROUTERS)
    if not lean:
        mount(app, ROUTERS, prefix="/api", in_schema=False)
    describe(app)

    add_probes(app, metrics=settings.metrics)
    add_front(app)

    install_rate_limiting(app, settings)  # nothing at all when "off"
    app.add_middleware(BodyDeadline, seconds=settings.body_read_timeout_seconds)
    app.add_middleware(  # outermost: 408s and 429s get a request id and are counted too
        Observability, metrics=settings.metrics, access_log=settings.access_log
    )
    return app
