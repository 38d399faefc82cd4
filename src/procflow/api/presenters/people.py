"""Members and organizations as Tallyfy's clients read them.

A person's id and e-mail are shared by every organization they belong to; their names,
time zone, role and state are the membership's, i.e. what one organization sees of them.
"""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.records import Membership, Organization, User


def user_json(user: User, profile: Membership | None, role: str | None) -> dict[str, Any]:
    """The person as `profile` shows them; without one (no active membership), the
    profile a new member gets: the e-mail's local part as first name, UTC."""
    if profile is None:
        first, last, zone = user.email.split("@", 1)[0][:100], "", "UTC"
    else:
        first, last, zone = profile.first_name, profile.last_name, profile.timezone
    full = f"{first} {last}".strip()
    return {
        "id": user.id,
        "email": user.email,
        "username": user.email,
        "first_name": first,
        "last_name": last,
        "full_name": full or user.email,
        "profile_pic": None,
        "timezone": zone,
        "active": True,
        "role": role,
        "created_at": format_ts(user.created_at if profile is None else profile.created_at),
    }


def member_json(user: User, membership: Membership) -> dict[str, Any]:
    """A member of an organization: the person as that organization's membership has them;
    `created_at` is when they joined it, never when the person first appeared anywhere."""
    disabled = membership.disabled_at is not None
    return user_json(user, membership, membership.role) | {
        "active": not disabled,
        "is_suspended": disabled,
        "status": "disabled" if disabled else "active",
        "disabled_at": format_ts(membership.disabled_at),
        "approved_at": format_ts(membership.created_at),
    }


def organization_json(org: Organization) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "created_at": format_ts(org.created_at)}
