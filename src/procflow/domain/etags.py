"""Entity tags: one opaque, strong validator per observable state of a run or a task.

A run's `version` moves on every stored change to the run, its lists, its tasks, their
form values and comments. What a GET shows also depends on the clock (late tasks, due
soon, due date passed) without any stored change, so those flags are part of the tag too:
a cached copy is never declared fresh after a deadline passed. The tag does not depend on
`?with=`: it names the state, so a client may read with any includes and write with
`If-Match` the tag it got.

`If-Match` is compared strongly (RFC 9110 §13.1.1): weak tags never match.
"""

import hashlib
from dataclasses import dataclass

from procflow.domain.runs import RunFigures
from procflow.errors import PreconditionFailed


def _tag(kind: str, object_id: str, stamp: object, clock: object) -> str:
    raw = f"{kind}:{object_id}:{stamp}:{clock}".encode()
    return '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'


def run_etag(run_id: str, version: int, figures: RunFigures) -> str:
    clock = (figures.late_tasks, figures.due_date_passed, figures.due_soon)
    return _tag("run", run_id, version, clock)


def task_etag(task_id: str, stamp: object, overdue: bool) -> str:
    """`stamp` moves with every change to the task: for a task of a run, the run's version
    and clock-driven figures (a task may embed its run); for a one-off task, its own
    `last_updated` at full precision."""
    return _tag("task", task_id, stamp, overdue)


@dataclass(frozen=True)
class Precondition:
    """What `If-Match` asked for: any current state (`*`), or one of the listed tags."""

    tags: frozenset[str] | None

    def allows(self, current: str) -> bool:
        return self.tags is None or current in self.tags


def require(precondition: Precondition | None, current: str) -> None:
    """Refuse a write whose `If-Match` names another state than the current one."""
    if precondition is not None and not precondition.allows(current):
        raise PreconditionFailed()
