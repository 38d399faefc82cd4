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
