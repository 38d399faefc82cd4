"""Removing a member from an organization, as Tallyfy's `DELETE /users/{id}` does.

Tallyfy's removal deactivates the member: they keep their account (and, here, their
tokens, which still open their other organizations) but lose this organization at once.
With `with_reassignment=true&to=<member>`, their open work moves to that member in the
same transaction: open tasks they hold directly, the template steps that assign them, and
the ownership of their processes and templates; that member is e-mailed the tasks they
were given, as for any assignment (`services.mail_events`). Without it nothing moves, as
in Tallyfy: their tasks keep them as an owner until someone reassigns them. Completed
tasks and the activity trail always keep their name. Group memberships stay, so that
enabling them again (`PUT /users/{id}/enable`) gives back exactly what they had.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from procflow.domain.permissions import Caller
from procflow.domain.runs import DONE
from procflow.domain.timeutil import utcnow
from procflow.domain.versioning import bump
from procflow.errors import ValidationFailed
from procflow.services import activity, mail_events, members, organizations
from procflow.services.members import MemberView
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, Run, Step, Task, TaskOwner
from procflow.storage.repositories import locks, run_versions

TRUE_WORDS = ("true", "1")
FALSE_WORDS = ("false", "0", "")


@dataclass(frozen=True)
class Reassignment:
    """What a removal asks for: nothing moves (`to` is None), or everything moves to `to`."""

    to: int | None


def parse_reassignment(with_reassignment: str | None, to: int | None) -> Reassignment:
    """Read Tallyfy's two query parameters; `to` is required (and only used) with
    `with_reassignment=true`."""
    flag = (with_reassignment or "").strip().lower()
    if flag not in TRUE_WORDS + FALSE_WORDS:
        raise ValidationFailed.one(
            "with_reassignment", "The with reassignment field must be true or false."
        )
    if flag in FALSE_WORDS:
        return Reassignment(None)
    if to is None:
        raise ValidationFailed.one("to", "The to field is required when with_reassignment is true.")
    return Reassignment(to)


def remove(
    uow: UnitOfWork,
    caller: Caller,
    user_id: int,
    with_reassignment: str | None = None,
    to: int | None = None,
) -> MemberView:
    """Deactivate a member of the caller's organization, moving their work if asked
    (Tallyfy's `with_reassignment` and `to` query parameters, as sent).

    Administrators only. Refused (422, nothing changed): removing oneself, the last active
    administrator, and a reassignment target that is not another active member.
    """
    members.ensure_admin(caller, "remove members")
    plan = parse_reassignment(with_reassignment, to)
    locks.lock_organization(uow.session, caller.org_id)
    membership = members.find_membership(uow, caller, user_id)
    if user_id == caller.user_id:
        raise ValidationFailed.one("user", "You cannot remove yourself.")
    if plan.to is not None and (
        plan.to == user_id or not organizations.member_ids(uow, caller.org_id, {plan.to})
    ):
        raise ValidationFailed.one(
            "to", f"The selected user {plan.to} is not another active member of the organization."
        )
    if membership.disabled_at is None:
        organizations.keep_an_active_admin(uow, membership, "user")
        membership.disabled_at = utcnow()
    activity.record(
        uow, caller, "removed", "member", str(user_id),
        new={"reassigned_to": plan.to},
    )  # fmt: skip
    if plan.to is not None:
        reassign_work(uow, caller, user_id, plan.to)
    uow.session.flush()
    return members.view(uow, membership)


def open_tasks_held(uow: UnitOfWork, org_id: str, held_by: Any) -> list[Task]:
    """Open tasks (of live processes, or one-off) with an owner row matching `held_by`
    (a filter on `TaskOwner`), locked until commit."""
    held = select(TaskOwner.task_id).where(held_by)
    query = (
        select(Task)
        .where(
            Task.org_id == org_id,
            Task.id.in_(held),
            Task.status.not_in([s.value for s in DONE]),
            Task.archived_at.is_(None),
        )
        .order_by(Task.id)
        .with_for_update()
    )
    return list(uow.session.scalars(query))


def move_task_owners(
    uow: UnitOfWork,
    caller: Caller,
    tasks: Sequence[Task],
    leaving: Callable[[TaskOwner], bool],
    *,
    to_user: int | None = None,
    to_guest: str | None = None,
) -> list[Task]:
    """In each task, the `leaving` owner's place goes to `to_user` or `to_guest` (once: a
    task that already names the newcomer just loses the leaving owner). Each task records
    an `owners` change and moves its `last_updated`, and its process its version. The
    tasks the newcomer was given (the ones that did not name them yet)."""
    now = utcnow()
    given = []
    for task in tasks:
        rows = list(uow.session.scalars(select(TaskOwner).where(TaskOwner.task_id == task.id)))
        before = _owners(rows)
        taken = any(
            (to_user is not None and r.user_id == to_user)
            or (to_guest is not None and r.guest_email == to_guest)
            for r in rows
        )
        if not taken and any(leaving(row) for row in rows):
            given.append(task)
        for row in rows:
            if not leaving(row):
                continue
            if taken:
                uow.session.delete(row)
            else:
                row.user_id, row.guest_email, taken = to_user, to_guest, True
        uow.session.flush()
        kept = uow.session.scalars(select(TaskOwner).where(TaskOwner.task_id == task.id))
        bump(task, now=now)
        run_versions.bump_run_of(uow.session, task)
        activity.record_changes(
            uow, caller, "task", task.id, [("owners", before, _owners(list(kept)))],
            run_id=task.run_id,
        )  # fmt: skip
    return given


def _owners(rows: Sequence[TaskOwner]) -> dict[str, list[Any]]:
    return {
        "users": sorted(r.user_id for r in rows if r.user_id is not None),
        "guests": sorted(r.guest_email for r in rows if r.guest_email is not None),
        "groups": sorted(r.group_id for r in rows if r.group_id is not None),
    }


def reassign_work(uow: UnitOfWork, caller: Caller, user_id: int, to: int) -> None:
    """Move the member's open tasks, step assignments and ownerships to `to`."""
    tasks = open_tasks_held(uow, caller.org_id, TaskOwner.user_id == user_id)
    given = move_task_owners(uow, caller, tasks, lambda row: row.user_id == user_id, to_user=to)
    mail_events.assigned(
        uow, caller.org_id, [(task.id, [to], [], []) for task in given], actor_id=caller.user_id
    )
    now = utcnow()
    for step in steps_assigning(uow, caller.org_id, user_id):
        before = list(step.assignees)
        after = [to if member == user_id else member for member in before]
        step.assignees = list(dict.fromkeys(after))
        bump(step, now=now)
        activity.record_changes(
            uow, caller, "step", step.id, [("assignees", before, step.assignees)]
        )
    runs = uow.session.scalars(
        select(Run).where(Run.org_id == caller.org_id, Run.owner_id == user_id).with_for_update()
    )
    for run in runs:
        run.owner_id = to
        bump(run, now=now)
        activity.record_changes(
            uow, caller, "run", run.id, [("owner_id", user_id, to)], run_id=run.id
        )
    templates = uow.session.scalars(
        select(Checklist).where(Checklist.org_id == caller.org_id, Checklist.owner_id == user_id)
    )
    for template in templates:
        template.owner_id = to
        bump(template, now=now)
        activity.record_changes(uow, caller, "checklist", template.id, [("owner_id", user_id, to)])


def steps_assigning(uow: UnitOfWork, org_id: str, user_id: int) -> list[Step]:
    """The organization's template steps whose `assignees` name the member (JSON lists
    are filtered here, alike on SQLite and PostgreSQL)."""
    steps = uow.session.scalars(
        select(Step)
        .join(Checklist, Checklist.id == Step.checklist_id)
        .where(Checklist.org_id == org_id)
    )
    return [step for step in steps if user_id in (step.assignees or [])]
