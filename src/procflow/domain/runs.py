"""Run lifecycle: status values and the figures derived from a run's tasks."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class RunStatus(StrEnum):
    ACTIVE = "active"
    PROBLEM = "problem"
    COMPLETE = "complete"
    ARCHIVED = "archived"


class TaskStatus(StrEnum):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    AUTO_SKIPPED = "auto-skipped"


DONE = frozenset({TaskStatus.COMPLETED, TaskStatus.AUTO_SKIPPED})
DUE_SOON_WINDOW = timedelta(days=1)
NAME_MAX = 550
SUMMARY_MAX = 10_000


@dataclass(frozen=True)
class TaskFacts:
    """The few task attributes that run-level figures depend on."""

    status: str
    deadline: datetime | None
    has_problem: bool = False


@dataclass(frozen=True)
class Progress:
    complete: int
    total: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.complete / self.total, 2) if self.total else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"complete": self.complete, "total": self.total, "percent": self.percent}


@dataclass(frozen=True)
class RunFigures:
    progress: Progress
    due_date: datetime | None
    late_tasks: int
    due_date_passed: bool
    due_soon: bool
    has_open_issue: bool


def figures(tasks: Iterable[TaskFacts], now: datetime) -> RunFigures:
    """Progress, due date and lateness of a run, computed from its tasks."""
    total = done = late = 0
    due: datetime | None = None
    problem = False
    for task in tasks:
        total += 1
        finished = task.status in DONE
        done += finished
        problem = problem or task.has_problem
        if task.deadline is not None:
            due = task.deadline if due is None or task.deadline > due else due
            late += (not finished) and task.deadline < now
    unfinished = done < total
    return RunFigures(
        progress=Progress(done, total),
        due_date=due,
        late_tasks=late,
        due_date_passed=bool(due and unfinished and due < now),
        due_soon=bool(due and unfinished and now <= due <= now + DUE_SOON_WINDOW),
        has_open_issue=problem,
    )


def status_of(stored: str, archived: bool) -> str:
    """The status clients see: archived wins over the stored lifecycle status."""
    return RunStatus.ARCHIVED.value if archived else stored


def lifecycle_status(tasks_total: int, tasks_done: int, has_problem: bool) -> RunStatus:
    if has_problem:
        return RunStatus.PROBLEM
    if tasks_total and tasks_done == tasks_total:
        return RunStatus.COMPLETE
    return RunStatus.ACTIVE
