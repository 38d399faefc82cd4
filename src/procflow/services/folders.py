"""Use cases on folders: one tree per organization, and filing runs and tasks in it.

Templates are filed through their own `folder_id`; runs and tasks through folder links,
whose integer ids are what Tallyfy's clients remove them by.

Creating, moving and deleting folders check the whole tree (no cycle, at most
`MAX_DEPTH` levels) and then write: each takes the organization's lock first
(`locks.lock_organization`), so that no other process changes the tree in between.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete

from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import NotFound, PermissionDenied, Unavailable, ValidationFailed
from procflow.services import activity
from procflow.services.tags import (
    bump_labelled,
    ensure_catalog_manager,
    flush_or_raise,
    labelled_run,
    may_label_run,
    record_link,
    unlink,
)
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Folder, FolderLink, Run, Task
from procflow.storage.repositories import locks, run_versions
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories import taxonomy as repo

NAME_MAX = 250
MAX_DEPTH = 20
FOLDER_TYPES = ("checklist", "run")
DEFAULT_TYPE = "checklist"
SORTS: dict[str, tuple[Callable[[Folder], Any], bool]] = {
    "position": (lambda f: (f.position, f.name.casefold(), f.id), False),
    "-position": (lambda f: (f.position, f.name.casefold(), f.id), True),
    "name": (lambda f: (f.name.casefold(), f.id), False),
    "-name": (lambda f: (f.name.casefold(), f.id), True),
}


@dataclass
class FolderView:
    """A folder with its parent's name, what it holds, and (when asked) its subtree."""

    folder: Folder
    parent_name: str | None
    total: int
    children: list["FolderView"] | None = None


@dataclass(frozen=True)
class FolderQuery:
    q: str | None = None
    folder_type: str | None = None
    parent_id: str | None = None
    sort: str = "position"
    children: bool = False


@dataclass(frozen=True)
class Filing:
    """One run or task in one folder; `created` is False when it was already there."""

    link: FolderLink
    subject_type: str
    created: bool


class Tree:
    """The organization's folders in memory: small enough, and one query."""

    def __init__(self, folders: list[Folder]) -> None:
        self.by_id = {f.id: f for f in folders}
        self.kids: dict[str | None, list[Folder]] = defaultdict(list)
        for folder in folders:
            self.kids[folder.parent_id].append(folder)

    def subtree(self, root_id: str) -> list[str]:
        """The folder and everything below it."""
        found, pending = [root_id], [root_id]
        while pending:
            for child in self.kids.get(pending.pop(), []):
                if child.id not in found:
                    found.append(child.id)
                    pending.append(child.id)
        return found

    def depth(self, folder_id: str) -> int:
        """1 for a top-level folder."""
        depth, current = 0, self.by_id.get(folder_id)
        while current is not None and depth <= MAX_DEPTH:
            depth += 1
            current = self.by_id.get(current.parent_id) if current.parent_id else None
        return depth

    def height(self, folder_id: str) -> int:
        """1 for a folder without subfolders."""
        deepest = max(self.depth(below) for below in self.subtree(folder_id))
        return deepest - self.depth(folder_id) + 1


def list_folders(
    uow: UnitOfWork, caller: Caller, query: FolderQuery, *, offset: int, limit: int | None
) -> tuple[list[FolderView], int]:
    """Top-level folders, or one folder's subfolders; a name search looks at every level."""
    if query.sort not in SORTS:
        raise ValidationFailed.one("sort", f"sort must be one of {', '.join(SORTS)}.")
    tree = Tree(repo.folders_of(uow.session, caller.org_id))
    wanted = [
        f
        for f in tree.by_id.values()
        if query.folder_type not in FOLDER_TYPES or f.folder_type == query.folder_type
    ]
    if query.parent_id:
        wanted = [f for f in wanted if f.parent_id == query.parent_id]
    elif not query.q:
        wanted = [f for f in wanted if f.parent_id is None]
    if query.q:
        needle = query.q.casefold()
        wanted = [f for f in wanted if needle in f.name.casefold()]
    ordered = _sorted(wanted, query.sort)
    page = ordered[offset:] if limit is None else ordered[offset : offset + limit]
    return _views(uow, tree, page, query.sort, query.children), len(ordered)


def get_folder(
    uow: UnitOfWork, caller: Caller, folder_id: str, *, children: bool = False
) -> FolderView:
    tree = Tree(repo.folders_of(uow.session, caller.org_id))
    folder = tree.by_id.get(folder_id)
    if folder is None:
        raise NotFound("Folder")
    return _views(uow, tree, [folder], "position", children)[0]


def create_folder(uow: UnitOfWork, caller: Caller, values: Mapping[str, Any]) -> FolderView:
    """A parent, when given, must be a folder of the same organization and type."""
    ensure_catalog_manager(caller, "create folders")
    tree = _locked_tree(uow, caller)
    name, errors = _check_name(values.get("name"))
    parent_id = values.get("parent_id")
    parent = tree.by_id.get(parent_id) if parent_id else None
    folder_type = values.get("folder_type") or (parent.folder_type if parent else DEFAULT_TYPE)
    if folder_type not in FOLDER_TYPES:
        errors["folder_type"] = [f"The folder type must be one of {', '.join(FOLDER_TYPES)}."]
    if parent_id:
        errors |= _check_parent(tree, parent_id, folder_type, height=1)
    if errors:
        raise ValidationFailed(errors)
    position = values.get("position")
    if position is None:
        position = repo.next_folder_position(uow.session, caller.org_id, parent_id)
    folder = Folder(
        org_id=caller.org_id,
        parent_id=parent_id,
        name=name,
        folder_type=folder_type,
        position=position,
    )
    uow.session.add(folder)
    uow.session.flush()
    activity.record(uow, caller, "created", "folder", folder.id, new=folder.name)
    return _views(uow, tree, [folder], "position", False)[0]


def update_folder(
    uow: UnitOfWork,
    caller: Caller,
    folder_id: str,
    values: Mapping[str, Any],
    *,
    children: bool = False,
) -> FolderView:
    """`name` is required; `parent_id` moves the folder (null: to the top level)."""
    ensure_catalog_manager(caller, "edit folders")
    tree = _locked_tree(uow, caller)
    folder = tree.by_id.get(folder_id)
    if folder is None:
        raise NotFound("Folder")
    name, errors = _check_name(values.get("name"))
    parent_id = values.get("parent_id", folder.parent_id)
    if parent_id and parent_id != folder.parent_id:
        if parent_id in tree.subtree(folder.id):
            errors["parent_id"] = ["A folder cannot be moved into itself or its subfolders."]
        else:
            errors |= _check_parent(
                tree, parent_id, folder.folder_type, height=tree.height(folder.id)
            )
    if errors:
        raise ValidationFailed(errors)
    position = values.get("position")
    wanted = (name, parent_id, folder.position if position is None else position)
    if wanted != (folder.name, folder.parent_id, folder.position):
        before = (folder.name, folder.parent_id, folder.position)
        activity.record_changes(
            uow,
            caller,
            "folder",
            folder.id,
            [
                (key, old, new)
                for key, old, new in zip(
                    ("name", "parent_id", "position"), before, wanted, strict=True
                )
                if old != new
            ],
        )
        folder.name, folder.parent_id, folder.position = wanted
        bump(folder, now=utcnow())
        run_versions.bump_filed(uow.session, [folder.id])
        uow.session.flush()
        tree = Tree(list(tree.by_id.values()))
    return _views(uow, tree, [folder], "position", children)[0]


def delete_folder(uow: UnitOfWork, caller: Caller, folder_id: str) -> None:
    """Deletes the subfolders too; templates in them are unfiled, runs and tasks unlinked."""
    ensure_catalog_manager(caller, "delete folders")
    tree = _locked_tree(uow, caller)
    if folder_id not in tree.by_id:
        raise NotFound("Folder")
    doomed = tree.subtree(folder_id)
    for doomed_id in doomed:
        activity.record(uow, caller, "deleted", "folder", doomed_id, old=tree.by_id[doomed_id].name)
    repo.bump_runs(uow.session, repo.runs_filed_in(uow.session, doomed), utcnow())
    uow.session.flush()
    uow.session.execute(
        delete(Folder).where(Folder.id.in_(doomed)),
        execution_options={"synchronize_session": False},
    )


def file_object(uow: UnitOfWork, caller: Caller, values: Mapping[str, Any]) -> Filing:
    """File a run or a task in a folder; filing it again returns the existing link."""
    subject_type, subject_id = values["subject_type"], values["subject_id"]
    subject = _subject(uow, caller, subject_type, subject_id)
    folder = repo.get_folder(uow.session, caller.org_id, values["folder_id"])
    errors: dict[str, list[str]] = {}
    if folder is None:
        errors["folder_id"] = ["The selected folder id is invalid."]
    if subject is None:
        errors["subject_id"] = [f"The selected {subject_type.lower()} is invalid."]
    if subject is None or folder is None:
        raise ValidationFailed(errors)
    run_id = subject.id if isinstance(subject, Run) else None
    task_id = subject.id if isinstance(subject, Task) else None
    link = repo.find_folder_link(uow.session, folder.id, run_id=run_id, task_id=task_id)
    if link is not None:
        return Filing(link, subject_type, created=False)
    link = FolderLink(folder_id=folder.id, run_id=run_id, task_id=task_id)
    uow.session.add(link)
    bump_labelled(uow, subject)
    record_link(uow, caller, "linked", subject, "folders", folder.id)
    flush_or_raise(uow, Unavailable("The object was filed concurrently; try again."))
    return Filing(link, subject_type, created=True)


def unfile_object(uow: UnitOfWork, caller: Caller, link_id: int) -> None:
    """Take a run or task out of a folder, by its integer relation id."""
    link = repo.folder_link_in(uow.session, caller.org_id, link_id)
    if link is None:
        raise NotFound("Folder object")
    subject: Run | Task | None
    if link.run_id is not None:
        subject = labelled_run(uow, caller, link.run_id, "change this process's folders")
    else:
        ensure_catalog_manager(caller, "change folders")
        subject = uow.session.get(Task, link.task_id)
    unlink(uow, caller, link, subject, "folders", link.folder_id)


def _subject(
    uow: UnitOfWork, caller: Caller, subject_type: str, subject_id: str
) -> Run | Task | None:
    if subject_type == "Task":
        ensure_catalog_manager(caller, "file tasks in folders")
        return repo.task_in(uow.session, caller.org_id, subject_id)
    run = run_repo.get(uow.session, caller.org_id, subject_id, for_update=True)
    if run is not None and not may_label_run(uow, caller, run):
        raise PermissionDenied("You don't have permission to change this process's folders.")
    return run


def _locked_tree(uow: UnitOfWork, caller: Caller) -> Tree:
    """The organization's folders, read after taking its lock (held until commit)."""
    locks.lock_organization(uow.session, caller.org_id)
    return Tree(repo.folders_of(uow.session, caller.org_id))


def _check_name(raw: Any) -> tuple[str, dict[str, list[str]]]:
    name = raw.strip() if isinstance(raw, str) else ""
    if not name:
        return name, {"name": ["The name field is required."]}
    if len(name) > NAME_MAX:
        return name, {"name": [f"The name may not be greater than {NAME_MAX} characters."]}
    return name, {}


def _check_parent(
    tree: Tree, parent_id: str, folder_type: str, *, height: int
) -> dict[str, list[str]]:
    parent = tree.by_id.get(parent_id)
    if parent is None:
        return {"parent_id": ["The selected parent id is invalid."]}
    if parent.folder_type != folder_type:
        return {
            "parent_id": [
                f"The parent folder holds {parent.folder_type} folders, not {folder_type} folders."
            ]
        }
    if tree.depth(parent_id) + height > MAX_DEPTH:
        return {"parent_id": [f"Folders may not nest more than {MAX_DEPTH} levels deep."]}
    return {}


def _sorted(folders: list[Folder], sort: str) -> list[Folder]:
    key, reverse = SORTS[sort]
    return sorted(folders, key=key, reverse=reverse)


def _views(
    uow: UnitOfWork, tree: Tree, folders: list[Folder], sort: str, children: bool
) -> list[FolderView]:
    shown = [f.id for f in folders]
    if children:
        shown = [fid for f in folders for fid in tree.subtree(f.id)]
    totals = repo.folder_totals(uow.session, shown)

    def view(folder: Folder, level: int) -> FolderView:
        parent = tree.by_id.get(folder.parent_id) if folder.parent_id else None
        result = FolderView(folder, parent.name if parent else None, totals[folder.id])
        if children:
            kids = _sorted(tree.kids.get(folder.id, []), sort) if level < MAX_DEPTH else []
            result.children = [view(kid, level + 1) for kid in kids]
        return result

    return [view(folder, 1) for folder in folders]
