"""The sandbox application: the normal one, plus control routes, middleware and reset hooks.

Each sandbox feature contributes through three lists, read when an application is made:

- `SANDBOX_ROUTERS`: routers of control routes, mounted at the root (`/_sandbox/...`)
  and guarded by `require_admin` (the admin token printed at start);
- `SANDBOX_MIDDLEWARE`: ASGI middleware, listed outermost first, wrapped around the whole
  application (the normal middleware included), so that they see every request; the
  normal `Observability` (request ids, metrics) is moved in just below the journal, so
  that a faulted answer gets its `X-Request-Id` as every other one does, and the journal
  records the headers the client got;
- `RESET_HOOKS`: callables given the application after `POST /_sandbox/reset` and a
  snapshot restore put the database back, to put their own state back too.

A normal server (`api.app.create_app`) has none of these: `/_sandbox/...` answers 404 there.
"""

import hmac
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.middleware import Middleware

from procflow.api.app import create_app
from procflow.api.dependencies import bearer_token
from procflow.api.observability import Observability
from procflow.errors import PermissionDenied
from procflow.sandbox import clock, control, faults, journal
from procflow.sandbox.api_prefix import ApiPrefix
from procflow.sandbox.state import SandboxState
from procflow.sandbox.tallyfy_limits import install_tallyfy_limits, reset_limits
from procflow.settings import Settings

ResetHook = Callable[[FastAPI], None]

SANDBOX_ROUTERS: list[APIRouter] = [
    control.router,
    clock.router,
    faults.router,
    journal.router,
]
SANDBOX_MIDDLEWARE: list[Middleware] = [
    Middleware(journal.JournalMiddleware),  # outermost: it sees faulted answers too
    Middleware(faults.FaultMiddleware),
]
RESET_HOOKS: list[ResetHook] = [
    clock.reset_clock,
    faults.reset_faults,
    journal.reset_journal,
    reset_limits,
]


async def require_admin(request: Request) -> None:
    """Control routes take the sandbox's admin token, and no other (401 without one)."""
    token = bearer_token(request)
    state: SandboxState = request.app.state.sandbox
    if not hmac.compare_digest(token.encode(), state.people.admin_token.encode()):
        raise PermissionDenied("The sandbox's control routes take its admin token.")


AdminOnly: Any = Depends(require_admin)


def create_sandbox_app(settings: Settings, state: SandboxState) -> FastAPI:
    """The normal application with the sandbox's routes and middleware; `state` (the
    people made at start, the snapshots) is kept on `app.state.sandbox`."""
    app = create_app(settings, lean=True)
    app.add_middleware(ApiPrefix)
    app.state.sandbox = state
    app.state.reset_hooks = RESET_HOOKS
    for router in SANDBOX_ROUTERS:
        app.include_router(router, dependencies=[AdminOnly])
    if state.tallyfy_limits:
        install_tallyfy_limits(app)
    for middleware in reversed(SANDBOX_MIDDLEWARE):
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    _observe_below_the_journal(app)
    return app


def _observe_below_the_journal(app: FastAPI) -> None:
    """Move `Observability` from the normal stack's top to just inside the journal."""
    stack = app.user_middleware
    kinds: list[Any] = [entry.cls for entry in stack]
    observed = stack.pop(kinds.index(Observability))
    kinds = [entry.cls for entry in stack]
    stack.insert(kinds.index(journal.JournalMiddleware) + 1, observed)
