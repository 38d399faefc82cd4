"""Outbox events that only mail: task assignments and guest invitations, written in the
transaction of the change (reminders come from `services.reminders`).

They are born fanned out, so the webhook worker never reads them; the mail worker makes
their e-mails (`services.mailer`). An assignment names the members and groups that were
added, not the ones a task already had: nobody is told twice of the same task.
"""

from collections.abc import Sequence
from typing import Any

from procflow.domain import mail
from procflow.domain.timeutil import utcnow
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.repositories import outbox

Assignment = tuple[str, Sequence[int], Sequence[str], Sequence[str]]
"""A task's id, and the member ids, group ids and guest e-mails newly given to it."""


def _emit(
    uow: UnitOfWork,
    org_id: str,
    kind: str,
    payload: dict[str, Any],
    *,
    run_id: str | None = None,
    task_id: str | None = None,
    actor_id: int | None = None,
) -> str:
    now = utcnow()
    return outbox.add_event(
        uow.connection,
        {
            "org_id": org_id,
            "type": kind,
            "run_id": run_id,
            "task_id": task_id,
            "actor_id": actor_id,
            "created_at": now,
            "fanned_out_at": now,
            "payload": payload,
        },
    )


def assigned(
    uow: UnitOfWork,
    org_id: str,
    assignments: Sequence[Assignment],
    *,
    run_id: str | None = None,
    actor_id: int | None = None,
) -> None:
    """The people newly given each task; nothing if none, or if the only member is the one
    who assigned (launching assigns the launcher by default)."""
    tasks = [
        {"task_id": task_id, "users": others, "groups": list(groups), "guests": list(guests)}
        for task_id, users, groups, guests in assignments
        if (others := [u for u in users if u != actor_id]) or groups or guests
    ]
    if tasks:
        single = assignments[0][0] if len(assignments) == 1 else None
        _emit(
            uow,
            org_id,
            mail.TASK_ASSIGNED_EVENT,
            {"tasks": tasks},
            run_id=run_id,
            task_id=single,
            actor_id=actor_id,
        )


def owners_added(before: Any, after: Any) -> tuple[list[int], list[str], list[str]]:
    """Members, groups and guests in `after` that were not in `before` (owner dicts)."""
    added = []
    for key in ("users", "groups", "guests"):
        old = set((before or {}).get(key, []))
        added.append([item for item in (after or {}).get(key, []) if item not in old])
    users, groups, guests = added
    return users, groups, guests


def guest_invited(uow: UnitOfWork, org_id: str, guest_id: int, actor_id: int) -> None:
    """The invitation names the guest only: its e-mail gets a token of its own, minted when
    it is sent (so no token is ever stored in clear, not even in the outbox)."""
    _emit(uow, org_id, mail.GUEST_INVITED_EVENT, {"guest_id": guest_id}, actor_id=actor_id)
