"""A comment (thread) as Tallyfy's clients read it."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.records import Comment


def author_of(comment: Comment) -> tuple[int | None, str | None]:
    """(id, type) of the author: a member's user id, or a guest's id; unknown once deleted."""
    if comment.author_guest_id is not None:
        return comment.author_guest_id, "guest"
    if comment.author_id is not None:
        return comment.author_id, "member"
    return None, None


def comment_json(comment: Comment) -> dict[str, Any]:
    author_id, author_type = author_of(comment)
    return {
        "id": comment.id,
        "content": comment.content,
        "author_id": author_id,
        "author_type": author_type,
        "task_id": comment.task_id,
        "label": comment.label,
        "state": comment.state,
        "created_at": format_ts(comment.created_at),
        "updated_at": format_ts(comment.updated_at),
        "archived_at": format_ts(comment.archived_at),
        "resolve_id": comment.resolve_id,
        "sent_to": list(comment.sent_to or []),
    }
