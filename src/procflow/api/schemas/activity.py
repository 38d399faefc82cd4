"""The documented shape of an activity feed item."""

from typing import Any

from pydantic import BaseModel

from procflow.api.schemas.base import Meta


class ActorOut(BaseModel):
    id: int
    email: str
    username: str
    first_name: str
    last_name: str
    full_name: str
    profile_pic: str | None
    resize_profile_pic: str | None


class ActivityOut(BaseModel):
    id: int
    organization_id: str
    verb: str
    source: str
    actor_type: str
    actor_id: int | None
    actor: ActorOut | None
    type: str
    auditable_type: str
    auditable_id: str
    object_type: str
    object_id: str
    parentable_type: str | None
    parentable_id: str | None
    run_id: str | None
    field: str | None
    old_value: Any
    new_value: Any
    description: str
    text: str
    created_at: str


class ActivityList(BaseModel):
    data: list[ActivityOut]
    meta: Meta
