"""Who an outbox event mails, and what it says to each: the mail worker's fan-out.

Recipients are decided when the event is fanned out, a moment after the change: members
(and the members of assigned groups) who are still active, minus the one who made the
change and anyone who turned that kind of e-mail off; and, for assignments and reminders,
assigned guests the organization has (and has not disabled). Each recipient gets one
message per event, however many tasks it names.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from procflow.domain import mail
from procflow.domain.mail import MailKind, Message, TaskLine
from procflow.domain.permissions import Role
from procflow.domain.runs import DONE
from procflow.services import guests
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import (
    Comment,
    EmailMessage,
    EmailOptOut,
    Event,
    GroupMember,
    Guest,
    Membership,
    Organization,
    Run,
    Task,
    TaskOwner,
    User,
)
from procflow.storage.repositories import runs as run_repo

Person = tuple[str, str]  # address, name


def messages(session: Session, event: Event, base: str, now: datetime) -> list[dict[str, Any]]:
    """The rows of `email_message` that `event` makes (none for most events)."""
    made: list[tuple[MailKind, int | None, str, Message]]
    if event.type == mail.TASK_ASSIGNED_EVENT:
        made = _assigned(session, event, base)
    elif event.type in (mail.TASK_DUE_SOON_EVENT, mail.TASK_OVERDUE_EVENT):
        made = _reminder(session, event, base)
    elif event.type in mail.MENTION_EVENTS:
        made = _mention(session, event, base)
    elif event.type == mail.GUEST_INVITED_EVENT:
        made = _invitation(session, event)
    else:
        made = []
    return [
        {
            "event_id": event.id,
            "org_id": event.org_id,
            "kind": kind.value,
            "user_id": user_id,
            "to_address": address,
            "subject": message.subject[:300],
            "body": message.body or None,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for kind, user_id, address, message in made
    ]


def _members(session: Session, org_id: str, user_ids: Iterable[int]) -> dict[int, Person]:
    wanted = set(user_ids)
    if not wanted:
        return {}
    rows = session.execute(
        select(User.id, User.email, Membership.first_name, Membership.last_name)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.org_id == org_id,
            Membership.disabled_at.is_(None),
            User.id.in_(wanted),
        )
    )
    return {r[0]: (r[1], f"{r[2]} {r[3]}".strip() or r[1]) for r in rows}


def _in_groups(session: Session, group_ids: Iterable[str]) -> list[int]:
    wanted = set(group_ids)
    if not wanted:
        return []
    query = select(GroupMember.user_id).where(
        GroupMember.group_id.in_(wanted), GroupMember.user_id.is_not(None)
    )
    return [u for u in session.scalars(query) if u is not None]


def _opted_out(session: Session, org_id: str, kind: MailKind, user_ids: Iterable[int]) -> set[int]:
    return set(
        session.scalars(
            select(EmailOptOut.user_id).where(
                EmailOptOut.org_id == org_id,
                EmailOptOut.kind == kind.value,
                EmailOptOut.user_id.in_(set(user_ids)),
            )
        )
    )


def _recipients(
    session: Session, event: Event, kind: MailKind, user_ids: Sequence[int]
) -> dict[int, Person]:
    people = _members(session, event.org_id, user_ids)
    people.pop(event.actor_id or 0, None)
    for user_id in _opted_out(session, event.org_id, kind, people):
        people.pop(user_id)
    return people


def _org_name(session: Session, org_id: str) -> str:
    return session.scalar(select(Organization.name).where(Organization.id == org_id)) or ""


def _actor(session: Session, event: Event) -> str | None:
    if event.actor_id is None:
        return None
    person = _members(session, event.org_id, [event.actor_id]).get(event.actor_id)
    return person[1] if person else None


def _line(session: Session, task: Task, base: str) -> TaskLine:
    org = f"{base}/organizations/{task.org_id}"
    run = session.get(Run, task.run_id) if task.run_id else None
    link = f"{org}/runs/{run.id}/tasks/{task.id}" if run else f"{org}/tasks/{task.id}"
    return TaskLine(task.title, run.name if run else None, task.deadline, link)


def _settings_link(base: str, org_id: str) -> str:
    return f"{base}/organizations/{org_id}/me/email-preferences"


def _guests(session: Session, org_id: str, emails: Iterable[str]) -> list[str]:
    """The addresses among `emails` of the organization's guests that are not disabled
    (an address no guest has cannot sign in, so it is not mailed)."""
    wanted = {e.lower() for e in emails}
    if not wanted:
        return []
    query = select(Guest.email).where(
        Guest.org_id == org_id, Guest.disabled_at.is_(None), Guest.email.in_(wanted)
    )
    return sorted(session.scalars(query))


def _guest_tasks_link(base: str, org_id: str) -> str:
    return f"{base}/organizations/{org_id}/guest-tasks"


def _assigned(session: Session, event: Event, base: str) -> list[Any]:
    per_user: dict[int, list[Task]] = {}
    per_guest: dict[str, list[Task]] = {}
    for entry in (event.payload or {}).get("tasks", []):
        task = session.get(Task, entry["task_id"])
        if task is None or task.status in DONE or task.archived_at is not None:
            continue
        for user_id in dict.fromkeys([*entry["users"], *_in_groups(session, entry["groups"])]):
            per_user.setdefault(user_id, []).append(task)
        for email in dict.fromkeys(e.lower() for e in entry.get("guests", [])):
            per_guest.setdefault(email, []).append(task)
    people = _recipients(session, event, MailKind.TASK_ASSIGNED, list(per_user))
    guests = _guests(session, event.org_id, per_guest)
    if not (people or guests):
        return []
    org, actor = _org_name(session, event.org_id), _actor(session, event)
    settings = _settings_link(base, event.org_id)
    made: list[Any] = [
        (
            MailKind.TASK_ASSIGNED,
            user_id,
            address,
            mail.assigned(
                org, [_line(session, t, base) for t in per_user[user_id]], actor, settings
            ),
        )
        for user_id, (address, _name) in people.items()
    ]
    link = _guest_tasks_link(base, event.org_id)
    for email in guests:
        lines = [_line(session, t, base) for t in per_guest[email]]
        made.append(
            (MailKind.TASK_ASSIGNED, None, email, mail.assigned(org, lines, actor, None, link))
        )
    return made


def _owners(session: Session, task_id: str) -> list[int]:
    rows = list(session.scalars(select(TaskOwner).where(TaskOwner.task_id == task_id)))
    users = [r.user_id for r in rows if r.user_id is not None]
    return list(
        dict.fromkeys([*users, *_in_groups(session, [r.group_id for r in rows if r.group_id])])
    )


def _reminder(session: Session, event: Event, base: str) -> list[Any]:
    task = session.get(Task, event.task_id) if event.task_id else None
    deadline = (event.payload or {}).get("deadline")
    if task is None or task.status in DONE or task.deadline is None:
        return []
    if deadline is not None and task.deadline.isoformat() != deadline:
        return []  # moved since: the scheduler reminds of the new deadline in its turn
    overdue = event.type == mail.TASK_OVERDUE_EVENT
    kind = MailKind.TASK_OVERDUE if overdue else MailKind.TASK_DUE_SOON
    people = _recipients(session, event, kind, _owners(session, task.id))
    org, line = _org_name(session, event.org_id), _line(session, task, base)
    message = mail.reminder(org, line, overdue, _settings_link(base, event.org_id))
    made: list[Any] = [(kind, u, address, message) for u, (address, _) in people.items()]
    emails = session.scalars(
        select(TaskOwner.guest_email).where(
            TaskOwner.task_id == task.id, TaskOwner.guest_email.is_not(None)
        )
    )
    guests = _guests(session, event.org_id, [e for e in emails if e is not None])
    if guests:
        link = _guest_tasks_link(base, event.org_id)
        to_guest = mail.reminder(org, line, overdue, None, link)
        made += [(kind, None, email, to_guest) for email in guests]
    return made


def _mention(session: Session, event: Event, base: str) -> list[Any]:
    comment = session.get(Comment, event.comment_id) if event.comment_id else None
    task = session.get(Task, event.task_id) if event.task_id else None
    if comment is None or task is None:
        return []
    emails = mail.mentioned_emails(comment.content or "")
    by_email: dict[str, int] = {}
    if emails:
        rows = session.execute(
            select(User.email, User.id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == event.org_id, User.email.in_(emails))
        )
        by_email = {r[0].lower(): r[1] for r in rows}
    chosen = mail.recipients_of_mention(comment.sent_to or [], emails, by_email)
    blind = _cannot_read(session, event.org_id, task, chosen)
    people = _recipients(session, event, MailKind.COMMENT_MENTION, chosen)
    for user_id in blind:
        people.pop(user_id, None)
    if not people:
        return []
    author = _actor(session, event) or _guest_name(session, comment) or "Someone"
    org, line = _org_name(session, event.org_id), _line(session, task, base)
    message = mail.mention(
        org, line, author, comment.content or "", _settings_link(base, event.org_id)
    )
    return [(MailKind.COMMENT_MENTION, u, address, message) for u, (address, _) in people.items()]


def _cannot_read(session: Session, org_id: str, task: Task, user_ids: Sequence[int]) -> set[int]:
    """Light members the task is hidden from (decisions.md, roles): a mention must not show
    them a comment they could not read. Others read every task of the organization."""
    light = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.org_id == org_id,
                Membership.role == Role.LIGHT.value,
                Membership.user_id.in_(set(user_ids)),
            )
        )
    )
    if not light:
        return set()
    run = session.get(Run, task.run_id) if task.run_id else None
    owners = set(_owners(session, task.id))
    starter = (task.flags or {}).get("starter_id")
    return {
        u
        for u in light
        if u not in owners
        and u != starter
        and not (run and (run.owner_id == u or run_repo.holds_task(session, run.id, u)))
    }


def _guest_name(session: Session, comment: Comment) -> str | None:
    guest = session.get(Guest, comment.author_guest_id) if comment.author_guest_id else None
    return guest.email if guest else None


def _invitation(session: Session, event: Event) -> list[Any]:
    """The message's text is written when it is sent, with a token minted then
    (`invitation_text`): until then only its subject is stored."""
    guest = session.get(Guest, (event.payload or {}).get("guest_id"))
    if guest is None or guest.disabled_at is not None:
        return []
    subject = mail.invitation(_org_name(session, event.org_id), None, "", "").subject
    return [(MailKind.GUEST_INVITATION, None, guest.email, Message(subject, ""))]


def invitation_text(uow: UnitOfWork, message: EmailMessage, base: str) -> str | None:
    """An invitation's text, with a new token for the guest (None: the guest is gone or
    disabled). Each try mints one: a token whose e-mail never arrived is known to no one."""
    session = uow.session
    event = session.get(Event, message.event_id)
    guest = session.get(Guest, (event.payload or {}).get("guest_id")) if event else None
    if event is None or guest is None or guest.disabled_at is not None:
        return None
    token = guests.mint_token(uow, guest.id)
    link = f"{base}/organizations/{event.org_id}/guest-tasks"
    org, inviter = _org_name(session, event.org_id), _actor(session, event)
    return mail.invitation(org, inviter, link, token).body
