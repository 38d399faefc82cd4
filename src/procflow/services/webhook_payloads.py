"""Tallyfy's webhook payloads, built by the delivery worker a batch of events at a time.

Two shapes, as Tallyfy documents them: a process payload (launch, completion, kick-off
completion: the run's fields, `process-tasks`, `ko-form-fields`, `guest-links`,
`launcher`) and a task payload (task completion or reopening, comments and problems:
`this_task`, `launcher`, `completer`, `process-tasks`, `form-fields`, `template`,
`process`, `guest-links`, `next_task`). Both gain `event`, `event_id` and `occurred_at`,
which Tallyfy's lack. The payload reflects the run as the worker reads it, normally a few
milliseconds after the change; every target and every retry gets the same bytes.

Everything a batch's payloads name (runs, their tasks, values, owners, people, guests,
templates, tags, comments) is read in one query per kind for the whole batch, not per
event: a worker fanning out hundreds of events a second cannot afford a dozen round trips
for each.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
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


@dataclass
class Batch:
    """What a batch of events' payloads read, loaded in bulk (see `load`)."""

    runs: dict[str, Run] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    run_tasks: dict[str, list[Task]] = field(default_factory=dict)
    fields: dict[str, list[RunField]] = field(default_factory=dict)
    owners: dict[str, list[TaskOwner]] = field(default_factory=dict)
    people: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    guests: dict[str, dict[str, Guest]] = field(default_factory=dict)
    checklists: dict[str, Checklist] = field(default_factory=dict)
    tags: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)

    def person(self, org_id: str, user_id: int | None) -> dict[str, Any] | None:
        if user_id is None:
            return None
        return self.people.get((org_id, user_id)) or {
            "id": user_id,
            "email": None,
            "full_name": None,
        }


def load(session: Session, events: Sequence[Event]) -> Batch:
    """Everything the payloads of `events` name, one query per kind (`of` builds each)."""
    batch = Batch()
    run_ids = {e.run_id for e in events if e.run_id}
    if run_ids:
        batch.runs = {r.id: r for r in session.scalars(select(Run).where(Run.id.in_(run_ids)))}
        for task in session.scalars(
            select(Task)
            .where(Task.run_id.in_(run_ids), Task.archived_at.is_(None))
            .order_by(Task.run_id, Task.position, Task.id)
        ):
            batch.run_tasks.setdefault(task.run_id or "", []).append(task)
            batch.tasks[task.id] = task
        for value in session.scalars(
            select(RunField)
            .where(RunField.run_id.in_(run_ids))
            .order_by(RunField.run_id, RunField.position, RunField.field_id)
        ):
            batch.fields.setdefault(value.run_id, []).append(value)
        _load_tags(session, batch, run_ids)
    missing = {e.task_id for e in events if e.task_id and e.task_id not in batch.tasks}
    if missing:
        for task in session.scalars(select(Task).where(Task.id.in_(missing))):
            batch.tasks[task.id] = task
    if batch.tasks:
        for owner in session.scalars(
            select(TaskOwner)
            .where(TaskOwner.task_id.in_(batch.tasks))
            .order_by(TaskOwner.task_id, TaskOwner.id)
        ):
            batch.owners.setdefault(owner.task_id, []).append(owner)
    checklist_ids = {r.checklist_id for r in batch.runs.values() if r.checklist_id}
    if checklist_ids:
        batch.checklists = {
            c.id: c
            for c in session.scalars(select(Checklist).where(Checklist.id.in_(checklist_ids)))
        }
    comment_ids = {e.comment_id for e in events if e.comment_id}
    if comment_ids:
        batch.comments = {
            c.id: c for c in session.scalars(select(Comment).where(Comment.id.in_(comment_ids)))
        }
    _load_people(session, batch, events)
    _load_guests(session, batch, events)
    return batch


def _load_tags(session: Session, batch: Batch, run_ids: set[str]) -> None:
    rows = session.execute(
        select(TagLink.run_id, Tag.id, Tag.title, Tag.color)
        .join(TagLink, TagLink.tag_id == Tag.id)
        .where(TagLink.run_id.in_(run_ids))
    ).all()
    for row in rows:
        batch.tags.setdefault(row.run_id, []).append(
            {"id": row.id, "name": row.title, "color": row.color}
        )


def _load_people(session: Session, batch: Batch, events: Sequence[Event]) -> None:
    wanted: dict[str, set[int]] = defaultdict(set)
    for run in batch.runs.values():
        if run.started_by is not None:
            wanted[run.org_id].add(run.started_by)
    for task in batch.tasks.values():
        if task.completer_id is not None:
            wanted[task.org_id].add(task.completer_id)
        for owner in batch.owners.get(task.id, []):
            if owner.user_id is not None:
                wanted[task.org_id].add(owner.user_id)
    for event in events:
        comment = batch.comments.get(event.comment_id or "")
        if comment is not None and comment.author_id is not None:
            wanted[event.org_id].add(comment.author_id)
    for org_id, user_ids in wanted.items():
        rows = session.execute(
            select(User.id, User.email, Membership.first_name, Membership.last_name)
            .join(Membership, Membership.user_id == User.id)
            .where(User.id.in_(user_ids), Membership.org_id == org_id)
        ).all()
        for row in rows:
            full_name = f"{row.first_name} {row.last_name}".strip() or row.email
            batch.people[org_id, row.id] = {
                "id": row.id,
                "email": row.email,
                "full_name": full_name,
            }


def _load_guests(session: Session, batch: Batch, events: Sequence[Event]) -> None:
    emails: dict[str, set[str]] = defaultdict(set)
    for event in events:
        for task in _event_tasks(batch, event):
            for owner in batch.owners.get(task.id, []):
                if owner.guest_email:
                    emails[event.org_id].add(owner.guest_email)
    for org_id, wanted in emails.items():
        guests = session.scalars(
            select(Guest).where(Guest.org_id == org_id, Guest.email.in_(wanted))
        )
        batch.guests[org_id] = {g.email: g for g in guests}


def _event_tasks(batch: Batch, event: Event) -> list[Task]:
    """The tasks an event's payload lists: its run's, or a one-off task alone."""
    if event.run_id and event.run_id in batch.runs:
        return batch.run_tasks.get(event.run_id, [])
    task = batch.tasks.get(event.task_id or "")
    return [task] if task is not None else []


def of(batch: Batch, event: Event) -> dict[str, Any]:
    """One event's payload, from a batch `load`ed with it."""
    head = {
        "event": event.type,
        "event_id": event.id,
        "occurred_at": format_ts(event.created_at),
        "organization_id": event.org_id,
    }
    run = batch.runs.get(event.run_id or "")
    task = batch.tasks.get(event.task_id or "")
    if event.type in TASK_EVENTS and task is not None:
        body = _task_payload(batch, event, task, run)
    elif run is not None:
        body = _process_payload(batch, run)
    else:
        body = {}
    return {**head, **body}


def _owners(batch: Batch, org_id: str, task: Task) -> dict[str, Any]:
    rows = batch.owners.get(task.id, [])
    users = [batch.person(org_id, r.user_id) for r in rows if r.user_id is not None]
    guests = [r.guest_email for r in rows if r.guest_email]
    return {"users": users, "guests": guests}


def _guest_links(batch: Batch, org_id: str, tasks: Iterable[Task]) -> dict[str, Any]:
    known = batch.guests.get(org_id, {})
    links: dict[str, Any] = {}
    for task in tasks:
        for owner in batch.owners.get(task.id, []):
            guest = known.get(owner.guest_email or "")
            if guest is not None:
                links[guest.email] = {
                    "link_for_guest": f"organizations/{guest.org_id}/guest/{guest.id}"
                }
    return links


def _status(run: Run, tasks: Sequence[Task]) -> tuple[str, dict[str, Any]]:
    figures = rules.figures(
        [rules.TaskFacts(t.status, t.deadline, t.has_problem) for t in tasks], utcnow()
    )
    lifecycle = rules.lifecycle_status(
        figures.progress.total, figures.progress.complete, figures.has_open_issue
    )
    status = rules.status_of(lifecycle.value, run.archived_at is not None)
    return status, figures.progress.as_dict()


def _process_tasks(tasks: Sequence[Task]) -> dict[str, str]:
    return {t.alias or t.id: t.id for t in tasks}


def _process_payload(batch: Batch, run: Run) -> dict[str, Any]:
    tasks = batch.run_tasks.get(run.id, [])
    fields = batch.fields.get(run.id, [])
    kickoff = {f.alias: f.value for f in fields if f.task_id is None}
    status, progress = _status(run, tasks)
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
        "guest-links": _guest_links(batch, run.org_id, tasks),
        "launcher": batch.person(run.org_id, run.started_by),
    }


def _captures(fields: Sequence[RunField], task_id: str) -> dict[str, Any]:
    return {
        f.field_id: {"alias": f.alias, "label": f.label, "value": f.value}
        for f in fields
        if f.task_id == task_id
    }


def _task_brief(batch: Batch, org_id: str, task: Task, fields: Sequence[RunField]) -> Any:
    return {
        "id": task.id,
        "title": task.title,
        "alias": task.alias,
        "status": task.status,
        "summary": task.summary,
        "position": task.position,
        "deadline": format_ts(task.deadline),
        "captures": _captures(fields, task.id),
        "owners": _owners(batch, org_id, task),
    }


def _comment(batch: Batch, event: Event) -> dict[str, Any] | None:
    comment = batch.comments.get(event.comment_id or "")
    if comment is None:
        return None
    return {
        "id": comment.id,
        "content": comment.content,
        "label": comment.label,
        "state": comment.state,
        "author": batch.person(event.org_id, comment.author_id),
        "created_at": format_ts(comment.created_at),
    }


def _task_payload(batch: Batch, event: Event, task: Task, run: Run | None) -> dict[str, Any]:
    tasks = batch.run_tasks.get(run.id, []) if run is not None else [task]
    fields = batch.fields.get(run.id, []) if run is not None else []
    completer = batch.person(event.org_id, task.completer_id)
    this_task = {
        **_task_brief(batch, event.org_id, task, fields),
        "completed_at": format_ts(task.completed_at),
        "completed_by": completer,
        "assets": [],
    }
    payload: dict[str, Any] = {
        "this_task": this_task,
        "completer": completer,
        "process-tasks": _process_tasks(tasks),
        "form-fields": {f.alias: f.value for f in fields if f.task_id is not None},
        "guest-links": _guest_links(batch, event.org_id, tasks),
    }
    if run is not None:
        payload |= _run_part(batch, run, tasks, fields)
    nxt = next((t for t in tasks if t.status not in rules.DONE), None)
    payload["next_task"] = _task_brief(batch, event.org_id, nxt, fields) if nxt else []
    comment = _comment(batch, event)
    if comment is not None:
        payload["comment"] = comment
    return payload


def _run_part(
    batch: Batch, run: Run, tasks: Sequence[Task], fields: Sequence[RunField]
) -> dict[str, Any]:
    status, progress = _status(run, tasks)
    checklist = batch.checklists.get(run.checklist_id or "")
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
        "launcher": batch.person(run.org_id, run.started_by),
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
            "tags": list(batch.tags.get(run.id, [])),
        },
    }
