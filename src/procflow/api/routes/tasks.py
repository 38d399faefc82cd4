"""Tasks: of runs (`/runs/{run_id}/tasks`), one-off and organization-wide (`/tasks`)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from procflow.api.conditional import (
    CREATED_TAGGED,
    EMBEDDED_TASK_INCLUDES,
    READ_TAGGED,
    TAGGED,
    IfMatch,
    IfNoneMatch,
    fresh_copy_wanted,
    matches_none,
    not_modified,
    tagged,
)
from procflow.api.dependencies import (
    CurrentCaller,
    CurrentUser,
    Db,
    Includes,
    Page,
    Paging,
    strict_for,
)
from procflow.api.guest_auth import CurrentActor
from procflow.api.presenters import envelope
from procflow.api.presenters.comments import comment_json
from procflow.api.presenters.task_views import task_view_json
from procflow.api.problems import BadRequest
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS, Envelope, ListEnvelope
from procflow.api.schemas.tasks import TaskCompletion, TaskCreate, TaskUpdate
from procflow.api.transaction import JsonRoute
from procflow.domain.timeutil import parse_ts, utcnow
from procflow.services import comments, guest_tasks, tasks
from procflow.services.guests import GuestCaller
from procflow.services.tasks import TaskFilter, TaskView
from procflow.services.unit_of_work import UnitOfWork

ORG = "/organizations/{org_id}"
router = APIRouter(tags=["tasks"], route_class=JsonRoute, responses=ERRORS)
Text = Annotated[str | None, Query(max_length=200)]
Csv = Annotated[str | None, Query(max_length=1000)]
Stamp = Annotated[str | None, Query(max_length=40)]


TaskActor = CurrentActor


def _csv_ints(raw: str | None) -> list[int] | None:
    if not raw:
        return None
    try:
        return [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise BadRequest("owners must be a comma-separated list of user ids.") from None


def _stamp(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return parse_ts(raw)
    except ValueError:
        raise BadRequest(f"{name} is not a valid date.") from None


def _flag(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    return raw.lower() in ("true", "1", "yes")


def _item(
    view: TaskView,
    include: frozenset[str],
    uow: UnitOfWork,
    *,
    rules: bool = False,
    for_guest: bool = False,
    if_none_match: str | None = None,
    status_code: int = 200,
) -> Response:
    """The task with its `ETag`; a read passes its `If-None-Match`: if it matches, 304."""
    now = utcnow()
    facts = view.bundle.facts if view.bundle is not None else None
    etag = tasks.etag_of(uow, view.task, view.run, now, facts)
    if matches_none(fresh_copy_wanted(if_none_match, include, EMBEDDED_TASK_INCLUDES), etag):
        return not_modified(etag)
    data = task_view_json(view, include, now)
    if rules and view.task.run_id is not None:
        data["tasks_changed_by_rules"] = {}
    if "threads" in include:
        threads = comments.threads_of(uow, [view.task.id], for_guest=for_guest)[view.task.id]
        data["threads"] = {"data": [comment_json(c) for c in threads]}
    return tagged(data, etag, status_code)


def _page(
    request: Request, found: tuple[list[TaskView], int], page: Page, include: frozenset[str]
) -> Response:
    views, total = found
    now = utcnow()
    data = [task_view_json(v, include, now) for v in views]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


# ---- tasks of a run ------------------------------------------------------------------


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
        owners=_csv_ints(owners),
        unassigned=unassigned,
        deadline_before=_stamp(deadline_before, "deadline_before"),
        deadline_after=_stamp(deadline_after, "deadline_after"),
        sort=sort or "position",
    )
    found = tasks.list_run_tasks(
        uow,
        caller,
        run_id,
        flt,
        offset=0 if page.unpaged else page.offset,
        limit=None if page.unpaged else page.size,
        now=utcnow(),
        with_run="run" in include,
    )
    return _page(request, found, page, include)


@router.get(
    ORG + "/runs/{run_id}/tasks/{task_id}",
    response_model=Envelope,
    responses=READ_TAGGED,
    summary="Get a task of a process",
)
async def get_run_task(
    run_id: str,
    task_id: str,
    actor: TaskActor,
    uow: Db,
    include: Includes,
    if_none_match: IfNoneMatch,
) -> Response:
    if isinstance(actor, GuestCaller):
        view = guest_tasks.get_task(uow, actor, task_id, run_id)
        return _item(view, include, uow, for_guest=True, if_none_match=if_none_match)
    view = tasks.get_task(uow, actor, task_id, run_id, with_run="run" in include)
    return _item(view, include, uow, if_none_match=if_none_match)


@router.put(
    ORG + "/runs/{run_id}/tasks/{task_id}",
    response_model=Envelope,
    responses=TAGGED,
    summary="Update a task of a process",
)
async def update_run_task(
    run_id: str,
    task_id: str,
    actor: TaskActor,
    uow: Db,
    include: Includes,
    body: TaskUpdate,
    strict: Annotated[bool, strict_for(TaskUpdate)],
    precondition: IfMatch,
) -> Response:
    patch, when = body.present(), precondition
    if isinstance(actor, GuestCaller):
        view = guest_tasks.update_task(
            uow, actor, task_id, patch, run_id=run_id, strict=strict, precondition=when
        )
    else:
        view = tasks.update_task(
            uow, actor, task_id, patch, run_id=run_id, strict=strict, precondition=when
        )
    return _item(view, include, uow)


@router.post(
    ORG + "/runs/{run_id}/completed-tasks",
    response_model=Envelope,
    responses=TAGGED,
    summary="Complete a task of a process",
)
async def complete_run_task(
    run_id: str, actor: TaskActor, uow: Db, body: TaskCompletion, precondition: IfMatch
) -> Response:
    task_id, verdict = body.task_id, body.is_approved
    if isinstance(actor, GuestCaller):
        view = guest_tasks.complete_task(
            uow, actor, task_id, verdict, run_id=run_id, precondition=precondition
        )
    else:
        view = tasks.complete_task(
            uow, actor, task_id, verdict, run_id=run_id, precondition=precondition
        )
    return _item(view, frozenset(), uow, rules=True)


@router.delete(
    ORG + "/runs/{run_id}/completed-tasks/{task_id}",
    response_model=Envelope,
    responses=TAGGED,
    summary="Reopen a task of a process",
)
async def reopen_run_task(
    run_id: str, task_id: str, actor: TaskActor, uow: Db, precondition: IfMatch
) -> Response:
    if isinstance(actor, GuestCaller):
        view = guest_tasks.reopen_task(
            uow, actor, task_id, run_id=run_id, precondition=precondition
        )
    else:
        view = tasks.reopen_task(uow, actor, task_id, run_id=run_id, precondition=precondition)
    return _item(view, frozenset(), uow, rules=True)


# ---- organization and one-off tasks --------------------------------------------------


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
        owners=_csv_ints(owners),
        unassigned=unassigned,
        q=q,
        is_oneoff=_flag(is_oneoff),
        archived=archived,
        sort=sort or "deadline",
        deadline_before=_stamp(deadline_before, "deadline_before"),
        deadline_after=_stamp(deadline_after, "deadline_after"),
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
    found = tasks.list_org_tasks(
        uow,
        caller,
        flt,
        offset=0 if page.unpaged else page.offset,
        limit=None if page.unpaged else page.size,
        now=utcnow(),
        with_run="run" in include,
    )
    return _page(request, found, page, include)


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
    view = tasks.create_oneoff(uow, caller, request)
    return _item(view, frozenset(), uow, status_code=201)


@router.get(
    ORG + "/tasks/{task_id}", response_model=Envelope, responses=READ_TAGGED, summary="Get a task"
)
async def get_task(
    task_id: str, actor: TaskActor, uow: Db, include: Includes, if_none_match: IfNoneMatch
) -> Response:
    if isinstance(actor, GuestCaller):
        view = guest_tasks.get_task(uow, actor, task_id)
        return _item(view, include, uow, for_guest=True, if_none_match=if_none_match)
    view = tasks.get_task(uow, actor, task_id, with_run="run" in include)
    return _item(view, include, uow, if_none_match=if_none_match)


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
    return _item(view, include, uow)


@router.delete(ORG + "/tasks/{task_id}", status_code=204, summary="Archive a one-off task")
async def archive_task(
    task_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    tasks.archive_oneoff(uow, caller, task_id, precondition=precondition)
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
    view = tasks.restore_oneoff(uow, caller, task_id, precondition=precondition)
    return _item(view, frozenset(), uow)


@router.delete(
    ORG + "/tasks/{task_id}/delete", status_code=204, summary="Delete a one-off task for good"
)
async def delete_task(
    task_id: str, caller: CurrentCaller, uow: Db, precondition: IfMatch
) -> Response:
    tasks.delete_oneoff(uow, caller, task_id, precondition=precondition)
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
    return _item(view, frozenset(), uow)


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
    return _item(view, frozenset(), uow)


# ---- a member's tasks, the caller's own tasks -----------------------------------------


def _assigned_filter(status: str | None, sort: str | None, sort_by: str | None) -> TaskFilter:
    """Assigned-task lists: open tasks by deadline unless the query says otherwise."""
    return TaskFilter(status=status or "active", sort=sort or sort_by or "deadline")


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
    found = tasks.member_tasks(
        uow,
        caller,
        user_id,
        _assigned_filter(status, sort, sort_by),
        offset=0 if page.unpaged else page.offset,
        limit=None if page.unpaged else page.size,
        now=utcnow(),
        with_run="run" in include,
    )
    return _page(request, found, page, include)


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
    found = tasks.my_tasks(
        uow,
        user_id,
        _assigned_filter(status, sort, sort_by),
        offset=0 if page.unpaged else page.offset,
        limit=None if page.unpaged else page.size,
        now=utcnow(),
        with_run="run" in include,
    )
    return _page(request, found, page, include)
