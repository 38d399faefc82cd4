"""The documented shape of an activity feed item (Tallyfy's example: most values are
one-element lists)."""

from typing import Any

from procflow.api.schemas.base import Meta, Output


class ActorOut(Output):
    id: int
    email: str
    username: str
    first_name: str
    last_name: str
    full_name: str
    profile_pic: str | None
    resize_profile_pic: str | None


class Reference(Output):
    """What an `audit` or `parent` include names: the object's id and type."""

    id: str
    type: str


class ReferenceItem(Output):
    data: Reference | None


class ActivityOut(Output):
    id: int
    organization_id: str
    verb: list[str]
    source: list[str]
    actor_type: list[str]
    actor_id: list[int | None]
    actor: list[ActorOut]
    type: list[str]
    auditable_type: str
    auditable_id: str
    parentable_type: str | None
    parentable_id: str | None
    field: list[str] | None
    old_value: list[Any] | None
    new_value: list[Any] | None
    description: list[str]
    text: list[str]
    references: list[Any] | None
    undoable: bool
    audit: ReferenceItem
    parent: ReferenceItem
    origin: dict[str, Any] | None
    object_type: str
    object_id: str
    run_id: str | None
    created_at: str


class ActivityList(Output):
    data: list[ActivityOut]
    meta: Meta
