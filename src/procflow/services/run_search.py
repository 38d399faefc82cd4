"""Listing runs with Tallyfy's filters, sorts and exact paging."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, literal, not_, or_, select

from procflow.domain.permissions import Caller, Role
from procflow.domain.runs import DONE
from procflow.errors import ValidationFailed
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import FolderLink, Run, Tag, TagLink, Task, TaskOwner
from procflow.storage.repositories import runs as repo
from procflow.storage.repositories.runs import RunBundle

SORTS: dict[str, Any] = {
    "name": Run.name.asc(),
    "-name": Run.name.desc(),
    "created_at": Run.created_at.asc(),
    "-created_at": Run.created_at.desc(),
    "last_updated": Run.last_updated.asc(),
    "-last_updated": Run.last_updated.desc(),
    "updated": Run.last_updated.desc(),
    "newest": Run.created_at.desc(),
}
STATUSES = (
    "active",
    "problem",
    "issue",
    "complete",
    "completed",
    "archived",
    "delayed",
    "starred",
    "all",
)


@dataclass(frozen=True)
class RunFilter:
    q: str | None = None
    status: str | None = None
    owners: list[int] | None = None
    checklist_id: str | None = None
    folder: str | None = None
    tag: str | None = None
    tag_ids: list[str] | None = None
    untagged: bool = False
    starred: bool | None = None
    type: str | None = None
    archived: str | None = None
    sort: str = "-created_at"


def list_runs(
    uow: UnitOfWork,
    caller: Caller,
    flt: RunFilter,
    *,
    offset: int,
    limit: int | None,
    now: datetime,
    with_tasks: bool = False,
    with_checklist: bool = False,
) -> tuple[list[RunBundle], int]:
    if flt.sort not in SORTS:
        raise ValidationFailed.one("sort", f"sort must be one of {', '.join(SORTS)}.")
    if flt.status and flt.status not in STATUSES:
        raise ValidationFailed.one("status", f"status must be one of {', '.join(STATUSES)}.")
    tagged = _tags_named(uow, caller.org_id, flt.tag) if flt.tag else None
    if tagged == []:
        return [], 0
    query = select(Run).where(Run.org_id == caller.org_id, *_conditions(flt, now, tagged))
    if caller.role is Role.LIGHT:
        query = query.where(repo.involving(caller.user_id))
    page = (
        query.add_columns(func.count().over())
        .order_by(SORTS[flt.sort], Run.increment_id.desc())
        .offset(offset)
    )
    if limit is not None:
        page = page.limit(limit)
    rows = uow.session.execute(page).all()
    runs = [row[0] for row in rows]
    # The total comes with the page (one pass over the matches instead of two); a page past
    # the end has no row to carry it.
    total = int(rows[0][1]) if rows else repo.count(uow.session, query) if offset else 0
    return [
        repo.bundle(uow.session, run, with_tasks=with_tasks, with_checklist=with_checklist)
        for run in runs
    ], total


def _tags_named(uow: UnitOfWork, org_id: str, tag: str) -> list[str]:
    """The ids of the organization's tags whose id or title is `tag`, looked up first so
    that the list's query names the tag ids it filters on and the planner knows how many
    runs they hold."""
    named = or_(Tag.id == tag, Tag.title == tag)
    return list(uow.session.scalars(select(Tag.id).where(Tag.org_id == org_id, named)))


def _conditions(flt: RunFilter, now: datetime, tagged: list[str] | None) -> list[Any]:
    conds: list[Any] = []
    if flt.status == "archived" or flt.archived == "only":
        conds.append(Run.archived_at.is_not(None))
    elif flt.archived not in ("true", "1") and flt.status != "all":
        conds.append(Run.archived_at.is_(None))
    if flt.q:
        conds.append(func.lower(Run.name).contains(flt.q.lower(), autoescape=True))
    if flt.owners:
        conds.append(
            or_(
                Run.owner_id.in_(flt.owners),
                exists().where(
                    TaskOwner.user_id.in_(flt.owners),
                    TaskOwner.task_id == Task.id,
                    Task.run_id == Run.id,
                ),
            )
        )
    if flt.checklist_id:
        conds.append(Run.checklist_id == flt.checklist_id)
    if flt.folder:
        conds.append(Run.id.in_(_filed_in(flt.folder, tagged)))
    elif tagged is not None:
        conds.append(_tagged(tagged, drives=True))
    if flt.tag_ids:
        conds.append(_tagged(flt.tag_ids, drives=not flt.folder and tagged is None))
    if flt.untagged:
        conds.append(not_(exists().where(TagLink.run_id == Run.id)))
    if flt.starred is not None:
        conds.append(Run.starred.is_(flt.starred))
    if flt.type:
        conds.append(Run.type == flt.type)
    # Last: SQLite tests a run's conditions in this order, and the status's three task
    # lookups cost more than any of the above.
    return conds + _status(flt.status, now)


def _filed_in(folder_id: str, tagged: list[str] | None) -> Any:
    """Runs of a folder (and carrying one of the `tagged` tags), read from the
    (folder_id, run_id) index and probing (tag_id, run_id): with a million runs the
    database starts from the runs that match both, instead of testing every run of the
    organization, or every run of the folder."""
    query = select(FolderLink.run_id).where(FolderLink.folder_id == folder_id)
    if tagged is None:
        return query
    return query.where(_any(TagLink.run_id == FolderLink.run_id, TagLink.tag_id.in_(tagged)))


def _tagged(tag_ids: list[str], *, drives: bool) -> Any:
    """Runs carrying one of these tags: the runs the list starts from (read from the
    (tag_id, run_id) index, as `_filed_in`), or a probe of that index per run."""
    if drives:
        return Run.id.in_(select(TagLink.run_id).where(TagLink.tag_id.in_(tag_ids)))
    return _any(TagLink.run_id == Run.id, TagLink.tag_id.in_(tag_ids))


def _status(status: str | None, now: datetime) -> list[Any]:
    open_task = and_(Task.run_id == Run.id, Task.archived_at.is_(None))
    unfinished = Task.status.not_in([s.value for s in DONE])
    if status == "active":
        complete = and_(_any(open_task), not_(_any(open_task, unfinished)))
        return [not_(complete), _no_problem(open_task)]
    if status in ("problem", "issue"):
        return [_any(open_task, Task.has_problem.is_(True))]
    if status in ("complete", "completed"):
        return [_any(open_task), not_(_any(open_task, unfinished))]
    if status == "delayed":
        return [_any(open_task, unfinished, Task.deadline < now)]
    if status == "starred":
        return [Run.starred.is_(True)]
    return []


def _no_problem(open_task: Any) -> Any:
    return not_(_any(open_task, Task.has_problem.is_(True)))


def _any(*conditions: Any) -> Any:
    """EXISTS (SELECT 1 ...): unlike `exists()`'s SELECT *, SQLite answers it from a
    covering index without reading the rows (ix_task_run_id_state for the status tests)."""
    return select(literal(1)).where(*conditions).exists()
