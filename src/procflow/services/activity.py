"""The activity trail: one append-only record per change, in the change's own transaction.

Every service that changes something calls `record` (or `record_changes`) before it
returns; the records commit or roll back together with the change they describe.
"""

from collections.abc import Iterable
from typing import Any

from procflow.domain.permissions import Caller
from procflow.domain.timeutil import utcnow
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity

MEMBER = "member"
GUEST = "guest"


def record(
    uow: UnitOfWork,
    caller: Caller,
    verb: str,
    object_type: str,
    object_id: str,
    *,
    run_id: str | None = None,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    description: str | None = None,
    actor_type: str = MEMBER,
) -> None:
    uow.session.add(
        Activity(
            org_id=caller.org_id,
            actor_type=actor_type,
            actor_id=caller.user_id,
            verb=verb,
            object_type=object_type,
            object_id=object_id,
            run_id=run_id,
            field=field,
            old_value=old,
            new_value=new,
            description=description,
            created_at=utcnow(),
        )
    )


def record_changes(
    uow: UnitOfWork,
    caller: Caller,
    object_type: str,
    object_id: str,
    changes: Iterable[tuple[str, Any, Any]],
    *,
    run_id: str | None = None,
    verb: str = "updated",
) -> None:
    """One `updated` record per changed field, with its old and new value."""
    for field, old, new in changes:
        record(
            uow,
            caller,
            verb,
            object_type,
            object_id,
            run_id=run_id,
            field=field,
            old=_jsonable(old),
            new=_jsonable(new),
        )


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
