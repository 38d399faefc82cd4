"""Moving runs' `version` when something they show changes outside the run's own writers.

A run's entity tag is computed from its `version`. Renaming a tag or a folder, deleting a
group, a template, a step, a parent run or a guest changes what some runs show (a title
under `?with=tags`, a group id gone from `groups`, `checklist_id` or a task's `step_id` set
to null, a comment's author gone) without touching those runs: these statements bump
their versions in SQL (`version + 1`), which is safe against concurrent writers of the
same runs. `last_updated` stays: the runs themselves were not edited.
"""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from procflow.domain.versioning import advance
from procflow.storage.models import Comment, FolderLink, Run, RunGroup, TagLink, Task


def bump(session: Session, where: Any) -> None:
    """`version + 1` for every run matching `where`."""
    session.execute(
        update(Run).where(where).values(version=Run.version + 1),
        execution_options={"synchronize_session": False},
    )


def bump_run_of(session: Session, task: Task) -> None:
    """A task shows in its run: a change of the task moves the run's version."""
    if task.run_id is not None:
        bump(session, Run.id == task.run_id)


def bump_unlocked(run: Run, now: datetime) -> None:
    """`versioning.bump` for a loaded run whose row is not locked: `version` moves in SQL
    when the session flushes, so a concurrent writer's bump is not lost."""
    run.last_updated = advance(run.last_updated, now)
    run.version = Run.version + 1


def bump_tagged(session: Session, tag_id: str) -> None:
    bump(session, Run.id.in_(select(TagLink.run_id).where(TagLink.tag_id == tag_id)))


def bump_filed(session: Session, folder_ids: Collection[str]) -> None:
    bump(session, Run.id.in_(select(FolderLink.run_id).where(FolderLink.folder_id.in_(folder_ids))))


def bump_grouped(session: Session, group_id: str) -> None:
    bump(session, Run.id.in_(select(RunGroup.run_id).where(RunGroup.group_id == group_id)))


def bump_of_template(session: Session, checklist_id: str) -> None:
    bump(session, Run.checklist_id == checklist_id)


def bump_of_step(session: Session, step_id: str) -> None:
    bump(session, Run.id.in_(select(Task.run_id).where(Task.step_id == step_id)))


def bump_commented_by_guest(session: Session, guest_id: int, now: datetime) -> None:
    """Before a guest goes: its comments will show no author. Runs move their version;
    one-off tasks, whose tag follows their own `last_updated`, move that."""
    commented = select(Comment.task_id).where(Comment.author_guest_id == guest_id)
    bump(session, Run.id.in_(select(Task.run_id).where(Task.id.in_(commented))))
    session.execute(
        update(Task).where(Task.run_id.is_(None), Task.id.in_(commented)).values(last_updated=now),
        execution_options={"synchronize_session": False},
    )
