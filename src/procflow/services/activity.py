"""The activity trail: one append-only record per change, in the change's own transaction.

Every service that changes something calls `record` (or `record_changes`) before it
returns; the records commit or roll back together with the change they describe.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from procflow.domain.permissions import Caller, Role
from procflow.domain.timeutil import utcnow
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity, Membership, Task, User
from procflow.storage.repositories import activity as repo

MEMBER = "member"
GUEST = "guest"
ACTOR_TYPES = {"user": MEMBER, MEMBER: MEMBER, GUEST: GUEST}
"""`actor_type` (or `source`) filter values: Tallyfy's `user`, and procflow's `member`."""
TASK_ACTIVITY_LIMIT = 100


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
    repo.append(
        uow.connection,
        [
            {
                "org_id": caller.org_id,
                "actor_type": actor_type,
                "actor_id": caller.user_id,
                "verb": verb,
                "object_type": object_type,
                "object_id": object_id,
                "run_id": run_id,
                "field": field,
                "old_value": old,
                "new_value": new,
                "description": description,
                "created_at": utcnow(),
            }
        ],
    )


def record_denial(
    uow: UnitOfWork, actor: Any, method: str, description: str, *, run_id: str | None
) -> None:
    """A refused request, by a member (`Caller`) or a guest (anything with `guest_id`)."""
    guest_id = getattr(actor, "guest_id", None)
    repo.append(
        uow.connection,
        [
            {
                "org_id": actor.org_id,
                "actor_type": GUEST if guest_id is not None else MEMBER,
                "actor_id": guest_id if guest_id is not None else actor.user_id,
                "verb": "denied",
                "object_type": "request",
                "object_id": method,
                "run_id": run_id,
                "field": None,
                "old_value": None,
                "new_value": None,
                "description": description,
                "created_at": utcnow(),
            }
        ],
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
    """One `updated` record per changed field, with its old and new value (one statement)."""
    repo.append(
        uow.connection,
        change_records(caller, object_type, object_id, changes, run_id=run_id, verb=verb),
    )


def change_records(
    caller: Caller,
    object_type: str,
    object_id: str,
    changes: Iterable[tuple[str, Any, Any]],
    *,
    run_id: str | None = None,
    verb: str = "updated",
) -> list[dict[str, Any]]:
    """The rows `record_changes` writes, for a repository that writes them itself."""
    now = utcnow()
    return [
        {
            "org_id": caller.org_id,
            "actor_type": MEMBER,
            "actor_id": caller.user_id,
            "verb": verb,
            "object_type": object_type,
            "object_id": object_id,
            "run_id": run_id,
            "field": field,
            "old_value": _jsonable(old),
            "new_value": _jsonable(new),
            "description": None,
            "created_at": now,
        }
        for field, old, new in changes
    ]


def snapshot(target: Any, keys: Iterable[str]) -> dict[str, Any]:
    """The current values of `keys` on `target`, to compare with after a change."""
    return {key: getattr(target, key) for key in keys}


def changes_of(before: Mapping[str, Any], target: Any) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for every key of `before` whose value on `target` now differs."""
    return [
        (key, old, getattr(target, key))
        for key, old in before.items()
        if getattr(target, key) != old
    ]


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


ENTITY_TYPES = {"process": "run", "blueprint": "checklist", "template": "checklist"}


def object_type_of(name: str) -> str:
    """A client's entity type (`run`, `Process`, `checklist`, `Task`...) as stored."""
    lowered = name.strip().lower()
    return ENTITY_TYPES.get(lowered, lowered)


@dataclass(frozen=True)
class FeedQuery:
    entity_type: str | None = None
    entity_id: str | None = None
    type: str | None = None
    verb: str | None = None
    actor_type: str | None = None
    actor_id: int | None = None
    field: str | None = None
    created_after: date | None = None
    created_before: date | None = None
    actor_email: str | None = None
    source: str | None = None
    search: str | None = None
    newest_first: bool = True


@dataclass(frozen=True)
class FeedItem:
    """A record and the member who made it, with that member's profile in the record's
    organization (`None` for guests, and for profiles of people no longer members)."""

    record: Activity
    actor: User | None
    profile: Membership | None = None


def feed(
    uow: UnitOfWork, caller: Caller, query: FeedQuery, *, offset: int, limit: int | None
) -> tuple[list[FeedItem], int]:
    """The organization's trail, filtered; light members see only runs they may read.

    `entity_type=run` with an `entity_id` gives everything recorded for that run: the run
    itself and its tasks, comments and values.
    """
    kind = object_type_of(query.entity_type or query.type or "") or None
    where = repo.ActivityFilter(
        object_type=None if (kind == "run" and query.entity_id) else kind,
        object_id=None if kind == "run" else query.entity_id,
        run_id=query.entity_id if kind == "run" else None,
        verb=query.verb,
        actor_type=_actor_type(query.actor_type or query.source),
        actor_id=query.actor_id,
        field=query.field,
        after=_midnight(query.created_after, 0),
        before=_midnight(query.created_before, 1),
        readable_by=caller.user_id if caller.role is Role.LIGHT else None,
        actor_email=query.actor_email.strip().lower() if query.actor_email else None,
        search=query.search,
    )
    records, total = repo.page(
        uow.session,
        caller.org_id,
        where,
        newest_first=query.newest_first,
        offset=offset,
        limit=limit,
    )
    return _items(uow, caller.org_id, records), total


def of_tasks(
    uow: UnitOfWork, tasks: Iterable[Task], *, limit: int = TASK_ACTIVITY_LIMIT
) -> dict[str, list[FeedItem]]:
    """The newest records of each task's own changes (its `?with=activities`), for a
    caller who may read the tasks; one query per task, so only when asked for."""
    found: dict[str, list[FeedItem]] = {}
    for task in tasks:
        records, _total = repo.page(
            uow.session,
            task.org_id,
            repo.ActivityFilter(object_type="task", object_id=task.id),
            newest_first=True,
            offset=0,
            limit=limit,
        )
        found[task.id] = _items(uow, task.org_id, records)
    return found


def _items(uow: UnitOfWork, org_id: str, records: list[Activity]) -> list[FeedItem]:
    actors = repo.actors_by_id(
        uow.session,
        org_id,
        {r.actor_id for r in records if r.actor_type == MEMBER and r.actor_id},
    )
    items = []
    for r in records:
        actor, profile = actors.get(r.actor_id or 0, (None, None))
        items.append(FeedItem(r, actor, profile) if r.actor_type == MEMBER else FeedItem(r, None))
    return items


def _actor_type(name: str | None) -> str | None:
    """The stored actor type a filter names; an unknown name matches nothing."""
    if not name:
        return None
    return ACTOR_TYPES.get(name.strip().lower(), name.strip().lower())


def _midnight(day: date | None, days_later: int) -> datetime | None:
    if day is None:
        return None
    try:
        return datetime.combine(day, time()) + timedelta(days=days_later)
    except OverflowError:  # the day after 9999-12-31: no bound at all
        return None
