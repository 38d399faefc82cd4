"""Who may act on, edit, read and remove a task without it being assigned to them."""

import pytest

from procflow.domain.permissions import (
    Caller,
    Role,
    TaskStake,
    may_act_unassigned,
    may_edit_task,
    may_read_oneoff_unassigned,
    may_remove_oneoff,
)

NONE = TaskStake(owns_run=False, started=False)
OWNS_RUN = TaskStake(owns_run=True, started=False)
STARTED = TaskStake(owns_run=False, started=True)


def caller(role: Role) -> Caller:
    return Caller(user_id=5, org_id="org", role=role)


@pytest.mark.parametrize(
    ("role", "stake", "allowed"),
    [
        (Role.ADMIN, NONE, True),
        (Role.STANDARD, OWNS_RUN, True),
        (Role.STANDARD, STARTED, True),
        (Role.STANDARD, NONE, False),
        (Role.LIGHT, OWNS_RUN, False),
        (Role.LIGHT, STARTED, False),
    ],
)
def test_acting_without_assignment(role: Role, stake: TaskStake, allowed: bool) -> None:
    assert may_act_unassigned(caller(role), stake) is allowed


@pytest.mark.parametrize(
    ("role", "allowed"), [(Role.ADMIN, True), (Role.STANDARD, True), (Role.LIGHT, False)]
)
def test_light_members_never_edit_a_tasks_properties(role: Role, allowed: bool) -> None:
    assert may_edit_task(caller(role)) is allowed


@pytest.mark.parametrize(
    ("role", "stake", "allowed"),
    [
        (Role.ADMIN, NONE, True),
        (Role.STANDARD, NONE, True),
        (Role.LIGHT, NONE, False),
        (Role.LIGHT, STARTED, True),
    ],
)
def test_reading_a_oneoff_task_without_assignment(
    role: Role, stake: TaskStake, allowed: bool
) -> None:
    assert may_read_oneoff_unassigned(caller(role), stake) is allowed


@pytest.mark.parametrize(
    ("role", "stake", "allowed"),
    [
        (Role.ADMIN, NONE, True),
        (Role.STANDARD, STARTED, True),
        (Role.STANDARD, NONE, False),
        (Role.LIGHT, STARTED, False),
    ],
)
def test_removing_a_oneoff_task(role: Role, stake: TaskStake, allowed: bool) -> None:
    assert may_remove_oneoff(caller(role), stake) is allowed
