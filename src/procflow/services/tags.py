"""Use cases on tags: the organization's labels, and attaching them to runs and templates.

Reads are open to every member; writes need a role that manages the catalog. Tagging a
run is also allowed to whoever may update that run.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc

from procflow.domain import permissions
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import NotFound, PermissionDenied, ProcflowError, Unavailable, ValidationFailed
from procflow.services import activity, runs
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, Run, Tag, TagLink, Task
from procflow.storage.repositories import run_versions
from procflow.storage.repositories import runs as run_repo
from procflow.storage.repositories import taxonomy as repo
from procflow.storage.repositories.taxonomy import TAG_SORTS as TAG_SORTS

TITLE_MAX = 30
COLOR = re.compile(r"#[0-9a-fA-F]{6}")
SUBJECT_TYPES = ("Checklist", "Run")


@dataclass(frozen=True)
class TagView:
    """A tag, with its usage counts when they were asked for."""

    tag: Tag
    statistics: dict[str, int] | None = None


@dataclass(frozen=True)
class Attachment:
    """One tag on one run or template; `created` is False when it was already there."""

    link: TagLink
    tag: Tag
    subject_type: str
    created: bool

    @property
    def subject_id(self) -> str | None:
        return self.link.run_id or self.link.checklist_id


def ensure_catalog_manager(caller: Caller, action: str) -> None:
    if not permissions.can_manage_catalog(caller):
        raise PermissionDenied(f"You don't have permission to {action}.")


def may_label_run(uow: UnitOfWork, caller: Caller, run: Run) -> bool:
    """Tags and folders on a run: whoever may update the run, as with `PUT /runs/{id}`."""
    return permissions.can_update_run(caller, runs.stake_in(uow, caller, run))


def flush_or_raise(uow: UnitOfWork, error: ProcflowError) -> None:
    """Flush; a unique constraint lost to a concurrent request becomes `error`."""
    try:
        uow.session.flush()
    except sa_exc.IntegrityError as exc:
        raise error from exc


def list_tags(
    uow: UnitOfWork,
    caller: Caller,
    *,
    q: str | None,
    include_auto: bool,
    auto_generated: bool | None,
    sort: str,
    offset: int,
    limit: int | None,
    statistics: bool,
) -> tuple[list[TagView], int]:
    """Auto-generated tags are hidden unless asked for by `all` or `auto_generated`."""
    if sort not in TAG_SORTS:
        raise ValidationFailed.one("sort", f"sort must be one of {', '.join(TAG_SORTS)}.")
    if auto_generated is None and not include_auto:
        auto_generated = False
    tags, total = repo.tag_page(
        uow.session,
        caller.org_id,
        q=q,
        auto_generated=auto_generated,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    return _views(uow, tags, statistics), total


def get_tag(uow: UnitOfWork, caller: Caller, tag_id: str, *, statistics: bool = False) -> TagView:
    return _views(uow, [_load(uow, caller, tag_id)], statistics)[0]


def create_tag(uow: UnitOfWork, caller: Caller, values: Mapping[str, Any]) -> TagView:
    ensure_catalog_manager(caller, "create tags")
    title, errors = _check_title(uow, caller.org_id, values.get("title"), other_than=None)
    errors |= _check_color(values.get("color"))
    if errors:
        raise ValidationFailed(errors)
    tag = Tag(org_id=caller.org_id, title=title, color=values.get("color"))
    uow.session.add(tag)
    flush_or_raise(uow, _title_taken_error())
    activity.record(uow, caller, "created", "tag", tag.id, new=tag.title)
    return TagView(tag)


def update_tag(
    uow: UnitOfWork,
    caller: Caller,
    tag_id: str,
    values: Mapping[str, Any],
    *,
    statistics: bool = False,
) -> TagView:
    """`title` is required on every update; `color` changes only when it is sent."""
    ensure_catalog_manager(caller, "edit tags")
    tag = _load(uow, caller, tag_id)
    title, errors = _check_title(uow, caller.org_id, values.get("title"), other_than=tag.id)
    if "color" in values:
        errors |= _check_color(values["color"])
    if errors:
        raise ValidationFailed(errors)
    changes: list[tuple[str, Any, Any]] = (
        [("title", tag.title, title)] if tag.title != title else []
    )
    if "color" in values and values["color"] != tag.color:
        changes.append(("color", tag.color, values["color"]))
    tag.title = title
    if "color" in values:
        tag.color = values["color"]
    if changes:
        run_versions.bump_tagged(uow.session, tag.id)
    activity.record_changes(uow, caller, "tag", tag.id, changes)
    flush_or_raise(uow, _title_taken_error())
    return _views(uow, [tag], statistics)[0]


def delete_tag(uow: UnitOfWork, caller: Caller, tag_id: str) -> None:
    """Delete for good with every association; an unknown id is not an error."""
    ensure_catalog_manager(caller, "delete tags")
    tag = repo.get_tag(uow.session, caller.org_id, tag_id)
    if tag is None:
        return
    repo.bump_runs(uow.session, repo.runs_tagged(uow.session, tag.id), utcnow())
    activity.record(uow, caller, "deleted", "tag", tag.id, old=tag.title)
    uow.session.delete(tag)
    uow.session.flush()


def attach_tag(uow: UnitOfWork, caller: Caller, values: Mapping[str, Any]) -> Attachment:
    """Put a tag on a run or a template; attaching it again returns the existing link."""
    subject_type, subject_id = values["subject_type"], values["subject_id"]
    subject = _subject(uow, caller, subject_type, subject_id)
    tag = repo.get_tag(uow.session, caller.org_id, values["tag_id"])
    errors: dict[str, list[str]] = {}
    if subject is None:
        errors["subject_id"] = [f"The selected {subject_type.lower()} is invalid."]
    if tag is None:
        errors["tag_id"] = ["The selected tag id is invalid."]
    if subject is None or tag is None:
        raise ValidationFailed(errors)
    run_id = subject.id if isinstance(subject, Run) else None
    checklist_id = subject.id if isinstance(subject, Checklist) else None
    link = repo.find_tag_link(uow.session, tag.id, run_id=run_id, checklist_id=checklist_id)
    if link is not None:
        return Attachment(link, tag, subject_type, created=False)
    link = TagLink(
        tag_id=tag.id, run_id=run_id, checklist_id=checklist_id, tag_type=values["tag_type"]
    )
    uow.session.add(link)
    bump_labelled(uow, subject)
    record_link(uow, caller, "linked", subject, "tags", tag.id)
    flush_or_raise(uow, Unavailable("The tag was attached concurrently; try again."))
    return Attachment(link, tag, subject_type, created=True)


def detach_tag(uow: UnitOfWork, caller: Caller, link_id: int) -> None:
    """Remove one association, by the integer id that `?with=tags` shows."""
    link = repo.tag_link_in(uow.session, caller.org_id, link_id)
    if link is None:
        raise NotFound("Tag association")
    subject: Run | Checklist | None
    if link.run_id is not None:
        subject = labelled_run(uow, caller, link.run_id, "untag this process")
    else:
        ensure_catalog_manager(caller, "untag templates")
        subject = uow.session.get(Checklist, link.checklist_id)
    unlink(uow, caller, link, subject, "tags", link.tag_id)


def labelled_run(uow: UnitOfWork, caller: Caller, run_id: str, action: str) -> Run:
    """The run an association belongs to, if the caller may change its labels."""
    run = uow.session.get(Run, run_id, with_for_update=True, populate_existing=True)
    if run is None or not may_label_run(uow, caller, run):
        raise PermissionDenied(f"You don't have permission to {action}.")
    return run


def unlink(
    uow: UnitOfWork, caller: Caller, link: Any, subject: Any, field: str, linked_id: str
) -> None:
    """Delete one tag or folder association and note it on its subject."""
    uow.session.delete(link)
    if subject is not None:
        bump_labelled(uow, subject)
        record_link(uow, caller, "unlinked", subject, field, linked_id)
    uow.session.flush()


def record_link(
    uow: UnitOfWork,
    caller: Caller,
    verb: str,
    subject: Any,
    field: str,
    linked_id: str,
) -> None:
    """One record on the subject (run, task or template): which tag or folder came or went."""
    kind = type(subject).__name__.lower()
    run_id = subject.id if kind == "run" else getattr(subject, "run_id", None)
    old, new = (None, linked_id) if verb == "linked" else (linked_id, None)
    activity.record(
        uow, caller, verb, kind, subject.id, run_id=run_id, field=field, old=old, new=new
    )


def _load(uow: UnitOfWork, caller: Caller, tag_id: str) -> Tag:
    tag = repo.get_tag(uow.session, caller.org_id, tag_id)
    if tag is None:
        raise NotFound("Tag")
    return tag


def _views(uow: UnitOfWork, tags: list[Tag], statistics: bool) -> list[TagView]:
    if not statistics:
        return [TagView(tag) for tag in tags]
    stats = repo.tag_statistics(uow.session, [tag.id for tag in tags])
    return [TagView(tag, stats[tag.id]) for tag in tags]


def _subject(
    uow: UnitOfWork, caller: Caller, subject_type: str, subject_id: str
) -> Run | Checklist | None:
    """The run or template to tag, after checking the caller may change it."""
    if subject_type == "Checklist":
        ensure_catalog_manager(caller, "tag templates")
        return repo.checklist_in(uow.session, caller.org_id, subject_id)
    run = run_repo.get(uow.session, caller.org_id, subject_id, for_update=True)
    if run is not None and not may_label_run(uow, caller, run):
        raise PermissionDenied("You don't have permission to tag this process.")
    return run


def bump_labelled(uow: UnitOfWork, subject: Run | Checklist | Task) -> None:
    """A labelled run, template or task changed (a task also moves its run's version)."""
    bump(subject, now=utcnow())
    if isinstance(subject, Task):
        run_versions.bump_run_of(uow.session, subject)


def _check_title(
    uow: UnitOfWork, org_id: str, raw: Any, *, other_than: str | None
) -> tuple[str, dict[str, list[str]]]:
    title = raw.strip() if isinstance(raw, str) else ""
    if not title:
        return title, {"title": ["The title field is required."]}
    if len(title) > TITLE_MAX:
        return title, {"title": [f"The title may not be greater than {TITLE_MAX} characters."]}
    if repo.title_taken(uow.session, org_id, title, other_than=other_than):
        return title, _title_taken_error().errors
    return title, {}


def _check_color(color: Any) -> dict[str, list[str]]:
    if color is None or (isinstance(color, str) and COLOR.fullmatch(color)):
        return {}
    return {"color": ["The color must be a hex color of the form #rrggbb."]}


def _title_taken_error() -> ValidationFailed:
    return ValidationFailed.one("title", "The title has already been taken.")
