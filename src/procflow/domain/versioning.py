"""What a change does to the things it changes: one rule, kept here.

Every changed entity moves its `last_updated` forward (strictly: two changes within one
millisecond still order), and a run also moves its `version` by one, since a run's
entity tag is computed from it. Writers call `bump` with everything their change touches
(a task and its run, a step and its template). Where a run is not loaded or not locked,
the same bump is done in SQL by the repositories' `bump_*` statements
(`storage.repositories.run_versions`).
"""

from datetime import datetime, timedelta
from typing import Protocol, TypeGuard


class Stamped(Protocol):
    last_updated: datetime


class Versioned(Stamped, Protocol):
    version: int


def advance(previous: datetime | None, now: datetime) -> datetime:
    """A `last_updated` that always moves forward, even within one millisecond."""
    if previous is not None and now <= previous:
        return previous + timedelta(milliseconds=1)
    return now


def next_version(version: int) -> int:
    return version + 1


def is_versioned(entity: Stamped) -> TypeGuard[Versioned]:
    """What `isinstance` of a runtime-checkable `Versioned` would say of a stamped entity,
    without walking the protocol's attributes on every call (it sits on every write)."""
    return hasattr(entity, "version")


def bump(*changed: Stamped | None, now: datetime) -> None:
    """Mark each entity given (None ones are skipped) as changed at `now`."""
    for entity in changed:
        if entity is None:
            continue
        entity.last_updated = advance(entity.last_updated, now)
        if is_versioned(entity):
            entity.version = next_version(entity.version)
