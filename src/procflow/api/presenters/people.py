"""Members and organizations as Tallyfy's clients read them."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.records import Membership, Organization, User


def user_json(user: User, role: str | None) -> dict[str, Any]:
    full = f"{user.first_name} {user.last_name}".strip()
    return {
        "id": user.id,
        "email": user.email,
        "username": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "full_name": full or user.email,
        "profile_pic": None,
        "timezone": user.timezone,
        "active": True,
        "role": role,
        "created_at": format_ts(user.created_at),
    }


def member_json(user: User, membership: Membership) -> dict[str, Any]:
    """A member of an organization: the user plus the membership's role and state."""
    disabled = membership.disabled_at is not None
    return user_json(user, membership.role) | {
        "active": not disabled,
        "is_suspended": disabled,
        "status": "disabled" if disabled else "active",
        "disabled_at": format_ts(membership.disabled_at),
        "approved_at": format_ts(membership.created_at),
    }


def organization_json(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "created_at": format_ts(org.created_at)}
