"""The rules of procflow's e-mails, free of I/O: what kinds there are, which a member may
turn off, whom a comment mentions, and what each message says.

Messages are plain text. Their links point at the API (procflow serves no pages), under the
public address the operator configures (`PROCFLOW_PUBLIC_URL`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from procflow.domain.emails import is_email
from procflow.domain.timeutil import format_ts


class MailKind(StrEnum):
    TASK_ASSIGNED = "task_assigned"
    TASK_DUE_SOON = "task_due_soon"
    TASK_OVERDUE = "task_overdue"
    COMMENT_MENTION = "comment_mention"
    GUEST_INVITATION = "guest_invitation"


# What a member may turn off (a guest invitation goes to a guest, who has no settings).
MEMBER_KINDS = (
    MailKind.TASK_ASSIGNED,
    MailKind.TASK_DUE_SOON,
    MailKind.TASK_OVERDUE,
    MailKind.COMMENT_MENTION,
)

# Outbox events that only ever mail (webhooks never see them), by the kind they make.
TASK_ASSIGNED_EVENT = "task.assigned"
TASK_DUE_SOON_EVENT = "task.due_soon"
TASK_OVERDUE_EVENT = "task.overdue"
GUEST_INVITED_EVENT = "guest.invited"
MAIL_ONLY_EVENTS = frozenset(
    {TASK_ASSIGNED_EVENT, TASK_DUE_SOON_EVENT, TASK_OVERDUE_EVENT, GUEST_INVITED_EVENT}
)
# Webhook events that may mail someone too: comments, for the members they mention.
MENTION_EVENTS = frozenset({"task.comment_added", "task.issue_raised", "task.issue_resolved"})
MAILING_EVENTS = MAIL_ONLY_EVENTS | MENTION_EVENTS

TRAILING = ".,;:!?)]}>\"'"


def mentioned_emails(text: str) -> list[str]:
    """E-mail addresses written as `@someone@example.com` in a comment (at the start or
    after whitespace), lower-cased, each once. One linear pass; no regular expression."""
    found: dict[str, None] = {}
    for word in text.split():
        if word.startswith("@"):
            candidate = word[1:].rstrip(TRAILING).lower()
            if is_email(candidate):
                found[candidate] = None
    return list(found)


@dataclass(frozen=True)
class TaskLine:
    title: str
    run_name: str | None
    deadline: datetime | None
    link: str


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _line(task: TaskLine) -> str:
    where = f" ({task.run_name})" if task.run_name else ""
    due = f"\n  due {format_ts(task.deadline)}" if task.deadline else ""
    return f"- {task.title}{where}{due}\n  {task.link}"


def _footer(org_name: str, settings_link: str | None, guest_tasks: str | None = None) -> str:
    """A member's footer links their e-mail settings; a guest's (who has none) links the
    guest's task list, to be read with the token of their invitation."""
    lines = ["", "--", f"procflow, for {org_name}"]
    if settings_link:
        lines.append(f"Which e-mails you get: {settings_link}")
    if guest_tasks:
        lines.append(f"Your tasks: {guest_tasks} (send the token of your invitation)")
    return "\n".join(lines)


def assigned(
    org: str,
    tasks: Sequence[TaskLine],
    actor: str | None,
    settings: str | None,
    guest_tasks: str | None = None,
) -> Message:
    who = f"{actor} assigned" if actor else "You were assigned"
    subject = (
        f"New task: {tasks[0].title}" if len(tasks) == 1 else f"{len(tasks)} new tasks for you"
    )
    tail = " you:" if actor else ":"
    body = f"{who}{tail}\n\n" + "\n".join(_line(t) for t in tasks)
    return Message(subject, body + "\n" + _footer(org, settings, guest_tasks))


def reminder(
    org: str, task: TaskLine, overdue: bool, settings: str | None, guest_tasks: str | None = None
) -> Message:
    if overdue:
        subject, lead = f"Overdue: {task.title}", "This task of yours is past its deadline:"
    else:
        subject, lead = f"Due soon: {task.title}", "This task of yours is due within a day:"
    return Message(subject, f"{lead}\n\n{_line(task)}\n" + _footer(org, settings, guest_tasks))


def mention(org: str, task: TaskLine, author: str, content: str, settings: str) -> Message:
    quoted = "\n".join(f"> {line}" for line in content.splitlines()[:40])
    body = f"{author} mentioned you in a comment on:\n\n{_line(task)}\n\n{quoted}\n"
    return Message(f"{author} mentioned you: {task.title}", body + _footer(org, settings))


def invitation(org: str, inviter: str | None, link: str, token: str) -> Message:
    by = f"{inviter} invited you" if inviter else "You are invited"
    body = (
        f"{by} to work on tasks of {org}.\n\n"
        f"Your tasks: {link}\n"
        f"Send this token with each request, as `Authorization: Bearer <token>`:\n\n"
        f"  {token}\n\n"
        "Keep it to yourself: anyone holding it can act on your tasks.\n"
    )
    return Message(f"{org} invited you", body + _footer(org, None))


def recipients_of_mention(
    sent_to: Iterable[int], emails: Iterable[str], members_by_email: dict[str, int]
) -> list[int]:
    """Members a comment is for: its `sent_to`, then those whose address it @-mentions."""
    chosen = dict.fromkeys(sent_to)
    for email in emails:
        if email in members_by_email:
            chosen.setdefault(members_by_email[email])
    return list(chosen)
