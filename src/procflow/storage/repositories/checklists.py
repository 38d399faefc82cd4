"""Reading templates (checklists), their steps and their form fields."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from procflow.storage.models import (
    AutomatedAction,
    Checklist,
    Folder,
    FormField,
    Run,
    Step,
    Tag,
    TagLink,
)
from procflow.storage.repositories import automations

SORTS: dict[str, tuple[Any, ...]] = {
    "updated": (Checklist.last_updated.desc(),),
    "-updated": (Checklist.last_updated.asc(),),
    "title": (func.lower(Checklist.title).asc(),),
    "-title": (func.lower(Checklist.title).desc(),),
    "created": (Checklist.created_at.desc(),),
    "-created": (Checklist.created_at.asc(),),
}


@dataclass(frozen=True)
class TemplateFilter:
    q: str | None = None
    archived: str | None = None
    folder: str | None = None
    tag: str | None = None
    type: str | None = None
    starred: bool | None = None
    owner_id: int | None = None
    sort: str = "updated"


@dataclass
class TemplateBundle:
    """A template with what its representation needs, loaded in a fixed number of queries."""

    checklist: Checklist
    kickoff: list[FormField] = field(default_factory=list)
    steps_count: int = 0
    started_processes: int = 0
    steps: list[Step] | None = None
    captures: dict[str, list[FormField]] = field(default_factory=dict)
    tags: list[tuple[int, Tag]] | None = None
    folder: Folder | None = None
    with_folder: bool = False
    automations: list[AutomatedAction] = field(default_factory=list)


FIELD_ORDER = (FormField.position, FormField.created_at, FormField.id)
STEP_ORDER = (Step.position, Step.created_at, Step.id)


def get(session: Session, org_id: str, checklist_id: str) -> Checklist | None:
    """The template, or None when it does not exist in this organization."""
    checklist = session.get(Checklist, checklist_id)
    return checklist if checklist is not None and checklist.org_id == org_id else None


def get_step(session: Session, checklist_id: str, step_id: str) -> Step | None:
    step = session.get(Step, step_id)
    return step if step is not None and step.checklist_id == checklist_id else None


def get_capture(session: Session, step_id: str, field_id: str) -> FormField | None:
    found = session.get(FormField, field_id)
    return found if found is not None and found.step_id == step_id else None


def steps_of(session: Session, checklist_id: str) -> list[Step]:
    return list(
        session.scalars(select(Step).where(Step.checklist_id == checklist_id).order_by(*STEP_ORDER))
    )


def steps_page(
    session: Session, checklist_id: str, offset: int, limit: int | None
) -> tuple[list[Step], int]:
    query = select(Step).where(Step.checklist_id == checklist_id)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    query = query.order_by(*STEP_ORDER).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def kickoff_of(session: Session, checklist_id: str) -> list[FormField]:
    return list(
        session.scalars(
            select(FormField)
            .where(FormField.checklist_id == checklist_id, FormField.step_id.is_(None))
            .order_by(*FIELD_ORDER)
        )
    )


def captures_of(session: Session, step_ids: Sequence[str]) -> dict[str, list[FormField]]:
    """Each step's captures in display order (an empty list for a step without any)."""
    found: dict[str, list[FormField]] = {step_id: [] for step_id in step_ids}
    if step_ids:
        for capture in session.scalars(
            select(FormField).where(FormField.step_id.in_(step_ids)).order_by(*FIELD_ORDER)
        ):
            found[str(capture.step_id)].append(capture)
    return found


def step_aliases(session: Session, checklist_id: str) -> set[str]:
    return set(session.scalars(select(Step.alias).where(Step.checklist_id == checklist_id)))


def field_aliases(session: Session, checklist_id: str) -> set[str]:
    return set(
        session.scalars(select(FormField.alias).where(FormField.checklist_id == checklist_id))
    )


def search(
    session: Session, org_id: str, flt: TemplateFilter, offset: int, limit: int | None
) -> tuple[list[Checklist], int]:
    """One page of matching templates and the total number of matches."""
    query = select(Checklist).where(Checklist.org_id == org_id, *_conditions(flt))
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    query = query.order_by(*SORTS[flt.sort], Checklist.increment_id.desc()).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def _conditions(flt: TemplateFilter) -> list[Any]:
    conds: list[Any] = []
    if flt.archived == "only":
        conds.append(Checklist.archived_at.is_not(None))
    elif flt.archived not in ("true", "1", "all"):
        conds.append(Checklist.archived_at.is_(None))
    if flt.q:
        conds.append(func.lower(Checklist.title).contains(flt.q.lower(), autoescape=True))
    if flt.folder:
        conds.append(Checklist.folder_id == flt.folder)
    if flt.tag:
        conds.append(
            exists().where(
                TagLink.checklist_id == Checklist.id,
                TagLink.tag_id == Tag.id,
                or_(Tag.id == flt.tag, Tag.title == flt.tag),
            )
        )
    if flt.type:
        conds.append(Checklist.type == flt.type)
    if flt.starred is not None:
        conds.append(Checklist.starred.is_(flt.starred))
    if flt.owner_id is not None:
        conds.append(Checklist.owner_id == flt.owner_id)
    return conds


def bundles(
    session: Session,
    checklists: Sequence[Checklist],
    *,
    steps: bool = False,
    tags: bool = False,
    folder: bool = False,
) -> list[TemplateBundle]:
    """Bundles for many templates at once: the query count does not grow with the page."""
    ids = [c.id for c in checklists]
    result = {c.id: TemplateBundle(checklist=c, with_folder=folder) for c in checklists}
    if not ids:
        return []
    for kickoff_field in session.scalars(
        select(FormField)
        .where(FormField.checklist_id.in_(ids), FormField.step_id.is_(None))
        .order_by(*FIELD_ORDER)
    ):
        result[kickoff_field.checklist_id].kickoff.append(kickoff_field)
    for checklist_id, rules in automations.rules_of(session, ids).items():
        result[checklist_id].automations = rules
    for checklist_id, number in _counts(session, Step.checklist_id, ids):
        result[checklist_id].steps_count = number
    for checklist_id, number in _counts(session, Run.checklist_id, ids):
        result[checklist_id].started_processes = number
    if steps:
        _load_steps(session, result)
    if tags:
        _load_tags(session, result)
    if folder:
        _load_folders(session, result)
    return [result[checklist_id] for checklist_id in ids]


def bundle(
    session: Session,
    checklist: Checklist,
    *,
    steps: bool = False,
    tags: bool = False,
    folder: bool = False,
) -> TemplateBundle:
    return bundles(session, [checklist], steps=steps, tags=tags, folder=folder)[0]


def _counts(session: Session, column: Any, ids: Iterable[str]) -> list[tuple[str, int]]:
    rows = session.execute(
        select(column, func.count()).where(column.in_(list(ids))).group_by(column)
    )
    return [(str(key), int(number)) for key, number in rows]


def _load_steps(session: Session, result: dict[str, TemplateBundle]) -> None:
    for item in result.values():
        item.steps = []
    all_steps = list(
        session.scalars(
            select(Step).where(Step.checklist_id.in_(list(result))).order_by(*STEP_ORDER)
        )
    )
    for step in all_steps:
        steps = result[step.checklist_id].steps
        assert steps is not None
        steps.append(step)
    captures = captures_of(session, [s.id for s in all_steps])
    for step in all_steps:
        result[step.checklist_id].captures[step.id] = captures[step.id]


def _load_tags(session: Session, result: dict[str, TemplateBundle]) -> None:
    for item in result.values():
        item.tags = []
    for link_id, checklist_id, tag in session.execute(
        select(TagLink.id, TagLink.checklist_id, Tag)
        .join(Tag, Tag.id == TagLink.tag_id)
        .where(TagLink.checklist_id.in_(list(result)))
        .order_by(TagLink.id)
    ):
        tags = result[str(checklist_id)].tags
        assert tags is not None
        tags.append((int(link_id), tag))


def _load_folders(session: Session, result: dict[str, TemplateBundle]) -> None:
    folder_ids = {b.checklist.folder_id for b in result.values() if b.checklist.folder_id}
    if not folder_ids:
        return
    folders = {f.id: f for f in session.scalars(select(Folder).where(Folder.id.in_(folder_ids)))}
    for item in result.values():
        if item.checklist.folder_id:
            item.folder = folders.get(item.checklist.folder_id)


def folder_in_org(session: Session, org_id: str, folder_id: str) -> bool:
    found = session.get(Folder, folder_id)
    return found is not None and found.org_id == org_id
