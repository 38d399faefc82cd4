"""An activity record as Tallyfy's activity feed shows it."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.activity import GUEST, MEMBER, FeedItem

TYPE_NAMES = {"run": "Process", "checklist": "Checklist", "kickoff_field": "Prerun"}
SOURCES = {MEMBER: "Member", GUEST: "Guest"}


def type_name(object_type: str) -> str:
    """`task` → `Task`, `run` → `Process`: the names Tallyfy's feed uses."""
    return TYPE_NAMES.get(object_type, object_type.replace("_", " ").title().replace(" ", ""))


def activity_json(item: FeedItem) -> dict[str, Any]:
    record = item.record
    kind = type_name(record.object_type)
    parent = record.run_id if record.run_id and record.object_type != "run" else None
    actor = None
    if item.actor is not None:
        user, profile = item.actor, item.profile
        first, last = (profile.first_name, profile.last_name) if profile else ("", "")
        full = f"{first} {last}".strip() or user.email
        actor = {
            "id": user.id,
            "email": user.email,
            "username": user.email,
            "first_name": first,
            "last_name": last,
            "full_name": full,
            "profile_pic": None,
            "resize_profile_pic": None,
        }
    text = record.description or _sentence(record.verb, kind, record.field)
    return {
        "id": record.id,
        "organization_id": record.org_id,
        "verb": record.verb,
        "source": SOURCES.get(record.actor_type, record.actor_type.title()),
        "actor_type": record.actor_type,
        "actor_id": record.actor_id,
        "actor": actor,
        "type": kind,
        "auditable_type": kind,
        "auditable_id": record.object_id,
        "object_type": record.object_type,
        "object_id": record.object_id,
        "parentable_type": "Process" if parent else None,
        "parentable_id": parent,
        "run_id": record.run_id,
        "field": record.field,
        "old_value": record.old_value,
        "new_value": record.new_value,
        "description": text,
        "text": text,
        "created_at": format_ts(record.created_at),
    }


def _sentence(verb: str, kind: str, field: str | None) -> str:
    return f"{kind} {field} {verb}" if field else f"{kind} {verb}"
