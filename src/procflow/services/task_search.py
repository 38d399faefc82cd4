"""Lists of tasks: of one run, of the organization, of one member, of the caller.

Each list holds only what the caller may read (light members: the tasks they are involved
in), filtered and sorted by a `TaskFilter`, with the representation's data loaded in bulk.
"""

from datetime import datetime

from sqlalchemy import or_, select

from procflow.domain.permissions import Caller, Role
from procflow.services import members, people, runs
from procflow.services.tasks import TaskView, views
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Task
from procflow.storage.repositories import tasks as repo
from procflow.storage.repositories.tasks import TaskFilter as TaskFilter


def list_run_tasks(
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
) -> tuple[list[TaskView], int]:
    """The tasks of one run the caller may read."""
    runs.load(uow, caller, run_id)
    query = repo.filtered(select(Task).where(Task.run_id == run_id), flt, now)
    found, total = repo.page(uow.session, query, flt.sort, offset, limit)
    return views(uow, found, steps=True, bundles=with_run), total


def list_org_tasks(
    uow: UnitOfWork,
    caller: Caller,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
    assignee: int | None = None,
) -> tuple[list[TaskView], int]:
    """Tasks of the organization (or only those assigned to `assignee`, directly or through
    a group); light members see only those they are involved in."""
    query = select(Task).where(Task.org_id == caller.org_id)
    if assignee is not None:
        query = query.where(repo.assigned_to(assignee))
    if flt.archived not in ("only", "true"):
        query = query.where(repo.live_runs())
    if caller.role is Role.LIGHT:
        query = query.where(
            or_(
                repo.assigned_to(caller.user_id),
                repo.in_runs_involving(caller.user_id),
                repo.started_by(caller.user_id),
            )
        )
    found, total = repo.page(uow.session, repo.filtered(query, flt, now), flt.sort, offset, limit)
    return views(uow, found, steps=True, bundles=with_run), total


def member_tasks(
    uow: UnitOfWork,
    caller: Caller,
    user_id: int,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
) -> tuple[list[TaskView], int]:
    """Tasks of the organization assigned to one of its members (directly or through a
    group), as the caller may see them: light members see only the tasks they are involved
    in (as in the task list)."""
    members.get_member(uow, caller, user_id)  # 404 unless a member (disabled ones count)
    return list_org_tasks(
        uow, caller, flt, offset=offset, limit=limit, now=now, with_run=with_run, assignee=user_id
    )


def my_tasks(
    uow: UnitOfWork,
    user_id: int,
    flt: TaskFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_run: bool = False,
) -> tuple[list[TaskView], int]:
    """Tasks assigned to the user in every organization they belong to."""
    org_ids = [org.id for org in people.organizations_of(uow, user_id)]
    query = select(Task).where(
        Task.org_id.in_(org_ids), repo.live_runs(), repo.assigned_to(user_id)
    )
    found, total = repo.page(uow.session, repo.filtered(query, flt, now), flt.sort, offset, limit)
    return views(uow, found, steps=True, bundles=with_run), total
