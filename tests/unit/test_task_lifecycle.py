"""Completing and reopening a task, and its run with it, on plain facts."""

from datetime import UTC, datetime

import pytest

from procflow.domain import task_lifecycle as lifecycle
from procflow.errors import ValidationFailed

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("status", ["completed", "auto-skipped"])
def test_a_done_task_cannot_be_completed_again(status: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.refuse_completed(status)
    assert refused.value.errors == {"task_id": ["The task is already completed."]}


@pytest.mark.parametrize("status", ["not-started", "in-progress"])
def test_an_open_task_may_be_completed(status: str) -> None:
    lifecycle.refuse_completed(status)


def test_an_approval_without_verdict_is_refused_in_tallyfys_words() -> None:
    """Tallyfy's API: 422 "The is approved field is required." (see docs/compatibility.md)."""
    assert lifecycle.verdict_errors("approval", None) == {
        "is_approved": ["The is approved field is required."]
    }


@pytest.mark.parametrize("verdict", ["yes", 1, 0])
def test_an_approval_needs_a_boolean_verdict(verdict: object) -> None:
    assert lifecycle.verdict_errors("approval", verdict) == {
        "is_approved": ["The is approved field must be true or false."]
    }


@pytest.mark.parametrize(
    ("task_type", "verdict"), [("approval", True), ("approval", False), ("task", None)]
)
def test_a_verdict_is_asked_of_approvals_only(task_type: str, verdict: object) -> None:
    assert lifecycle.verdict_errors(task_type, verdict) == {}


def test_completing_a_task_records_when_and_by_whom() -> None:
    assert lifecycle.completed("task", NOW, None, 7) == {
        "status": "completed",
        "completed_at": NOW,
        "completer_id": 7,
    }


def test_completing_an_approval_keeps_its_verdict() -> None:
    assert lifecycle.completed("approval", NOW, False, None) == {
        "status": "completed",
        "completed_at": NOW,
        "completer_id": None,
        "is_approved": False,
    }


@pytest.mark.parametrize(
    ("statuses", "done"),
    [
        ([], False),
        (["completed"], True),
        (["completed", "auto-skipped"], True),
        (["completed", "in-progress"], False),
        (["not-started"], False),
    ],
)
def test_a_run_is_done_when_it_has_tasks_and_all_are_done(statuses: list[str], done: bool) -> None:
    assert lifecycle.run_is_done(statuses) is done


@pytest.mark.parametrize("status", ["not-started", "in-progress", "auto-skipped"])
def test_only_a_completed_task_can_be_reopened(status: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        lifecycle.refuse_not_completed(status)
    assert refused.value.errors == {"task_id": ["The task is not completed."]}
    lifecycle.refuse_not_completed("completed")


def test_reopening_clears_the_completion() -> None:
    assert lifecycle.reopened({"starter_id": 3}) == {
        "status": "in-progress",
        "completed_at": None,
        "completer_id": None,
        "is_approved": None,
    }


def test_reopening_forgets_the_guest_who_completed_the_task() -> None:
    changes = lifecycle.reopened({"starter_id": 3, "completer_guest_id": 12})
    assert changes["flags"] == {"starter_id": 3}
    assert "flags" not in lifecycle.reopened(None)


def test_reopening_a_task_reopens_a_completed_run_only() -> None:
    assert lifecycle.run_reopens(NOW) is True
    assert lifecycle.run_reopens(None) is False
