"""Runs (processes): `/organizations/{org_id}/runs`."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from procflow.api.conditional import (
    CREATED_TAGGED,
    READ_TAGGED,
    TAGGED,
    IfMatch,
    IfNoneMatch,
    run_response,
)
from procflow.api.dependencies import (
    CurrentCaller,
    Db,
    Includes,
    Paging,
    strict_for,
)
from procflow.api.presenters import envelope
from procflow.api.presenters.runs import run_json
from procflow.api.responses import JsonResponse
from procflow.api.routes.task_responses import csv_ints
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.runs import RunEnvelope, RunLaunch, RunList, RunUpdate
from procflow.api.transaction import JsonRoute
from procflow.domain.timeutil import utcnow
from procflow.services import launch, run_search, runs
from procflow.services.run_search import RunFilter

router = APIRouter(
    prefix="/organizations/{org_id}/runs", tags=["runs"], route_class=JsonRoute, responses=ERRORS
)
TASK_INCLUDES = frozenset({"tasks", "next_task"})


def view_of(include: frozenset[str]) -> runs.View:
    """What of a run the `?with=` includes ask the services to load."""
    return runs.View(
        tasks=bool(include & TASK_INCLUDES),
        captures="form_fields" in include,
        checklist="checklist" in include,
    )


@router.get("", response_model=RunList, summary="List processes")
async def list_runs(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    owners: Annotated[str | None, Query(max_length=1000)] = None,
    checklist_id: Annotated[str | None, Query(max_length=64)] = None,
    blueprint_id: Annotated[str | None, Query(max_length=64)] = None,
    folder: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    tag_ids: Annotated[str | None, Query(max_length=2000)] = None,
    untagged: bool = False,
    starred: bool | None = None,
    type: Annotated[str | None, Query(max_length=20)] = None,
    archived: Annotated[str | None, Query(max_length=10)] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
    sort_by: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    flt = RunFilter(
        q=q,
        status=status,
        owners=csv_ints(owners),
        checklist_id=checklist_id or blueprint_id,
        folder=folder,
        tag=tag,
        tag_ids=[t for t in (tag_ids or "").split(",") if t] or None,
        untagged=untagged,
        starred=starred,
        type=type,
        archived=archived,
        sort=sort or sort_by or "-created_at",
    )
    now = utcnow()
    bundles, total = run_search.list_runs(
        uow,
        caller,
        flt,
        offset=page.offset,
        limit=page.size,
        now=now,
        with_tasks=bool(include & TASK_INCLUDES),
        with_checklist="checklist" in include,
    )
    data = [run_json(b, include, now) for b in bundles]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


@router.post(
    "",
    status_code=201,
    response_model=RunEnvelope,
    responses=CREATED_TAGGED,
    summary="Launch a process",
)
async def launch_run(
    caller: CurrentCaller, uow: Db, body: RunLaunch, strict: Annotated[bool, strict_for(RunLaunch)]
) -> Response:
    bundle = launch.launch_run(uow, caller, body.present(), strict=strict)
    return run_response(bundle, frozenset(), status_code=201)


@router.get("/{run_id}", response_model=RunEnvelope, responses=READ_TAGGED, summary="Get a process")
async def get_run(
    run_id: str, caller: CurrentCaller, uow: Db, include: Includes, if_none_match: IfNoneMatch
) -> Response:
    bundle = runs.get_run(uow, caller, run_id, view_of(include))
    return run_response(bundle, include, if_none_match=if_none_match)


@router.put("/{run_id}", response_model=RunEnvelope, responses=TAGGED, summary="Update a process")
async def update_run(
    run_id: str,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    body: RunUpdate,
    strict: Annotated[bool, strict_for(RunUpdate)],
    precondition: IfMatch,
) -> Response:
    bundle, _changes = runs.update_run(
        uow,
        caller,
        run_id,
        body.present(),
        strict=strict,
        view=view_of(include),
        precondition=precondition,
    )
    return run_response(bundle, include)


@router.delete(
    "/{run_id}", response_model=RunEnvelope, responses=TAGGED, summary="Archive a process"
)
async def archive_run(
    run_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    return run_response(runs.archive_run(uow, caller, run_id, precondition=precondition), ())


@router.put(
    "/{run_id}/activate",
    response_model=RunEnvelope,
    responses=TAGGED,
    summary="Restore an archived process",
)
async def activate_run(
    run_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    return run_response(runs.activate_run(uow, caller, run_id, precondition=precondition), ())


@router.delete(
    "/{run_id}/delete",
    response_class=Response,
    response_description="Deleted; as Tallyfy, the answer has no body",
    summary="Delete an archived process for good",
)
async def delete_run(
    run_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    runs.delete_run(uow, caller, run_id, precondition=precondition)
    return Response(status_code=200)


@router.post(
    "/{run_id}/complete-prerun",
    response_model=RunEnvelope,
    responses=TAGGED,
    summary="Complete the kick-off form",
)
async def complete_prerun(
    run_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    bundle = runs.set_prerun_complete(uow, caller, run_id, True, precondition=precondition)
    return run_response(bundle, ())


@router.delete(
    "/{run_id}/complete-prerun",
    response_model=RunEnvelope,
    responses=TAGGED,
    summary="Reopen the kick-off form",
)
async def reopen_prerun(
    run_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    bundle = runs.set_prerun_complete(uow, caller, run_id, False, precondition=precondition)
    return run_response(bundle, ())
