"""A guest as Tallyfy's clients read it."""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.guests import WRITABLE_DETAILS
from procflow.services.records import Guest

DETAIL_KEYS = (
    "first_name",
    "last_name",
    "status",
    *WRITABLE_DETAILS,
    "last_city",
    "last_country",
    "last_accessed_at",
    "disabled_at",
    "disabled_by",
    "reactivated_at",
    "reactivated_by",
)


def link_of(guest: Guest) -> str:
    """Where the guest is addressed; clients read `guest_id` off its last segment."""
    return f"organizations/{guest.org_id}/guest/{guest.id}"


def guest_json(guest: Guest) -> dict[str, Any]:
    stored = guest.details or {}
    details = {key: stored.get(key) for key in DETAIL_KEYS}
    details["first_name"], details["last_name"] = guest.first_name, guest.last_name
    details["status"] = "disabled" if guest.disabled_at else "active"
    details["disabled_at"] = format_ts(guest.disabled_at)
    return {
        "id": guest.id,
        "guest_id": str(guest.id),
        "email": guest.email,
        "first_name": guest.first_name,
        "last_name": guest.last_name,
        "full_name": f"{guest.first_name} {guest.last_name}".strip(),
        "link": link_of(guest),
        "last_accessed_at": None,
        "last_known_ip": None,
        "last_known_country": None,
        "created_at": format_ts(guest.created_at),
        "last_updated": format_ts(guest.last_updated),
        "deleted_at": None,
        "disabled_at": format_ts(guest.disabled_at),
        "details": details,
    }
