"""Reading comments (threads) of tasks."""

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from procflow.storage.models import Comment, Run, Task, TaskOwner

HIDDEN_FROM_GUESTS = "hide-for-guests"


def task_in(session: Session, org_id: str, task_id: str) -> Task | None:
    task = session.get(Task, task_id)
    return task if task is not None and task.org_id == org_id else None


def lock_task(session: Session, task_id: str) -> None:
    """Hold the task row until commit, so concurrent problem changes apply one at a time.

    Its run's row is locked first: every writer of a run's tasks locks the run before the
    task, so none waits for another in the opposite order.
    (SQLite serializes writers already; there the statements are plain reads.)
    """
    run_of_task = select(Task.run_id).where(Task.id == task_id).scalar_subquery()
    session.execute(select(Run.id).where(Run.id == run_of_task).with_for_update())
    session.execute(select(Task.id).where(Task.id == task_id).with_for_update())


def run_of(session: Session, task: Task) -> Run | None:
    return None if task.run_id is None else session.get(Run, task.run_id)


def get(session: Session, task_id: str, comment_id: str) -> Comment | None:
    """A live (not deleted) comment of the task."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.task_id != task_id or comment.archived_at is not None:
        return None
    return comment


def _live(task_id: str, for_guest: bool) -> Select[Comment]:
    query = select(Comment).where(Comment.task_id == task_id, Comment.archived_at.is_(None))
    return query.where(Comment.state != HIDDEN_FROM_GUESTS) if for_guest else query


def page(
    session: Session, task_id: str, *, for_guest: bool, offset: int, limit: int | None
) -> tuple[list[Comment], int]:
    base = _live(task_id, for_guest)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    query = base.order_by(Comment.created_at, Comment.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query)), total


def threads_of(
    session: Session, task_ids: Sequence[str], *, for_guest: bool = False
) -> dict[str, list[Comment]]:
    """Live comments of several tasks, oldest first (the `?with=threads` include)."""
    found: dict[str, list[Comment]] = {task_id: [] for task_id in task_ids}
    if task_ids:
        query = select(Comment).where(Comment.task_id.in_(task_ids), Comment.archived_at.is_(None))
        if for_guest:
            query = query.where(Comment.state != HIDDEN_FROM_GUESTS)
        for comment in session.scalars(query.order_by(Comment.created_at, Comment.id)):
            found[comment.task_id].append(comment)
    return found


def open_problem_ids(session: Session, task_id: str) -> set[str]:
    """Problems reported on the task that no `resolve` comment answers yet."""
    problems = select(Comment.id).where(
        Comment.task_id == task_id, Comment.label == "problem", Comment.archived_at.is_(None)
    )
    resolved = select(Comment.resolve_id).where(
        Comment.task_id == task_id, Comment.label == "resolve"
    )
    return set(session.scalars(problems)) - set(session.scalars(resolved))


def holds(session: Session, task_id: str, user_id: int) -> bool:
    return (
        session.scalar(
            select(TaskOwner.id).where(TaskOwner.task_id == task_id, TaskOwner.user_id == user_id)
        )
        is not None
    )
