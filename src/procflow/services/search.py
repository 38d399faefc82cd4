"""Search across templates, runs, tasks, steps and form fields (`GET /search`).

Each kind is ranked by the database's own full-text engine and holds only what the caller
may read elsewhere: templates, their steps and fields (not archived) for every member;
runs and tasks as the run and task lists show them (light members: only those they are
involved in; archived runs and their tasks left out). procflow has no snippets: that kind
is always an empty list.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, or_, select

from procflow.domain.permissions import Caller, Role
from procflow.domain.search_terms import terms_of
from procflow.errors import ValidationFailed
from procflow.services.tasks import TaskView, views
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, FormField, Run, Step, Task
from procflow.storage.repositories import checklists as checklist_repo
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories import search as repo
from procflow.storage.repositories import tasks as task_repo
from procflow.storage.repositories.checklists import TemplateBundle
from procflow.storage.repositories.runs import RunBundle

KINDS = ("blueprint", "process", "task", "snippet", "capture", "step")
DEFAULT_KINDS = ("blueprint", "process", "task", "snippet")


@dataclass
class Found:
    """One kind's page: the rows in rank order (their type depends on the kind)."""

    total: int = 0
    templates: list[TemplateBundle] = field(default_factory=list)
    runs: list[RunBundle] = field(default_factory=list)
    tasks: list[TaskView] = field(default_factory=list)
    steps: list[tuple[Step, Checklist]] = field(default_factory=list)
    captures: list[tuple[FormField, Checklist]] = field(default_factory=list)


def kinds_of(on: str | None) -> list[str]:
    """The kinds named by `on` (comma-separated), in the order given, each once."""
    if not on or not on.strip():
        return list(DEFAULT_KINDS)
    wanted: list[str] = []
    for part in on.split(","):
        kind = part.strip().lower()
        if kind not in KINDS:
            raise ValidationFailed.one("on", f"on must be one or more of {', '.join(KINDS)}.")
        if kind not in wanted:
            wanted.append(kind)
    return wanted


def search(
    uow: UnitOfWork,
    caller: Caller,
    text: str | None,
    kinds: list[str],
    *,
    offset: int,
    limit: int,
    tags: bool = False,
) -> dict[str, Found]:
    """A page of each kind's matches; a text without a single word matches nothing."""
    terms = terms_of(text)
    found = {kind: Found() for kind in kinds}
    if not terms:
        return found
    for kind, result in found.items():
        if kind == "snippet":
            continue
        model, visible = _visible(caller, kind)
        narrower = caller.role is Role.LIGHT and kind in ("process", "task")
        rows, result.total = repo.ranked(
            uow.session,
            caller.org_id,
            kind,
            model,
            visible,
            terms,
            offset,
            limit,
            whole_kind=not narrower,
        )
        _load(uow, kind, rows, result, tags)
    return found


def _visible(caller: Caller, kind: str) -> tuple[Any, Select[Any]]:
    if kind == "blueprint":
        return Checklist, select(Checklist).where(
            Checklist.org_id == caller.org_id, Checklist.archived_at.is_(None)
        )
    if kind == "process":
        runs = select(Run).where(Run.org_id == caller.org_id, Run.archived_at.is_(None))
        if caller.role is Role.LIGHT:
            runs = runs.where(run_repo.involving(caller.user_id))
        return Run, runs
    if kind == "task":
        tasks = select(Task).where(
            Task.org_id == caller.org_id, Task.archived_at.is_(None), task_repo.live_runs()
        )
        if caller.role is Role.LIGHT:
            tasks = tasks.where(
                or_(
                    task_repo.assigned_to(caller.user_id),
                    task_repo.in_runs_involving(caller.user_id),
                    task_repo.started_by(caller.user_id),
                )
            )
        return Task, tasks
    model: Any = Step if kind == "step" else FormField
    rows = (
        select(model)
        .join(Checklist, Checklist.id == model.checklist_id)
        .where(Checklist.org_id == caller.org_id, Checklist.archived_at.is_(None))
    )
    if model is FormField:
        rows = rows.where(FormField.step_id.is_not(None))
    return model, rows


def _load(uow: UnitOfWork, kind: str, rows: list[Any], result: Found, tags: bool) -> None:
    session = uow.session
    if kind == "blueprint":
        result.templates = checklist_repo.bundles(session, rows, tags=tags, folder=True)
    elif kind == "process":
        result.runs = [run_repo.bundle(session, run) for run in rows]
    elif kind == "task":
        result.tasks = views(uow, rows)
    else:
        owners = {
            c.id: c
            for c in session.scalars(
                select(Checklist).where(Checklist.id.in_({row.checklist_id for row in rows}))
            )
        }
        pairs = [(row, owners[row.checklist_id]) for row in rows]
        if kind == "step":
            result.steps = pairs
        else:
            result.captures = pairs
