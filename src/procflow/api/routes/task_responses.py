"""What the task routes share: their query parameters, the caller's task service, and
their answers (one task with its `ETag`, or a page of tasks)."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from procflow.api.conditional import (
    EMBEDDED_TASK_INCLUDES,
    fresh_copy_wanted,
    matches_none,
    not_modified,
    tagged,
)
from procflow.api.dependencies import Page
from procflow.api.guest_auth import CurrentActor
from procflow.api.presenters import envelope
from procflow.api.presenters.activity import activity_json
from procflow.api.presenters.comments import comment_json
from procflow.api.presenters.task_views import task_view_json
from procflow.api.problems import BadRequest
from procflow.api.responses import JsonResponse
from procflow.domain.ids import INT32_MAX, int_id
from procflow.domain.timeutil import parse_ts, utcnow
from procflow.services import activity, comments, tasks
from procflow.services.task_actors import TaskService, tasks_for
from procflow.services.tasks import TaskView
from procflow.services.unit_of_work import UnitOfWork

ORG = "/organizations/{org_id}"
Text = Annotated[str | None, Query(max_length=200)]
Csv = Annotated[str | None, Query(max_length=1000)]
Stamp = Annotated[str | None, Query(max_length=40)]


async def actor_tasks(actor: CurrentActor) -> TaskService:
    """The task service of the member or guest calling, picked once per request."""
    return tasks_for(actor)


ActorTasks = Annotated[TaskService, Depends(actor_tasks)]


def csv_ints(raw: str | None, name: str = "owners") -> list[int] | None:
    """A comma-separated list of user ids, each one that fits its column; else a 400."""
    if not raw:
        return None
    ids = [int_id(part.strip()) for part in raw.split(",") if part.strip()]
    if None in ids:
        message = f"{name} must be a comma-separated list of user ids (1 to {INT32_MAX})."
        raise BadRequest(message, errors={name: [message]})
    return [i for i in ids if i is not None]


def stamp(raw: str | None, name: str) -> datetime | None:
    if not raw:
        return None
    try:
        return parse_ts(raw)
    except ValueError:
        message = f"{name} is not a valid date (ISO 8601, years 1 to 9999 in UTC)."
        raise BadRequest(message, errors={name: [message]}) from None


def flag(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    return raw.lower() in ("true", "1", "yes")


def task_item(
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
    if "run.checklist" in include:
        tasks.add_run_checklists(uow, [view])
    data = task_view_json(view, include, now)
    if rules and view.task.run_id is not None:
        data["tasks_changed_by_rules"] = {
            other.task.id: task_view_json(other, (), now) for other in view.changed_by_rules
        }
    if include & QUERIED_INCLUDES:
        data |= included_records(uow, [view], include, for_guest)[view.task.id]
    return tagged(data, etag, status_code)


COMMENT_INCLUDES = frozenset({"threads", "comments", "issues", "threads_count"})
QUERIED_INCLUDES = COMMENT_INCLUDES | {"activities"}
"""Task includes read from other tables, and only when asked for."""


def included_records(
    uow: UnitOfWork, views: list[TaskView], include: frozenset[str], for_guest: bool
) -> dict[str, dict[str, Any]]:
    """Each task's comment and activity includes: `threads` and `comments` (its live
    comments), `issues` (the problems among them), `threads_count`, `activities` (the
    newest records of its changes; none for a guest)."""
    ids = [v.task.id for v in views]
    found: dict[str, dict[str, Any]] = {task_id: {} for task_id in ids}
    if include & COMMENT_INCLUDES:
        for task_id, threads in comments.threads_of(uow, ids, for_guest=for_guest).items():
            shown = [comment_json(c) for c in threads]
            extra = found[task_id]
            for name in ("threads", "comments"):
                if name in include:
                    extra[name] = {"data": shown}
            if "issues" in include:
                extra["issues"] = {"data": [c for c in shown if c["label"] == "problem"]}
            if "threads_count" in include:
                extra["threads_count"] = len(shown)
    if "activities" in include:
        records = {} if for_guest else activity.of_tasks(uow, [v.task for v in views])
        for task_id in ids:
            found[task_id]["activities"] = {
                "data": [activity_json(item) for item in records.get(task_id, [])]
            }
    return found


def task_page(
    request: Request,
    found: tuple[list[TaskView], int],
    page: Page,
    include: frozenset[str],
    uow: UnitOfWork,
    *,
    for_guest: bool = False,
) -> Response:
    views, total = found
    now = utcnow()
    if "run.checklist" in include:
        tasks.add_run_checklists(uow, views)
    data = [task_view_json(v, include, now) for v in views]
    if include & QUERIED_INCLUDES:
        extras = included_records(uow, views, include, for_guest)
        for item, view in zip(data, views, strict=True):
            item |= extras[view.task.id]
    return JsonResponse(envelope.page_of(data, total, page, request.url))
