"""Who may do what, per the role table in decisions.md. Pure predicates on plain facts."""

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    STANDARD = "standard"
    LIGHT = "light"


@dataclass(frozen=True)
class Caller:
    """An authenticated member acting inside one organization."""

    user_id: int
    org_id: str
    role: Role

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class RunStake:
    """How the caller is involved in a run."""

    owns: bool
    started: bool
    holds_task: bool


def can_read_run(caller: Caller, stake: RunStake) -> bool:
    return caller.role is not Role.LIGHT or stake.owns or stake.holds_task


def can_launch(caller: Caller) -> bool:
    return caller.role is not Role.LIGHT


def can_update_run(caller: Caller, stake: RunStake) -> bool:
    if caller.role is Role.ADMIN:
        return True
    if caller.role is Role.STANDARD:
        return stake.owns or stake.started or stake.holds_task
    return False


def can_archive_run(caller: Caller, stake: RunStake) -> bool:
    if caller.role is Role.ADMIN:
        return True
    return caller.role is Role.STANDARD and (stake.owns or stake.started)


def can_delete_run(caller: Caller) -> bool:
    return caller.role is Role.ADMIN


def can_manage_catalog(caller: Caller) -> bool:
    """Templates, steps, fields, tags and folders: create, edit, archive."""
    return caller.role is not Role.LIGHT


@dataclass(frozen=True)
class TaskStake:
    """How the caller is involved in a task, short of its assignment (which costs a query)."""

    owns_run: bool  # the task belongs to a run the caller owns
    started: bool  # a one-off task the caller created


def may_act_unassigned(caller: Caller, stake: TaskStake) -> bool:
    """Complete, reopen or fill in a task without it being assigned to the caller: admins
    always, standard members on tasks of their own runs and one-off tasks they created.
    Anyone else acts only on tasks assigned to them (directly or through a group)."""
    if caller.is_admin:
        return True
    return caller.role is Role.STANDARD and (stake.owns_run or stake.started)


def may_edit_task(caller: Caller) -> bool:
    """Change a task's properties (title, deadline, owners...) on top of acting on it:
    light members fill in form values of their tasks but change nothing else."""
    return caller.role is not Role.LIGHT


def may_read_oneoff_unassigned(caller: Caller, stake: TaskStake) -> bool:
    """Read a one-off task without it being assigned to the caller."""
    return caller.role is not Role.LIGHT or stake.started


def may_remove_oneoff(caller: Caller, stake: TaskStake) -> bool:
    """Archive, restore or delete a one-off task: admins, and the standard member who
    created it."""
    return caller.is_admin or (caller.role is Role.STANDARD and stake.started)
