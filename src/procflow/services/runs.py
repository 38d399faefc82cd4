"""Use cases on runs (processes): launch, read, list, update, archive, restore, delete.

Every writer validates the whole request first and raises before touching anything, so a
rejected request changes nothing; then it applies the change and returns the list of
(field, old value, new value) it made, which is what an audit trail records.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, select

from procflow.domain import etags, permissions
from procflow.domain import runs as rules
from procflow.domain.etags import Precondition
from procflow.domain.permissions import Caller, RunStake
from procflow.domain.runs import RunStatus
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.domain.webhooks import EventType
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import activity, automations, events, file_values, references, run_fields
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import FolderLink, Run, RunField, RunGroup, RunMember, TagLink
from procflow.storage.repositories import activity as activity_repo
from procflow.storage.repositories import run_versions
from procflow.storage.repositories import runs as repo
from procflow.storage.repositories.runs import RunBundle, RunRecord

Change = tuple[str, Any, Any]
SomeRun = TypeVar("SomeRun", bound=RunRecord)
SCALARS = ("name", "summary", "owner_id", "starred", "is_public", "prevent_guest_comment")


@dataclass(frozen=True)
class View:
    """What a caller asked to see of a run."""

    tasks: bool = False
    captures: bool = False
    checklist: bool = False


def stake_in(uow: UnitOfWork, caller: Caller, run: RunRecord) -> RunStake:
    owns, started = run.owner_id == caller.user_id, run.started_by == caller.user_id
    holds = (
        False if (owns or caller.is_admin) else repo.holds_task(uow.session, run.id, caller.user_id)
    )
    return RunStake(owns=owns, started=started, holds_task=holds)


def load(uow: UnitOfWork, caller: Caller, run_id: str, *, for_update: bool = False) -> Run:
    """The run, if it belongs to the caller's organization and the caller may read it.

    Writers pass `for_update`: the row stays locked until commit, so that checking
    `If-Match` and bumping `version` happen for one writer at a time."""
    return _visible(
        uow, caller, repo.get(uow.session, caller.org_id, run_id, for_update=for_update)
    )


def load_any(uow: UnitOfWork, run_id: str) -> Run:
    """A run by id, for a caller already known to see it (no access check here)."""
    run = uow.session.get(Run, run_id)
    if run is None:
        raise NotFound("Process")
    return run


def require_current(
    uow: UnitOfWork,
    precondition: Precondition | None,
    run: RunRecord,
    facts: Sequence[rules.TaskFacts] | None = None,
) -> None:
    """Refuse (412) a write whose `If-Match` names another state than the run's current one.

    Call it with the run locked and before writing anything; `facts` (a bundle's) spare
    a query."""
    if precondition is None:
        return
    if facts is None:
        facts = repo.facts_of(uow.session, run.id)
    figures = rules.figures(facts, utcnow())
    etags.require(precondition, etags.run_etag(run.id, run.version, figures))


def _visible(uow: UnitOfWork, caller: Caller, run: SomeRun | None) -> SomeRun:
    if run is None:
        raise NotFound("Process")
    if caller.role is permissions.Role.LIGHT and not permissions.can_read_run(
        caller, stake_in(uow, caller, run)
    ):
        raise PermissionDenied("You don't have permission to view this process.")
    return run


def get_run(uow: UnitOfWork, caller: Caller, run_id: str, view: View = View()) -> RunBundle:
    run = load(uow, caller, run_id)
    return repo.bundle(
        uow.session,
        run,
        with_tasks=view.tasks,
        with_captures=view.captures,
        with_checklist=view.checklist,
    )


def update_run(
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    patch: Mapping[str, Any],
    *,
    strict: bool = False,
    view: View = View(),
    precondition: Precondition | None = None,
) -> tuple[RunBundle, list[Change]]:
    """Apply a partial update; all-or-nothing; lists replace.

    The run is read and written as a plain snapshot (`RunRow`) rather than an ORM object:
    this is the hottest path of the API, and the identity map buys nothing in one
    statement. The run and its lists are read together, locked (`repo.locked_bundle`),
    before anything is checked.
    """
    current = repo.locked_bundle(
        uow,
        caller.org_id,
        run_id,
        with_tasks=view.tasks,
        with_captures=view.captures,
        with_checklist=view.checklist,
    )
    run = _visible(uow, caller, None if current is None else current.run)
    if not permissions.can_update_run(caller, stake_in(uow, caller, run)):
        raise PermissionDenied("You don't have permission to update this process.")
    assert current is not None
    require_current(uow, precondition, run, current.facts)
    fields = (
        {f.field_id: f for f in repo.fields_of(uow.session, run.id)}
        if ("prerun" in patch or "taskdata" in patch)
        else {}
    )
    values, errors = _check_patch(uow, caller, run, fields, patch, strict)
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    changes = _apply_scalars(run, patch)
    changes += _replace_tags(uow, current, patch.get("tags"))
    changes += _replace_folders(uow, current, patch.get("folders"))
    changes += _replace_users(uow, current, patch.get("users"))
    changes += _replace_groups(uow, current, patch.get("groups"))
    changes += [(f"prerun.{k}", o, n) for k, o, n in run_fields.apply(fields, values, now)]
    if changes:
        bump(run, now=now)
        written = {key: getattr(run, key) for key, _, _ in changes if key in SCALARS}
        activity_repo.append_to_run_update(
            uow.connection,
            run.id,
            {**written, "last_updated": run.last_updated, "version": run.version},
            activity.change_records(caller, "run", run.id, changes, run_id=run.id),
        )
        uow.flush()
        repo.refresh_lists(uow.connection, current, {key for key, _, _ in changes})
        if any(key.startswith(("prerun.", "taskdata.")) for key, _, _ in changes):
            current = _after_rules(uow, caller, current, view)
    return current, changes


def _after_rules(uow: UnitOfWork, caller: Caller, current: RunBundle, view: View) -> RunBundle:
    """Evaluate the run's rules after a value changed; if they changed tasks, the run as
    they left it (its snapshot and lists were read before)."""
    run = current.run
    if run.checklist_id is None:
        return current
    actor = automations.actor_of_member(caller.org_id, caller.user_id)
    if not automations.evaluate(uow, actor, run.id, checklist_id=run.checklist_id):
        return current
    fresh = repo.locked_bundle(
        uow,
        caller.org_id,
        run.id,
        with_tasks=view.tasks,
        with_captures=view.captures,
        with_checklist=view.checklist,
    )
    assert fresh is not None  # the run is locked by this transaction
    return fresh


def _check_patch(
    uow: UnitOfWork,
    caller: Caller,
    run: RunRecord,
    fields: Mapping[str, RunField],
    patch: Mapping[str, Any],
    strict: bool,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    if "owner_id" in patch:
        errors |= references.check_owner(uow, caller.org_id, patch["owner_id"])
    if "tags" in patch:
        errors |= references.check_tags(uow, caller.org_id, patch["tags"])
    if "folders" in patch:
        errors |= references.check_folders(uow, caller.org_id, patch["folders"])
    if "users" in patch:
        errors |= references.check_users(uow, caller.org_id, patch["users"])
    if "groups" in patch:
        errors |= references.check_groups(uow, caller.org_id, patch["groups"])
    values: dict[str, Any] = {}
    kickoff = [f for f in fields.values() if f.task_id is None]
    captures = [f for f in fields.values() if f.task_id is not None]
    if patch.get("prerun"):
        accepted, problems = run_fields.check(kickoff, patch["prerun"], "prerun", strict)
        subjects = [("Run", run.id), ("Checklist", run.checklist_id or "")]
        errors |= problems | run_fields.resolve_files(
            uow, run, kickoff, accepted, subjects, "prerun"
        )
        values |= accepted
    if patch.get("taskdata"):
        accepted, problems = run_fields.check(captures, patch["taskdata"], "taskdata", strict)
        problems |= run_fields.resolve_files(
            uow, run, captures, accepted, [("Run", run.id)], "taskdata"
        )
        tasks = {t.id: t for t in repo.tasks_of(uow.session, run.id)}
        errors |= problems | run_fields.locked_task_errors(fields, tasks, accepted)
        values |= accepted
    return values, errors


def _apply_scalars(run: RunRecord, patch: Mapping[str, Any]) -> list[Change]:
    changes: list[Change] = []
    for key in SCALARS:
        if key in patch and getattr(run, key) != patch[key]:
            changes.append((key, getattr(run, key), patch[key]))
            setattr(run, key, patch[key])
    return changes


def _replace_tags(
    uow: UnitOfWork, current: RunBundle, wanted: Sequence[str] | None
) -> list[Change]:
    if wanted is None:
        return []
    before = [tag.id for _, tag in current.tags]
    if before == list(wanted):
        return []
    keep = set(wanted)
    uow.session.execute(
        delete(TagLink).where(TagLink.run_id == current.run.id, TagLink.tag_id.not_in(keep))
    )
    for tag_id in wanted:
        if tag_id not in before:
            uow.session.add(TagLink(tag_id=tag_id, run_id=current.run.id))
    return [("tags", before, list(wanted))] if set(before) != keep else []


def _replace_folders(
    uow: UnitOfWork, current: RunBundle, wanted: Sequence[str] | None
) -> list[Change]:
    if wanted is None:
        return []
    before = [folder.id for _, folder in current.folders]
    keep = set(wanted)
    if set(before) == keep:
        return []
    uow.session.execute(
        delete(FolderLink).where(
            FolderLink.run_id == current.run.id, FolderLink.folder_id.not_in(keep)
        )
    )
    for folder_id in wanted:
        if folder_id not in before:
            uow.session.add(FolderLink(folder_id=folder_id, run_id=current.run.id))
    return [("folders", before, list(wanted))]


def _replace_users(
    uow: UnitOfWork, current: RunBundle, wanted: Sequence[int] | None
) -> list[Change]:
    if wanted is None or list(wanted) == current.users:
        return []
    uow.session.execute(delete(RunMember).where(RunMember.run_id == current.run.id))
    uow.session.flush()
    for position, user_id in enumerate(wanted):
        uow.session.add(RunMember(run_id=current.run.id, user_id=user_id, position=position))
    return [("users", current.users, list(wanted))]


def _replace_groups(
    uow: UnitOfWork, current: RunBundle, wanted: Sequence[str] | None
) -> list[Change]:
    if wanted is None or list(wanted) == current.groups:
        return []
    uow.session.execute(delete(RunGroup).where(RunGroup.run_id == current.run.id))
    uow.session.flush()
    for position, group_id in enumerate(wanted):
        uow.session.add(RunGroup(run_id=current.run.id, group_id=group_id, position=position))
    return [("groups", current.groups, list(wanted))]


def archive_run(
    uow: UnitOfWork, caller: Caller, run_id: str, *, precondition: Precondition | None = None
) -> RunBundle:
    run = load(uow, caller, run_id, for_update=True)
    if not permissions.can_archive_run(caller, stake_in(uow, caller, run)):
        raise PermissionDenied("You don't have permission to archive this process.")
    current = repo.bundle(uow.session, run)
    require_current(uow, precondition, run, current.facts)
    if run.archived_at is None:
        now = utcnow()
        run.archived_at = now
        bump(run, now=now)
        activity.record(uow, caller, "archived", "run", run.id, run_id=run.id)
    return current


def activate_run(
    uow: UnitOfWork, caller: Caller, run_id: str, *, precondition: Precondition | None = None
) -> RunBundle:
    run = load(uow, caller, run_id, for_update=True)
    if not permissions.can_archive_run(caller, stake_in(uow, caller, run)):
        raise PermissionDenied("You don't have permission to restore this process.")
    current = repo.bundle(uow.session, run)
    require_current(uow, precondition, run, current.facts)
    if run.archived_at is not None:
        activity.record(
            uow, caller, "unarchived", "run", run.id, run_id=run.id, old=run.archived_at.isoformat()
        )
        run.archived_at = None
        bump(run, now=utcnow())
    return current


def delete_run(
    uow: UnitOfWork, caller: Caller, run_id: str, *, precondition: Precondition | None = None
) -> None:
    run = load(uow, caller, run_id, for_update=True)
    if not permissions.can_delete_run(caller):
        raise PermissionDenied("Only administrators can delete a process permanently.")
    require_current(uow, precondition, run)
    if run.archived_at is None:
        raise ValidationFailed.one("run", "Archive the process before deleting it permanently.")
    activity.record(uow, caller, "deleted", "run", run.id, run_id=run.id, old=run.name)
    run_versions.bump(uow.session, Run.parent_id == run.id)
    file_values.discard_run_files(uow, run.id)
    uow.session.delete(run)


def set_prerun_complete(
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    done: bool,
    *,
    precondition: Precondition | None = None,
) -> RunBundle:
    """Complete (or reopen) the kick-off form; completing needs every required value."""
    run = load(uow, caller, run_id, for_update=True)
    if not permissions.can_update_run(caller, stake_in(uow, caller, run)):
        raise PermissionDenied("You don't have permission to update this process.")
    current = repo.bundle(uow.session, run)
    require_current(uow, precondition, run, current.facts)
    if done:
        from procflow.domain.form_fields import missing_required

        specs = {f.field_id: run_fields.spec_of(f) for f in current.kickoff}
        errors = missing_required(specs, {f.field_id: f.value for f in current.kickoff}, "prerun")
        if errors:
            raise ValidationFailed(errors)
    was_done = run.prerun_completed_at is not None
    if was_done != done:
        now = utcnow()
        run.prerun_completed_at = now if done else None
        run.prerun_completed_by = caller.user_id if done else None
        bump(run, now=now)
        verb = "completed" if done else "re-opened"
        activity.record(
            uow, caller, verb, "run", run.id, run_id=run.id, field="prerun", old=was_done, new=done
        )
        if done:
            events.emit(
                uow, run.org_id, EventType.KICKOFF_COMPLETED, run_id=run.id, actor_id=caller.user_id
            )
    return current


def ensure_status(run: Run, status: RunStatus) -> None:
    run.status = status.value


def select_runs() -> Any:
    return select(Run)
