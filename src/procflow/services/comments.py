"""Comments on tasks (Tallyfy: threads), problem reports and their resolutions.

Members comment on any task they can read; a guest only on the tasks assigned to it, and
only while neither the task nor its run has `prevent_guest_comment`. Every change moves
the run's `last_updated` and version, and leaves one activity record.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from procflow.domain import permissions
from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import advance, bump
from procflow.domain.webhooks import EventType
from procflow.errors import NotFound, PermissionDenied, ValidationFailed
from procflow.services import activity, events, references
from procflow.services.guests import GuestCaller
from procflow.services.runs import stake_in
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity, Comment, Run, Task
from procflow.storage.repositories import comments as repo
from procflow.storage.repositories import guests as guest_repo
from procflow.storage.repositories import run_versions

Actor = Caller | GuestCaller
CONTENT_MAX = 30_000
STATES = ("open", "hide-for-guests", "collapsed")
PLAIN_LABELS = ("comment", "improvement", "advice")
PROBLEM, RESOLVE = "problem", "resolve"
LABELS = (*PLAIN_LABELS, PROBLEM, RESOLVE)
COMMENT_EVENTS = {
    "commented": EventType.COMMENT_ADDED,
    "issue-reported": EventType.ISSUE_RAISED,
    "issue-resolved": EventType.ISSUE_RESOLVED,
}


class GuestCommentRefused(PermissionDenied):
    """A guest tried to write where guest comments are turned off (recorded with its task)."""

    recorded_elsewhere = True

    def __init__(self, guest: GuestCaller, task: Task) -> None:
        super().__init__("Guests may not comment on this task.")
        self.guest = guest
        self.task_id = task.id
        self.run_id = task.run_id


def list_comments(
    uow: UnitOfWork, actor: Actor, task_id: str, offset: int, limit: int | None
) -> tuple[list[Comment], int]:
    """Live comments of a task, oldest first; guests do not see `hide-for-guests` ones."""
    task, _run = _task_for(uow, actor, task_id, lock=False)
    return repo.page(
        uow.session,
        task.id,
        for_guest=isinstance(actor, GuestCaller),
        offset=offset,
        limit=limit,
    )


def add_comment(uow: UnitOfWork, actor: Actor, task_id: str, data: Mapping[str, Any]) -> Comment:
    """Post a comment; label `problem` reports a problem, as `POST /problem` does.

    Label `resolve` without a thread is only a note: resolving takes `resolved-threads`.
    """
    task, run = _task_for(uow, actor, task_id)
    _refuse_guest_if_closed(actor, task, run)
    label = data.get("label") or "comment"
    errors = _check_content(data, required=True) | _check_common(uow, actor, data)
    if label not in LABELS:
        errors["label"] = [f"The label must be one of: {', '.join(LABELS)}."]
    if errors:
        raise ValidationFailed(errors)
    comment = _new(uow, actor, task, data, label)
    if label == PROBLEM:
        task.has_problem = True
    verb = "issue-reported" if label == PROBLEM else "commented"
    _finish(uow, actor, verb, task, run, comment)
    return comment


def report_problem(uow: UnitOfWork, actor: Actor, task_id: str, data: Mapping[str, Any]) -> Comment:
    """Open a problem on the task: the run shows status `problem` until it is resolved."""
    return add_comment(uow, actor, task_id, {**data, "label": PROBLEM})


def resolve_problem(
    uow: UnitOfWork, actor: Actor, task_id: str, data: Mapping[str, Any]
) -> Comment:
    """Answer an open problem with a `resolve` comment; the task is clear once none is open."""
    task, run = _task_for(uow, actor, task_id)
    _refuse_guest_if_closed(actor, task, run)
    errors = _check_content(data, required=True) | _check_common(uow, actor, data)
    still_open = repo.open_problem_ids(uow.session, task.id)
    thread_id = data.get("thread_id")
    if thread_id not in still_open:
        errors["thread_id"] = ["The selected thread is not an open problem on this task."]
    if errors:
        raise ValidationFailed(errors)
    comment = _new(uow, actor, task, data, RESOLVE, resolve_id=thread_id)
    task.has_problem = bool(still_open - {thread_id})
    _finish(uow, actor, "issue-resolved", task, run, comment)
    return comment


def update_comment(
    uow: UnitOfWork, actor: Actor, task_id: str, comment_id: str, data: Mapping[str, Any]
) -> Comment:
    """Edit content, state, label or recipients (the author, or an administrator)."""
    task, run = _task_for(uow, actor, task_id)
    comment = _own_comment(uow, actor, task, comment_id)
    _refuse_guest_if_closed(actor, task, run)
    errors = _check_content(data, required=False) | _check_common(uow, actor, data)
    relabel = data.get("label") not in (None, comment.label)
    if relabel and (comment.label not in PLAIN_LABELS or data["label"] not in PLAIN_LABELS):
        errors["label"] = [f"Only labels {', '.join(PLAIN_LABELS)} can be swapped for each other."]
    if errors:
        raise ValidationFailed(errors)
    changes = [
        (key, getattr(comment, key), data[key])
        for key in ("content", "state", "label", "sent_to")
        if key in data and data[key] is not None and getattr(comment, key) != data[key]
    ]
    if changes:
        for key, _, value in changes:
            setattr(comment, key, value)
        comment.updated_at = advance(comment.updated_at, utcnow())
        for field, old, new in changes:
            _record(
                uow, actor, "updated", "comment", comment.id, run=run, field=field, old=old, new=new
            )
        _bump(task, run)
    uow.session.flush()
    return comment


def delete_comment(uow: UnitOfWork, actor: Actor, task_id: str, comment_id: str) -> Comment:
    """Archive a comment (it leaves every list); deleting an open problem may clear the task."""
    task, run = _task_for(uow, actor, task_id)
    comment = _own_comment(uow, actor, task, comment_id)
    _refuse_guest_if_closed(actor, task, run)
    comment.archived_at = utcnow()
    uow.session.flush()
    if comment.label == PROBLEM:
        task.has_problem = bool(repo.open_problem_ids(uow.session, task.id))
    _finish(uow, actor, "comment-deleted", task, run, comment)
    return comment


def record_refusal(uow: UnitOfWork, refusal: GuestCommentRefused) -> None:
    """Write down a refused guest comment (in its own transaction: the request's rolled back)."""
    _guest_activity(
        uow,
        refusal.guest,
        "denied",
        "task",
        refusal.task_id,
        run_id=refusal.run_id,
        description=refusal.message,
    )


def _task_for(
    uow: UnitOfWork, actor: Actor, task_id: str, *, lock: bool = True
) -> tuple[Task, Run | None]:
    """The task if the actor may see it: any task of the org for members who can read its
    run, only its own assigned tasks for a guest (others are simply not found)."""
    if lock:
        repo.lock_task(uow.session, task_id)
    if isinstance(actor, GuestCaller):
        task = guest_repo.assigned_task(uow.session, actor.org_id, actor.email, task_id)
    else:
        task = repo.task_in(uow.session, actor.org_id, task_id)
    if task is None:
        raise NotFound("Task")
    run = repo.run_of(uow.session, task)
    if isinstance(actor, Caller) and actor.role is permissions.Role.LIGHT:
        readable = (
            permissions.can_read_run(actor, stake_in(uow, actor, run))
            if run is not None
            else repo.holds(uow.session, task.id, actor.user_id)
        )
        if not readable:
            raise PermissionDenied("You don't have permission to view this task.")
    return task, run


def _refuse_guest_if_closed(actor: Actor, task: Task, run: Run | None) -> None:
    if not isinstance(actor, GuestCaller):
        return
    if task.prevent_guest_comment or (run is not None and run.prevent_guest_comment):
        raise GuestCommentRefused(actor, task)


def _own_comment(uow: UnitOfWork, actor: Actor, task: Task, comment_id: str) -> Comment:
    comment = repo.get(uow.session, task.id, comment_id)
    if comment is None:
        raise NotFound("Comment")
    if isinstance(actor, GuestCaller):
        if comment.state == repo.HIDDEN_FROM_GUESTS:
            raise NotFound("Comment")
        mine = comment.author_guest_id == actor.guest_id
    else:
        mine = actor.is_admin or comment.author_id == actor.user_id
    if not mine:
        raise PermissionDenied("Only the author or an administrator may change this comment.")
    return comment


def _check_content(data: Mapping[str, Any], *, required: bool) -> dict[str, list[str]]:
    if "content" not in data and not required:
        return {}
    content = data.get("content")
    if content is None or not content.strip():
        return {"content": ["The content field is required."]}
    if len(content) > CONTENT_MAX:
        return {"content": [f"The content may not be greater than {CONTENT_MAX} characters."]}
    return {}


def _check_common(uow: UnitOfWork, actor: Actor, data: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.get("state") is not None and data["state"] not in STATES:
        errors["state"] = [f"The state must be one of: {', '.join(STATES)}."]
    if data.get("sent_to"):
        errors |= references.check_users(uow, actor.org_id, data["sent_to"], field="sent_to")
    return errors


def _new(
    uow: UnitOfWork,
    actor: Actor,
    task: Task,
    data: Mapping[str, Any],
    label: str,
    resolve_id: str | None = None,
) -> Comment:
    now = utcnow()
    guest = actor if isinstance(actor, GuestCaller) else None
    comment = Comment(
        org_id=actor.org_id,
        task_id=task.id,
        author_id=actor.user_id if isinstance(actor, Caller) else None,
        author_guest_id=None if guest is None else guest.guest_id,
        content=data["content"],
        label=label,
        state=data.get("state") or "open",
        resolve_id=resolve_id,
        sent_to=list(data.get("sent_to") or []),
        created_at=now,
        updated_at=now,
    )
    uow.session.add(comment)
    return comment


def _finish(
    uow: UnitOfWork, actor: Actor, verb: str, task: Task, run: Run | None, comment: Comment
) -> None:
    _bump(task, run)
    uow.session.flush()
    _record(uow, actor, verb, "comment", comment.id, run=run, new=_snapshot(comment))
    if verb not in COMMENT_EVENTS:
        return
    events.emit(
        uow,
        task.org_id,
        COMMENT_EVENTS[verb],
        run_id=task.run_id,
        task_id=task.id,
        comment_id=comment.id,
        actor_id=actor.user_id if isinstance(actor, Caller) else None,
    )


def _bump(task: Task, run: Run | None) -> None:
    """A comment change is a change of its task and of the task's run (not locked)."""
    now = utcnow()
    bump(task, now=now)
    if run is not None:
        run_versions.bump_unlocked(run, now)


def _snapshot(comment: Comment) -> dict[str, Any]:
    return {
        "task_id": comment.task_id,
        "label": comment.label,
        "state": comment.state,
        "content": comment.content,
        "resolve_id": comment.resolve_id,
    }


def _record(
    uow: UnitOfWork,
    actor: Actor,
    verb: str,
    object_type: str,
    object_id: str,
    *,
    run: Run | None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
) -> None:
    run_id = None if run is None else run.id
    if isinstance(actor, Caller):
        activity.record(
            uow, actor, verb, object_type, object_id, run_id=run_id, field=field, old=old, new=new
        )
        return
    _guest_activity(
        uow,
        actor,
        verb,
        object_type,
        object_id,
        run_id=run_id,
        field=field,
        old_value=old,
        new_value=new,
    )


def _guest_activity(
    uow: UnitOfWork, guest: GuestCaller, verb: str, object_type: str, object_id: str, **values: Any
) -> None:
    """`activity.record` for a guest actor (that one takes members only)."""
    uow.session.add(
        Activity(
            org_id=guest.org_id,
            actor_type=activity.GUEST,
            actor_id=guest.guest_id,
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            created_at=utcnow(),
            **values,
        )
    )


def threads_of(
    uow: UnitOfWork, task_ids: Sequence[str], *, for_guest: bool = False
) -> dict[str, list[Comment]]:
    """Live comments of several tasks, for the tasks' `?with=threads` include."""
    return repo.threads_of(uow.session, task_ids, for_guest=for_guest)
