"""How a task moves between open and completed, and its run with it: rules on plain facts.

The services find and lock the rows, ask these functions what may happen and what changes,
apply the changes and record them. A refusal is a `ValidationFailed` on `task_id` (or
`is_approved`), raised before anything is written.
"""

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from procflow.domain.runs import DONE, TaskStatus
from procflow.errors import ValidationFailed

APPROVAL = "approval"
# A guest's completion keeps the guest's id here (its `completer_id` stays null).
COMPLETER_GUEST = "completer_guest_id"


def refuse_completed(status: str) -> None:
    """A task that is done (completed or auto-skipped) cannot be completed again."""
    if status in DONE:
        raise ValidationFailed.one("task_id", "The task is already completed.")


def verdict_errors(task_type: str, is_approved: Any) -> dict[str, list[str]]:
    """An approval is completed with a verdict: `is_approved`, true or false.

    Tallyfy's API answers 422 "The is approved field is required." when an approval task
    is completed without one (gated on the task's own `task_type`); other task types
    ignore the key. procflow does the same, in the same words.
    """
    if task_type != APPROVAL or isinstance(is_approved, bool):
        return {}
    if is_approved is None:
        return {"is_approved": ["The is approved field is required."]}
    return {"is_approved": ["The is approved field must be true or false."]}


def completed(
    task_type: str, now: datetime, is_approved: Any, completer_id: int | None
) -> dict[str, Any]:
    """The task's new attribute values once completed (by a member, or by nobody for a
    guest's completion); only an approval keeps a verdict."""
    changes: dict[str, Any] = {
        "status": TaskStatus.COMPLETED.value,
        "completed_at": now,
        "completer_id": completer_id,
    }
    if task_type == APPROVAL:
        changes["is_approved"] = is_approved
    return changes


def run_is_done(statuses: Collection[str]) -> bool:
    """A run is complete once it has tasks and every one of them is done."""
    return bool(statuses) and all(status in DONE for status in statuses)


def refuse_not_completed(status: str) -> None:
    """Only a completed task can be reopened (an auto-skipped one cannot)."""
    if status != TaskStatus.COMPLETED.value:
        raise ValidationFailed.one("task_id", "The task is not completed.")


def reopened(flags: Mapping[str, Any] | None) -> dict[str, Any]:
    """The task's new attribute values once reopened: in progress, no completion left,
    not even a guest's."""
    changes: dict[str, Any] = {
        "status": TaskStatus.IN_PROGRESS.value,
        "completed_at": None,
        "completer_id": None,
        "is_approved": None,
    }
    if flags and COMPLETER_GUEST in flags:
        changes["flags"] = {k: v for k, v in flags.items() if k != COMPLETER_GUEST}
    return changes


def run_reopens(run_completed_at: datetime | None) -> bool:
    """Reopening a task of a completed run makes the run incomplete again."""
    return run_completed_at is not None
