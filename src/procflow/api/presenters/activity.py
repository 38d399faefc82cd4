"""An activity record as Tallyfy's activity feed shows it.

Tallyfy's documented feed item holds most of its values in one-element lists (`verb`,
`source`, `actor_type`, `actor_id`, `type`, `description`, `actor`, and `field`,
`old_value`, `text` when set) and names models by class (`App\\Models\\User`); it carries
`audit`, `parent` (Fractal items), `origin`, `references` and `undoable`. procflow answers
the same, plus its own scalars `object_type`, `object_id`, `run_id` and `new_value`.
"""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.activity import GUEST, MEMBER, FeedItem
from procflow.services.records import Membership, User

TYPE_NAMES = {"run": "Process", "checklist": "Checklist", "kickoff_field": "Prerun"}
SOURCES = {MEMBER: "Member", GUEST: "Guest"}
MODELS = {
    "run": "Run",
    "checklist": "Checklist",
    "comment": "Thread",
    "kickoff_field": "Prerun",
    MEMBER: "User",
    GUEST: "Guest",
}
"""Class names of Tallyfy's models, by procflow's object and actor types."""


def type_name(object_type: str) -> str:
    """`task` → `Task`, `run` → `Process`: the names Tallyfy's feed uses."""
    return TYPE_NAMES.get(object_type, _camel(object_type))


def model_name(kind: str) -> str:
    """`task` → `App\\Models\\Task`, `member` → `App\\Models\\User`."""
    return "App\\Models\\" + MODELS.get(kind, _camel(kind))


def _camel(name: str) -> str:
    return name.replace("_", " ").title().replace(" ", "")


def _listed(value: Any) -> list[Any] | None:
    return None if value is None else [value]


def _value(value: Any, changed: bool) -> list[Any] | None:
    """A value in its list: always for a changed field (even `null`), else when there is one."""
    return [value] if changed or value is not None else None


def activity_json(item: FeedItem) -> dict[str, Any]:
    record = item.record
    kind = type_name(record.object_type)
    parent = record.run_id if record.run_id and record.object_type != "run" else None
    text = record.description or _sentence(record.verb, kind, record.field)
    changed = record.field is not None
    return {
        "id": record.id,
        "organization_id": record.org_id,
        "verb": [record.verb],
        "source": [SOURCES.get(record.actor_type, record.actor_type.title())],
        "actor_type": [model_name(record.actor_type)],
        "actor_id": [record.actor_id],
        "actor": [] if item.actor is None else [_actor(item.actor, item.profile)],
        "type": [kind],
        "auditable_type": model_name(record.object_type),
        "auditable_id": record.object_id,
        "parentable_type": model_name("run") if parent else None,
        "parentable_id": parent,
        "field": _listed(record.field),
        "old_value": _value(record.old_value, changed),
        "new_value": _value(record.new_value, changed),
        "description": [text],
        "text": [text],
        "references": None,
        "undoable": False,
        "audit": {"data": {"id": record.object_id, "type": kind}},
        "parent": {"data": {"id": parent, "type": "Process"} if parent else None},
        "origin": None,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "run_id": record.run_id,
        "created_at": format_ts(record.created_at),
    }


def _actor(user: User, profile: Membership | None) -> dict[str, Any]:
    first, last = (profile.first_name, profile.last_name) if profile else ("", "")
    return {
        "id": user.id,
        "email": user.email,
        "username": user.email,
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}".strip() or user.email,
        "profile_pic": None,
        "resize_profile_pic": None,
    }


def _sentence(verb: str, kind: str, field: str | None) -> str:
    return f"{kind} {field} {verb}" if field else f"{kind} {verb}"
