"""Atomic edits of a run's lists: add or remove one tag, folder, member or group.

`PUT /runs/{id}` replaces whole lists, so two clients that each read a list, change it
and write it back lose one another's change. These edits name a single item instead, and
take the run's row lock before they read its lists, so concurrent edits queue up rather
than overwrite each other. An edit that finds the list already as asked changes nothing
(same `last_updated`, same version, no activity record), which makes it safe to retry.
Permissions, `last_updated`, version and the activity trail follow `PUT /runs/{id}`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.orm import InstrumentedAttribute

from procflow.domain import permissions
from procflow.domain.etags import Precondition
from procflow.domain.permissions import Caller
from procflow.errors import PermissionDenied, ValidationFailed
from procflow.services import activity, references, runs
from procflow.services.tags import bump_labelled
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import FolderLink, Run, RunGroup, RunMember, TagLink
from procflow.storage.repositories import runs as repo
from procflow.storage.repositories.runs import RunBundle

Checker = Callable[[UnitOfWork, str, Sequence[Any]], dict[str, list[str]]]


@dataclass(frozen=True)
class RunList:
    """One of a run's lists: how it is checked, read, and stored."""

    field: str
    """The list's name in the run's representation, in `PUT` and in activity records."""
    body_field: str
    """The body key that names the item to add; errors about the item name it."""
    check: Checker
    items: Callable[[RunBundle], list[Any]]
    model: type[Any]
    column: InstrumentedAttribute[Any]
    ordered: bool = False
    """Whether rows carry a `position` (members, groups): new items go last."""


TAGS = RunList(
    field="tags",
    body_field="tag_id",
    check=references.check_tags,
    items=lambda bundle: [tag.id for _, tag in bundle.tags],
    model=TagLink,
    column=TagLink.tag_id,
)
FOLDERS = RunList(
    field="folders",
    body_field="folder_id",
    check=references.check_folders,
    items=lambda bundle: [folder.id for _, folder in bundle.folders],
    model=FolderLink,
    column=FolderLink.folder_id,
)
USERS = RunList(
    field="users",
    body_field="user_id",
    check=references.check_users,
    items=lambda bundle: list(bundle.users),
    model=RunMember,
    column=RunMember.user_id,
    ordered=True,
)
GROUPS = RunList(
    field="groups",
    body_field="group_id",
    check=references.check_groups,
    items=lambda bundle: list(bundle.groups),
    model=RunGroup,
    column=RunGroup.group_id,
    ordered=True,
)


def add_item(
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    kind: RunList,
    item: Any,
    *,
    view: runs.View = runs.View(),
    precondition: Precondition | None = None,
) -> RunBundle:
    """Put `item` on the run's list (last); already there: nothing changes."""
    run, current = _locked(uow, caller, run_id, view, precondition)
    errors = kind.check(uow, caller.org_id, [item])
    if errors:
        raise ValidationFailed({kind.body_field: [m for ms in errors.values() for m in ms]})
    before = kind.items(current)
    if item in before:
        return current
    if len(before) >= references.MAX_LIST:
        raise ValidationFailed.one(
            kind.body_field,
            f"A process may have at most {references.MAX_LIST} {kind.field}.",
        )
    values: dict[str, Any] = {"run_id": run.id, kind.column.key: item}
    if kind.ordered:
        values["position"] = _next_position(uow, kind, run.id)
    uow.session.execute(insert(kind.model).values(values))
    _changed(uow, caller, run, current, kind, before, [*before, item])
    return current


def remove_item(
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    kind: RunList,
    item: Any,
    *,
    view: runs.View = runs.View(),
    precondition: Precondition | None = None,
) -> RunBundle:
    """Take `item` off the run's list; not there (or no such item at all): nothing changes."""
    run, current = _locked(uow, caller, run_id, view, precondition)
    before = kind.items(current)
    if item not in before:
        return current
    owned_by_run: ColumnElement[bool] = kind.model.run_id == run.id
    uow.session.execute(delete(kind.model).where(owned_by_run, kind.column == item))
    _changed(uow, caller, run, current, kind, before, [i for i in before if i != item])
    return current


def _locked(
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    view: runs.View,
    precondition: Precondition | None,
) -> tuple[Run, RunBundle]:
    """The run, locked until commit, and its representation, after the checks of
    `PUT /runs/{id}`: visible (404), may be updated (403), `If-Match` matches (412).

    Writers take the lock before they read the lists, so concurrent edits queue up."""
    run = runs.load(uow, caller, run_id, for_update=True)
    if not permissions.can_update_run(caller, runs.stake_in(uow, caller, run)):
        raise PermissionDenied("You don't have permission to update this process.")
    current = repo.bundle(
        uow.session,
        run,
        with_tasks=view.tasks,
        with_captures=view.captures,
        with_checklist=view.checklist,
    )
    runs.require_current(uow, precondition, run, current.facts)
    return run, current


def _next_position(uow: UnitOfWork, kind: RunList, run_id: str) -> int:
    highest = uow.session.scalar(
        select(func.max(kind.model.position)).where(kind.model.run_id == run_id)
    )
    return 0 if highest is None else int(highest) + 1


def _changed(
    uow: UnitOfWork,
    caller: Caller,
    run: Run,
    current: RunBundle,
    kind: RunList,
    before: list[Any],
    after: list[Any],
) -> None:
    bump_labelled(uow, run)
    activity.record_changes(
        uow, caller, "run", run.id, [(kind.field, before, after)], run_id=run.id
    )
    uow.session.flush()
    repo.refresh_lists(uow.connection, current, {kind.field})
