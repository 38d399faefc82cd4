"""Control routes: reset, seed, export, snapshots and members' tokens.

They run on the event loop like every other route, so no request's transaction is open
while the database is put back.
"""

import time
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request

from procflow.api.deferred_routes import DeferredRoute
from procflow.api.problems import BadRequest
from procflow.errors import NotFound, ValidationFailed
from procflow.sandbox import exporting, seeding, snapshots, tokens
from procflow.sandbox.state import SandboxState

router = APIRouter(
    prefix="/_sandbox", tags=["sandbox"], include_in_schema=False, route_class=DeferredRoute
)

NAME_MAX = 100


def state_of(app: FastAPI) -> SandboxState:
    state: SandboxState = app.state.sandbox
    return state


def reset(app: FastAPI, snapshot: snapshots.Snapshot | None = None) -> None:
    """Back to `snapshot` (the baseline by default), then every feature's reset hook
    (clock, faults, journal...)."""
    snapshots.put_back(app, snapshot or state_of(app).baseline)
    for hook in app.state.reset_hooks:
        hook(app)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise BadRequest("The request body is not valid JSON.") from None


@router.post("/reset")
async def reset_route(request: Request) -> dict[str, Any]:
    started = time.perf_counter()
    reset(request.app)
    took = round((time.perf_counter() - started) * 1000, 3)
    return {"data": {"reset": True, "milliseconds": took}}


@router.get("/snapshots")
async def list_snapshots(request: Request) -> dict[str, Any]:
    return {"data": [{"name": name} for name in state_of(request.app).snapshots]}


@router.post("/snapshots", status_code=201)
async def take_snapshot(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        raise ValidationFailed({"name": [f"The name must be a string of 1 to {NAME_MAX} chars."]})
    state_of(request.app).snapshots[name] = snapshots.take(request.app.state.engine)
    return {"data": {"name": name}}


@router.post("/snapshots/{name}/restore")
async def restore_snapshot(request: Request, name: str) -> dict[str, Any]:
    snapshot = state_of(request.app).snapshots.get(name)
    if snapshot is None:
        raise NotFound("Snapshot")
    reset(request.app, snapshot)
    return {"data": {"name": name, "restored": True}}


def moves_baseline(request: Request) -> bool:
    return request.query_params.get("baseline", "true").lower() not in ("false", "0", "no")


@router.post("/seed")
async def seed_route(request: Request) -> dict[str, Any]:
    """A seed document (JSON, or YAML), added to what the sandbox holds; reset then comes
    back to the state after it, unless `?baseline=false`. Answers the counts loaded and a
    token for each member added."""
    doc = seeding.parse(await request.body(), request.headers.get("content-type", ""))
    return {"data": await seeding.seed(request.app, doc, baseline=moves_baseline(request))}


@router.post("/tokens", status_code=201)
async def token_route(request: Request) -> dict[str, Any]:
    """A new token for a member (`{"email"}`: an email, or admin, member, light); reset
    keeps it, unless `?baseline=false`."""
    body = await json_body(request)
    email = body.get("email") if isinstance(body, dict) else None
    if not isinstance(email, str) or not email.strip() or len(email) > 254:
        raise ValidationFailed({"email": ["The email of a member of the sandbox."]})
    user_id, token = tokens.issue_one(request.app, email)
    if moves_baseline(request):
        state_of(request.app).baseline = snapshots.take(request.app.state.engine)
    return {"data": {"email": email, "user_id": user_id, "token": token}}


@router.get("/export")
async def export_route(request: Request) -> dict[str, Any]:
    """What the sandbox holds, as a seed document."""
    return await exporting.export(request.app)


@router.get("/people")
async def people_route(request: Request) -> dict[str, Any]:
    """The organization and people made at start, as printed then."""
    announced = state_of(request.app).announcement(str(request.base_url).rstrip("/"))
    return {"data": announced}
