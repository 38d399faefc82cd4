"""Tallyfy's webhook payloads, built once per event by the delivery worker.

Two shapes, as Tallyfy documents them: a process payload (launch, completion, kick-off
completion: the run's fields, `process-tasks`, `ko-form-fields`, `guest-links`,
`launcher`) and a task payload (task completion or reopening, comments and problems:
`this_task`, `launcher`, `completer`, `process-tasks`, `form-fields`, `template`,
`process`, `guest-links`, `next_task`). Both gain `event`, `event_id` and `occurred_at`,
which Tallyfy's lack. The payload reflects the run as the worker reads it, normally a few
milliseconds after the change; every target and every retry gets the same bytes.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procflow.domain import runs as rules
from procflow.domain.timeutil import format_ts, utcnow
from procflow.domain.webhooks import TASK_EVENTS
from procflow.storage.models import (
    Checklist,
    Comment,
    Event,
    Guest,
    Membership,
    Run,
    RunField,
    Tag,
    TagLink,
    Task,
    TaskOwner,
    User,
)


def build(session: Session, event: Event) -> dict[str, Any]:
    head = {
        "event": event.type,
        "event_id": event.id,
        "occurred_at": format_ts(event.created_at),
        "organization_id": event.org_id,
    }
    run = session.get(Run, event.run_id) if event.run_id else None
    task = session.get(Task, event.task_id) if event.task_id else None
    if event.type in TASK_EVENTS and task is not None:
        body = _task_payload(session, event, task, run)
    elif run is not None:
        body = _process_payload(session, run)
    else:
        body = {}
    return {**head, **body}


def _person(session: Session, org_id: str, user_id: int | None) -> dict[str, Any] | None:
    """A member as payloads name them; looked up once per transaction (a batch of events
    mostly names the same few people)."""
    if user_id is None:
        return None
    known: dict[tuple[str, int], dict[str, Any]] = session.info.setdefault("webhook_people", {})
    if (org_id, user_id) not in known:
        known[org_id, user_id] = _look_up(session, org_id, user_id)
    return known[org_id, user_id]


def _look_up(session: Session, org_id: str, user_id: int) -> dict[str, Any]:
    row = session.execute(
        select(User.email, Membership.first_name, Membership.last_name)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.org_id == org_id)
    ).first()
    if row is None:
        return {"id": user_id, "email": None, "full_name": None}
    full_name = f"{row.first_name} {row.last_name}".strip() or row.email
    return {"id": user_id, "email": row.email, "full_name": full_name}


def _tasks(session: Session, run: Run) -> list[Task]:
    return list(
        session.scalars(
            select(Task)
            .where(Task.run_id == run.id, Task.archived_at.is_(None))
            .order_by(Task.position, Task.id)
        )
    )


def _fields(session: Session, run: Run) -> list[RunField]:
    return list(
        session.scalars(
            select(RunField)
            .where(RunField.run_id == run.id)
            .order_by(RunField.position, RunField.field_id)
        )
    )


def _owners(session: Session, org_id: str, task: Task) -> dict[str, Any]:
    rows = session.scalars(select(TaskOwner).where(TaskOwner.task_id == task.id)).all()
    users = [_person(session, org_id, r.user_id) for r in rows if r.user_id is not None]
    guests = [r.guest_email for r in rows if r.guest_email]
    return {"users": users, "guests": guests}


def _guest_links(session: Session, org_id: str, tasks: Sequence[Task]) -> dict[str, Any]:
    ids = [t.id for t in tasks]
    emails = set(
        session.scalars(
            select(TaskOwner.guest_email).where(
                TaskOwner.task_id.in_(ids), TaskOwner.guest_email.is_not(None)
            )
        )
    )
    if not emails:
        return {}
    guests = session.scalars(select(Guest).where(Guest.org_id == org_id, Guest.email.in_(emails)))
    return {g.email: {"link_for_guest": f"organizations/{g.org_id}/guest/{g.id}"} for g in guests}


def _status(run: Run, tasks: Sequence[Task]) -> tuple[str, dict[str, Any], float]:
    figures = rules.figures(
        [rules.TaskFacts(t.status, t.deadline, t.has_problem) for t in tasks], utcnow()
    )
    lifecycle = rules.lifecycle_status(
        figures.progress.total, figures.progress.complete, figures.has_open_issue
    )
    status = rules.status_of(lifecycle.value, run.archived_at is not None)
    return status, figures.progress.as_dict(), figures.progress.percent


def _process_tasks(tasks: Sequence[Task]) -> dict[str, str]:
    return {t.alias or t.id: t.id for t in tasks}


def _process_payload(session: Session, run: Run) -> dict[str, Any]:
    tasks = _tasks(session, run)
    fields = _fields(session, run)
    kickoff = {f.alias: f.value for f in fields if f.task_id is None}
    status, progress, _ = _status(run, tasks)
    return {
        "id": run.id,
        "increment_id": run.increment_id,
        "checklist_id": run.checklist_id,
        "checklist_title": run.checklist_title,
        "name": run.name,
        "summary": run.summary,
        "status": status,
        "progress": progress,
        "whole_progress": progress,
        "started_by": run.started_by,
        "owner_id": run.owner_id,
        "prerun": kickoff,
        "prerun_status": "complete" if run.prerun_completed_at else "pending",
        "prerun_completed_at": format_ts(run.prerun_completed_at),
        "prerun_completed_by": run.prerun_completed_by,
        "prerun_length": len(kickoff),
        "created_at": format_ts(run.created_at),
        "started_at": format_ts(run.started_at),
        "last_updated": format_ts(run.last_updated),
        "completed_at": format_ts(run.completed_at),
        "process-tasks": _process_tasks(tasks),
        "ko-form-fields": kickoff,
        "guest-links": _guest_links(session, run.org_id, tasks),
        "launcher": _person(session, run.org_id, run.started_by),
    }


def _captures(fields: Sequence[RunField], task_id: str) -> dict[str, Any]:
    return {
        f.field_id: {"alias": f.alias, "label": f.label, "value": f.value}
        for f in fields
        if f.task_id == task_id
    }


def _task_brief(session: Session, org_id: str, task: Task, fields: Sequence[RunField]) -> Any:
    return {
        "id": task.id,
        "title": task.title,
        "alias": task.alias,
        "status": task.status,
        "summary": task.summary,
        "position": task.position,
        "deadline": format_ts(task.deadline),
        "captures": _captures(fields, task.id),
        "owners": _owners(session, org_id, task),
    }


def _comment(session: Session, event: Event) -> dict[str, Any] | None:
    comment = session.get(Comment, event.comment_id) if event.comment_id else None
    if comment is None:
        return None
    return {
        "id": comment.id,
        "content": comment.content,
        "label": comment.label,
        "state": comment.state,
        "author": _person(session, event.org_id, comment.author_id),
        "created_at": format_ts(comment.created_at),
    }


def _task_payload(session: Session, event: Event, task: Task, run: Run | None) -> dict[str, Any]:
    tasks = _tasks(session, run) if run is not None else [task]
    fields = _fields(session, run) if run is not None else []
    completer = _person(session, event.org_id, task.completer_id)
    this_task = {
        **_task_brief(session, event.org_id, task, fields),
        "completed_at": format_ts(task.completed_at),
        "completed_by": completer,
        "assets": [],
    }
    payload: dict[str, Any] = {
        "this_task": this_task,
        "completer": completer,
        "process-tasks": _process_tasks(tasks),
        "form-fields": {f.alias: f.value for f in fields if f.task_id is not None},
        "guest-links": _guest_links(session, event.org_id, tasks),
    }
    if run is not None:
        payload |= _run_part(session, run, tasks, fields)
    nxt = next((t for t in tasks if t.status not in rules.DONE), None)
    payload["next_task"] = _task_brief(session, event.org_id, nxt, fields) if nxt else []
    comment = _comment(session, event)
    if comment is not None:
        payload["comment"] = comment
    return payload


def _run_part(
    session: Session, run: Run, tasks: Sequence[Task], fields: Sequence[RunField]
) -> dict[str, Any]:
    status, progress, _ = _status(run, tasks)
    checklist = session.get(Checklist, run.checklist_id) if run.checklist_id else None
    forms: dict[str, Any] = {}
    steps = {t.id: t.step_id or t.id for t in tasks}
    for f in fields:
        if f.task_id is not None:
            forms.setdefault(steps.get(f.task_id, f.task_id), {})[f.field_id] = {
                "alias": f.alias,
                "label": f.label,
                "value": f.value,
            }
    return {
        "launcher": _person(session, run.org_id, run.started_by),
        "template": None
        if checklist is None
        else {
            "id": checklist.id,
            "title": checklist.title,
            "alias": None,
            "summary": checklist.summary,
        },
        "process": {
            "id": run.id,
            "organization_id": run.org_id,
            "name": run.name,
            "summary": run.summary,
            "status": status,
            "progress": progress,
            "created_at": format_ts(run.created_at),
            "prerun": {f.alias: f.value for f in fields if f.task_id is None},
            "process_forms": forms,
            "tags": _tags(session, run),
        },
    }


def _tags(session: Session, run: Run) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Tag.id, Tag.title, Tag.color)
        .join(TagLink, TagLink.tag_id == Tag.id)
        .where(TagLink.run_id == run.id)
    ).all()
    return [{"id": r.id, "name": r.title, "color": r.color} for r in rows]
