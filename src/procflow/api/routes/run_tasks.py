"""Tasks of a run (`/runs/{run_id}/tasks`): members and the guests they are assigned to."""

from typing import Annotated

from fastapi import APIRouter, Request, Response

from procflow.api.conditional import READ_TAGGED, TAGGED, IfMatch, IfNoneMatch
from procflow.api.dependencies import CurrentCaller, Db, Includes, Paging, strict_for
from procflow.api.presenters.task_views import wants
from procflow.api.routes.task_responses import (
    ORG,
    ActorTasks,
    Csv,
    Stamp,
    Text,
    csv_ints,
    stamp,
    task_item,
    task_page,
)
from procflow.api.schemas.base import ERRORS, Envelope, ListEnvelope
from procflow.api.schemas.tasks import TaskCompletion, TaskUpdate
from procflow.api.transaction import JsonRoute
from procflow.domain.timeutil import utcnow
from procflow.services import task_search
from procflow.services.task_search import TaskFilter

router = APIRouter(tags=["tasks"], route_class=JsonRoute, responses=ERRORS)


@router.get(
    ORG + "/runs/{run_id}/tasks", response_model=ListEnvelope, summary="List a process's tasks"
)
async def list_run_tasks(
    run_id: str,
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    status: Text = None,
    owners: Csv = None,
    unassigned: bool = False,
    deadline_before: Stamp = None,
    deadline_after: Stamp = None,
    sort: Text = None,
) -> Response:
    flt = TaskFilter(
        status=status,
        owners=csv_ints(owners),
        unassigned=unassigned,
        deadline_before=stamp(deadline_before, "deadline_before"),
        deadline_after=stamp(deadline_after, "deadline_after"),
        sort=sort or "position",
    )
    found = task_search.list_run_tasks(
        uow,
        caller,
        run_id,
        flt,
        offset=page.offset,
        limit=page.size,
        now=utcnow(),
        with_run=wants(include, "run"),
    )
    return task_page(request, found, page, include, uow)


@router.get(
    ORG + "/runs/{run_id}/tasks/{task_id}",
    response_model=Envelope,
    responses=READ_TAGGED,
    summary="Get a task of a process",
)
async def get_run_task(
    run_id: str,
    task_id: str,
    service: ActorTasks,
    uow: Db,
    include: Includes,
    if_none_match: IfNoneMatch,
) -> Response:
    view = service.get_task(uow, task_id, run_id, with_run=wants(include, "run"))
    guest = service.for_guest
    return task_item(view, include, uow, for_guest=guest, if_none_match=if_none_match)


@router.put(
    ORG + "/runs/{run_id}/tasks/{task_id}",
    response_model=Envelope,
    responses=TAGGED,
    summary="Update a task of a process",
)
async def update_run_task(
    run_id: str,
    task_id: str,
    service: ActorTasks,
    uow: Db,
    include: Includes,
    body: TaskUpdate,
    strict: Annotated[bool, strict_for(TaskUpdate)],
    precondition: IfMatch,
) -> Response:
    view = service.update_task(
        uow, task_id, body.present(), run_id=run_id, strict=strict, precondition=precondition
    )
    return task_item(view, include, uow)


@router.post(
    ORG + "/runs/{run_id}/completed-tasks",
    response_model=Envelope,
    responses=TAGGED,
    summary="Complete a task of a process",
)
async def complete_run_task(
    run_id: str, service: ActorTasks, uow: Db, body: TaskCompletion, precondition: IfMatch
) -> Response:
    view = service.complete_task(
        uow, body.task_id, body.is_approved, run_id=run_id, precondition=precondition
    )
    return task_item(view, frozenset(), uow, rules=True)


@router.delete(
    ORG + "/runs/{run_id}/completed-tasks/{task_id}",
    response_model=Envelope,
    responses=TAGGED,
    summary="Reopen a task of a process",
)
async def reopen_run_task(
    run_id: str, task_id: str, service: ActorTasks, uow: Db, precondition: IfMatch
) -> Response:
    view = service.reopen_task(uow, task_id, run_id=run_id, precondition=precondition)
    return task_item(view, frozenset(), uow, rules=True)
