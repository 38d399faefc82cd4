"""Tasks of the organization (`/tasks`, one-off tasks among them), of a member, of the caller."""

from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from procflow.api.conditional import CREATED_TAGGED, READ_TAGGED, TAGGED, IfMatch, IfNoneMatch
from procflow.api.dependencies import (
    CurrentCaller,
    CurrentUser,
    Db,
    Includes,
    Page,
    Paging,
    strict_for,
)
from procflow.api.presenters.task_views import wants
from procflow.api.routes.task_responses import (
    ORG,
    ActorTasks,
    Csv,
    Stamp,
    Text,
    csv_ints,
    flag,
    stamp,
    task_item,
    task_page,
)
from procflow.api.schemas.base import ERRORS, Envelope, ListEnvelope
from procflow.api.schemas.tasks import TaskCompletion, TaskCreate, TaskUpdate
from procflow.api.transaction import JsonRoute
from procflow.domain.timeutil import utcnow
from procflow.services import oneoff_tasks, task_search, tasks
from procflow.services.task_search import TaskFilter
from procflow.services.tasks import TaskView
from procflow.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["tasks"], route_class=JsonRoute, responses=ERRORS)


def _org_filter(
    status: str | None,
    owners: str | None,
    unassigned: bool,
    q: str | None,
    is_oneoff: str | None,
    archived: str | None,
    sort: str | None,
    deadline_before: str | None,
    deadline_after: str | None,
) -> TaskFilter:
    return TaskFilter(
        status=status,
        owners=csv_ints(owners),
        unassigned=unassigned,
        q=q,
        is_oneoff=flag(is_oneoff),
        archived=archived,
        sort=sort or "deadline",
        deadline_before=stamp(deadline_before, "deadline_before"),
        deadline_after=stamp(deadline_after, "deadline_after"),
    )


@router.get(ORG + "/tasks", response_model=ListEnvelope, summary="List the organization's tasks")
async def list_org_tasks(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    q: Text = None,
    status: Text = None,
    owners: Csv = None,
    unassigned: bool = False,
    is_oneoff: Annotated[str | None, Query(max_length=5)] = None,
    archived: Annotated[str | None, Query(max_length=10)] = None,
    sort: Text = None,
    deadline_before: Stamp = None,
    deadline_after: Stamp = None,
) -> Response:
    flt = _org_filter(
        status, owners, unassigned, q, is_oneoff, archived, sort, deadline_before, deadline_after
    )
    found = task_search.list_org_tasks(
        uow,
        caller,
        flt,
        offset=page.offset,
        limit=page.size,
        now=utcnow(),
        with_run=wants(include, "run"),
    )
    return task_page(request, found, page, include, uow)


@router.post(
    ORG + "/tasks",
    status_code=201,
    response_model=Envelope,
    responses=CREATED_TAGGED,
    summary="Create a one-off task",
)
async def create_task(caller: CurrentCaller, uow: Db, body: TaskCreate) -> Response:
    request = body.present()
    if "summary" not in request and body.description is not None:
        request["summary"] = body.description
    view = oneoff_tasks.create_oneoff(uow, caller, request)
    return task_item(view, frozenset(), uow, status_code=201)


@router.get(
    ORG + "/tasks/{task_id}", response_model=Envelope, responses=READ_TAGGED, summary="Get a task"
)
async def get_task(
    task_id: str, service: ActorTasks, uow: Db, include: Includes, if_none_match: IfNoneMatch
) -> Response:
    view = service.get_task(uow, task_id, with_run=wants(include, "run"))
    guest = service.for_guest
    return task_item(view, include, uow, for_guest=guest, if_none_match=if_none_match)


@router.put(
    ORG + "/tasks/{task_id}", response_model=Envelope, responses=TAGGED, summary="Update a task"
)
async def update_task(
    task_id: str,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    body: TaskUpdate,
    strict: Annotated[bool, strict_for(TaskUpdate)],
    precondition: IfMatch,
) -> Response:
    view = tasks.update_task(
        uow, caller, task_id, body.present(), strict=strict, precondition=precondition
    )
    return task_item(view, include, uow)


@router.delete(ORG + "/tasks/{task_id}", status_code=204, summary="Archive a one-off task")
async def archive_task(
    task_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    oneoff_tasks.archive_oneoff(uow, caller, task_id, precondition=precondition)
    return Response(status_code=204)


@router.put(
    ORG + "/tasks/{task_id}/restore",
    response_model=Envelope,
    responses=TAGGED,
    summary="Restore an archived one-off task",
)
async def restore_task(
    task_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    view = oneoff_tasks.restore_oneoff(uow, caller, task_id, precondition=precondition)
    return task_item(view, frozenset(), uow)


@router.delete(
    ORG + "/tasks/{task_id}/delete", status_code=204, summary="Delete a one-off task for good"
)
async def delete_task(
    task_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    oneoff_tasks.delete_oneoff(uow, caller, task_id, precondition=precondition)
    return Response(status_code=204)


@router.post(
    ORG + "/completed-tasks",
    response_model=Envelope,
    responses=TAGGED,
    summary="Complete a one-off task",
)
async def complete_task(
    caller: CurrentCaller, uow: Db, body: TaskCompletion, precondition: IfMatch
) -> Response:
    view = tasks.complete_task(
        uow, caller, body.task_id, body.is_approved, precondition=precondition
    )
    return task_item(view, frozenset(), uow)


@router.delete(
    ORG + "/completed-tasks/{task_id}",
    response_model=Envelope,
    responses=TAGGED,
    summary="Reopen a one-off task",
)
async def reopen_task(
    task_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    view = tasks.reopen_task(uow, caller, task_id, precondition=precondition)
    return task_item(view, frozenset(), uow)


# ---- a member's tasks, the caller's own tasks -----------------------------------------


def _assigned_page(
    request: Request,
    uow: UnitOfWork,
    page: Page,
    include: frozenset[str],
    query: tuple[str | None, str | None, str | None],
    search: Callable[..., tuple[list[TaskView], int]],
) -> Response:
    """One page of an assigned-task list; `query` is (`status`, `sort`, `sort_by`): open
    tasks by deadline unless it says otherwise."""
    status, sort, sort_by = query
    found = search(
        TaskFilter(status=status or "active", sort=sort or sort_by or "deadline"),
        offset=page.offset,
        limit=page.size,
        now=utcnow(),
        with_run=wants(include, "run"),
    )
    return task_page(request, found, page, include, uow)


@router.get(
    ORG + "/users/{user_id:int}/tasks",
    response_model=ListEnvelope,
    summary="Tasks assigned to a member",
)
async def member_tasks(
    request: Request,
    user_id: Annotated[int, Path(ge=1, le=2**53)],
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    status: Text = None,
    sort: Text = None,
    sort_by: Text = None,
) -> Response:
    search = partial(task_search.member_tasks, uow, caller, user_id)
    return _assigned_page(request, uow, page, include, (status, sort, sort_by), search)


@router.get(
    ORG + "/me/tasks",
    response_model=ListEnvelope,
    summary="Tasks assigned to the caller in an organization",
)
async def my_tasks_in_organization(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    status: Text = None,
    sort: Text = None,
    sort_by: Text = None,
) -> Response:
    search = partial(task_search.list_org_tasks, uow, caller, assignee=caller.user_id)
    return _assigned_page(request, uow, page, include, (status, sort, sort_by), search)


@router.get("/me/tasks", response_model=ListEnvelope, summary="Tasks assigned to the caller")
async def my_tasks(
    request: Request,
    user_id: CurrentUser,
    uow: Db,
    page: Paging,
    include: Includes,
    status: Text = None,
    sort: Text = None,
    sort_by: Text = None,
) -> Response:
    search = partial(task_search.my_tasks, uow, user_id)
    return _assigned_page(request, uow, page, include, (status, sort, sort_by), search)
