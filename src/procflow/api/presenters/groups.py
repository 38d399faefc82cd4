"""A group as Tallyfy's clients read it."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.groups import GroupView


def group_json(view: GroupView) -> dict[str, Any]:
    group = view.group
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "logo": group.logo,
        "members": list(view.members),
        "guests": list(view.guests),
        "created_at": format_ts(group.created_at),
        "last_updated": format_ts(group.last_updated),
        "updated_at": format_ts(group.last_updated),
        "deleted_at": None,
    }
