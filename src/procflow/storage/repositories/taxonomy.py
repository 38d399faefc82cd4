"""Queries on tags, folders and the links that attach them to runs, templates and tasks."""

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from procflow.domain.names import fold
from procflow.domain.versioning import bump
from procflow.storage.models import Checklist, Folder, FolderLink, Run, Tag, TagLink, Task

MAX_LINK_ID = 2**31 - 1


def existing_tag_ids(session: Session, org_id: str, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    return set(session.scalars(select(Tag.id).where(Tag.org_id == org_id, Tag.id.in_(ids))))


def existing_folder_ids(session: Session, org_id: str, ids: Collection[str]) -> set[str]:
    if not ids:
        return set()
    return set(
        session.scalars(select(Folder.id).where(Folder.org_id == org_id, Folder.id.in_(ids)))
    )


def count(session: Session, query: Select[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


# Tags


def get_tag(session: Session, org_id: str, tag_id: str) -> Tag | None:
    tag = session.get(Tag, tag_id)
    return tag if tag is not None and tag.org_id == org_id else None


TAG_SORTS = {
    "title": (func.lower(Tag.title).asc(), Tag.id.asc()),
    "-title": (func.lower(Tag.title).desc(), Tag.id.desc()),
    "created_at": (Tag.created_at.asc(), Tag.id.asc()),
    "-created_at": (Tag.created_at.desc(), Tag.id.desc()),
}


def tag_page(
    session: Session,
    org_id: str,
    *,
    q: str | None,
    auto_generated: bool | None,
    sort: str,
    offset: int,
    limit: int | None,
) -> tuple[list[Tag], int]:
    """One page of the organization's tags and the number of tags over all pages."""
    query = select(Tag).where(Tag.org_id == org_id)
    if q:
        query = query.where(func.lower(Tag.title).contains(q.lower(), autoescape=True))
    if auto_generated is not None:
        query = query.where(Tag.auto_generated.is_(auto_generated))
    total = count(session, query)
    query = query.order_by(*TAG_SORTS[sort]).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def title_taken(session: Session, org_id: str, title: str, *, other_than: str | None) -> bool:
    """Whether another tag of the organization has this title, ignoring case (`fold`)."""
    query = select(Tag.id).where(Tag.org_id == org_id, Tag.title_key == fold(title))
    if other_than is not None:
        query = query.where(Tag.id != other_than)
    return session.scalar(query.limit(1)) is not None


def tag_statistics(session: Session, tag_ids: Collection[str]) -> dict[str, dict[str, int]]:
    """Per tag: how many active and archived templates and processes carry it."""
    stats = {
        tag_id: {
            "active_template": 0,
            "archived_template": 0,
            "active_process": 0,
            "archived_process": 0,
        }
        for tag_id in tag_ids
    }
    if not tag_ids:
        return stats
    templates = (
        select(TagLink.tag_id, Checklist.archived_at.is_not(None), func.count())
        .join(Checklist, Checklist.id == TagLink.checklist_id)
        .where(TagLink.tag_id.in_(tag_ids))
        .group_by(TagLink.tag_id, Checklist.archived_at.is_not(None))
    )
    processes = (
        select(TagLink.tag_id, Run.archived_at.is_not(None), func.count())
        .join(Run, Run.id == TagLink.run_id)
        .where(TagLink.tag_id.in_(tag_ids))
        .group_by(TagLink.tag_id, Run.archived_at.is_not(None))
    )
    for kind, query in (("template", templates), ("process", processes)):
        for tag_id, archived, number in session.execute(query):
            stats[tag_id][f"{'archived' if archived else 'active'}_{kind}"] = int(number)
    return stats


def tag_link_in(session: Session, org_id: str, link_id: int) -> TagLink | None:
    if not 0 < link_id <= MAX_LINK_ID:
        return None
    return session.scalar(
        select(TagLink)
        .join(Tag, Tag.id == TagLink.tag_id)
        .where(TagLink.id == link_id, Tag.org_id == org_id)
    )


def find_tag_link(
    session: Session, tag_id: str, *, run_id: str | None = None, checklist_id: str | None = None
) -> TagLink | None:
    return session.scalar(
        select(TagLink).where(
            TagLink.tag_id == tag_id,
            TagLink.run_id == run_id if run_id else TagLink.checklist_id == checklist_id,
        )
    )


def runs_tagged(session: Session, tag_id: str) -> list[str]:
    query = select(TagLink.run_id).where(TagLink.tag_id == tag_id, TagLink.run_id.is_not(None))
    return [run_id for run_id in session.scalars(query) if run_id is not None]


# Subjects a tag or folder can hold


def checklist_in(session: Session, org_id: str, checklist_id: str) -> Checklist | None:
    checklist = session.get(Checklist, checklist_id)
    return checklist if checklist is not None and checklist.org_id == org_id else None


def task_in(session: Session, org_id: str, task_id: str) -> Task | None:
    task = session.get(Task, task_id)
    return task if task is not None and task.org_id == org_id else None


def bump_runs(session: Session, run_ids: Iterable[str], now: datetime) -> None:
    """Move `last_updated` forward and bump `version` of runs whose labels changed.

    The rows are locked (in id order) before they are read: the runs' own writers hold
    the same locks, so no bump is computed from a version another writer is replacing."""
    wanted = sorted(set(run_ids))
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        locked = select(Run).where(Run.id.in_(chunk)).order_by(Run.id).with_for_update()
        for run in session.scalars(locked.execution_options(populate_existing=True)):
            bump(run, now=now)


# Folders


def get_folder(session: Session, org_id: str, folder_id: str) -> Folder | None:
    folder = session.get(Folder, folder_id)
    return folder if folder is not None and folder.org_id == org_id else None


def folders_of(session: Session, org_id: str) -> list[Folder]:
    return list(session.scalars(select(Folder).where(Folder.org_id == org_id)))


def next_folder_position(session: Session, org_id: str, parent_id: str | None) -> int:
    highest = session.scalar(
        select(func.max(Folder.position)).where(
            Folder.org_id == org_id,
            Folder.parent_id == parent_id if parent_id else Folder.parent_id.is_(None),
        )
    )
    return 1 if highest is None else int(highest) + 1


def folder_totals(session: Session, folder_ids: Collection[str]) -> Counter[str]:
    """Per folder: the active templates, processes and tasks filed directly in it."""
    totals: Counter[str] = Counter()
    if not folder_ids:
        return totals
    queries = (
        select(Checklist.folder_id, func.count())
        .where(Checklist.folder_id.in_(folder_ids), Checklist.archived_at.is_(None))
        .group_by(Checklist.folder_id),
        select(FolderLink.folder_id, func.count())
        .join(Run, and_(Run.id == FolderLink.run_id, Run.archived_at.is_(None)))
        .where(FolderLink.folder_id.in_(folder_ids))
        .group_by(FolderLink.folder_id),
        select(FolderLink.folder_id, func.count())
        .join(Task, and_(Task.id == FolderLink.task_id, Task.archived_at.is_(None)))
        .where(FolderLink.folder_id.in_(folder_ids))
        .group_by(FolderLink.folder_id),
    )
    for query in queries:
        for folder_id, number in session.execute(query):
            if folder_id is not None:
                totals[folder_id] += int(number)
    return totals


def folder_link_in(session: Session, org_id: str, link_id: int) -> FolderLink | None:
    if not 0 < link_id <= MAX_LINK_ID:
        return None
    return session.scalar(
        select(FolderLink)
        .join(Folder, Folder.id == FolderLink.folder_id)
        .where(FolderLink.id == link_id, Folder.org_id == org_id)
    )


def find_folder_link(
    session: Session, folder_id: str, *, run_id: str | None = None, task_id: str | None = None
) -> FolderLink | None:
    return session.scalar(
        select(FolderLink).where(
            FolderLink.folder_id == folder_id,
            FolderLink.run_id == run_id if run_id else FolderLink.task_id == task_id,
        )
    )


def runs_filed_in(session: Session, folder_ids: Collection[str]) -> list[str]:
    if not folder_ids:
        return []
    return [
        run_id
        for run_id in session.scalars(
            select(FolderLink.run_id).where(
                FolderLink.folder_id.in_(folder_ids), FolderLink.run_id.is_not(None)
            )
        )
        if run_id is not None
    ]
