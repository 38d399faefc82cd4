"""One way to act on a task, whoever acts: a member or a guest.

The task routes that members and guests share pick the actor's service once
(`tasks_for`) and call it; each service keeps its own rules (services/tasks.py for
members, services/guest_tasks.py for guests). A guest reads its own tasks without the
embedded run, and sees only the comments guests may see.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from procflow.domain.etags import Precondition
from procflow.domain.permissions import Caller
from procflow.services import guest_tasks, tasks
from procflow.services.guests import GuestCaller
from procflow.services.tasks import TaskView
from procflow.services.unit_of_work import UnitOfWork


class TaskService(Protocol):
    """What a member or a guest may ask of a task of a run (or, for a member, any task)."""

    @property
    def for_guest(self) -> bool: ...

    def get_task(
        self, uow: UnitOfWork, task_id: str, run_id: str | None = None, *, with_run: bool = False
    ) -> TaskView: ...

    def update_task(
        self,
        uow: UnitOfWork,
        task_id: str,
        patch: Mapping[str, Any],
        *,
        run_id: str | None = None,
        strict: bool = False,
        precondition: Precondition | None = None,
    ) -> TaskView: ...

    def complete_task(
        self,
        uow: UnitOfWork,
        task_id: Any,
        is_approved: Any,
        *,
        run_id: str,
        precondition: Precondition | None = None,
    ) -> TaskView: ...

    def reopen_task(
        self,
        uow: UnitOfWork,
        task_id: str,
        *,
        run_id: str,
        precondition: Precondition | None = None,
    ) -> TaskView: ...


@dataclass(frozen=True)
class MemberTasks:
    """A member acting on tasks, with the role's rules of services/tasks.py."""

    caller: Caller

    @property
    def for_guest(self) -> bool:
        return False

    def get_task(
        self, uow: UnitOfWork, task_id: str, run_id: str | None = None, *, with_run: bool = False
    ) -> TaskView:
        return tasks.get_task(uow, self.caller, task_id, run_id, with_run=with_run)

    def update_task(
        self,
        uow: UnitOfWork,
        task_id: str,
        patch: Mapping[str, Any],
        *,
        run_id: str | None = None,
        strict: bool = False,
        precondition: Precondition | None = None,
    ) -> TaskView:
        return tasks.update_task(
            uow,
            self.caller,
            task_id,
            patch,
            run_id=run_id,
            strict=strict,
            precondition=precondition,
        )

    def complete_task(
        self,
        uow: UnitOfWork,
        task_id: Any,
        is_approved: Any,
        *,
        run_id: str,
        precondition: Precondition | None = None,
    ) -> TaskView:
        return tasks.complete_task(
            uow, self.caller, task_id, is_approved, run_id=run_id, precondition=precondition
        )

    def reopen_task(
        self,
        uow: UnitOfWork,
        task_id: str,
        *,
        run_id: str,
        precondition: Precondition | None = None,
    ) -> TaskView:
        return tasks.reopen_task(
            uow, self.caller, task_id, run_id=run_id, precondition=precondition
        )


@dataclass(frozen=True)
class GuestTasks:
    """A guest acting on its own tasks, with the rules of services/guest_tasks.py."""

    guest: GuestCaller

    @property
    def for_guest(self) -> bool:
        return True

    def get_task(
        self, uow: UnitOfWork, task_id: str, run_id: str | None = None, *, with_run: bool = False
    ) -> TaskView:
        return guest_tasks.get_task(uow, self.guest, task_id, run_id)

    def update_task(
        self,
        uow: UnitOfWork,
        task_id: str,
        patch: Mapping[str, Any],
        *,
        run_id: str | None = None,
        strict: bool = False,
        precondition: Precondition | None = None,
    ) -> TaskView:
        return guest_tasks.update_task(
            uow, self.guest, task_id, patch, run_id=run_id, strict=strict, precondition=precondition
        )

    def complete_task(
        self,
        uow: UnitOfWork,
        task_id: Any,
        is_approved: Any,
        *,
        run_id: str,
        precondition: Precondition | None = None,
    ) -> TaskView:
        return guest_tasks.complete_task(
            uow, self.guest, task_id, is_approved, run_id=run_id, precondition=precondition
        )

    def reopen_task(
        self,
        uow: UnitOfWork,
        task_id: str,
        *,
        run_id: str,
        precondition: Precondition | None = None,
    ) -> TaskView:
        return guest_tasks.reopen_task(
            uow, self.guest, task_id, run_id=run_id, precondition=precondition
        )


def tasks_for(actor: Caller | GuestCaller) -> TaskService:
    """The task service of whoever calls: a guest's, or a member's."""
    return GuestTasks(actor) if isinstance(actor, GuestCaller) else MemberTasks(actor)
