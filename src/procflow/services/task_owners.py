"""A task's owners (members, guests by email, groups): checked, then replaced as a whole."""

from collections.abc import Mapping, Sequence
from typing import Any

from procflow.domain.emails import is_email
from procflow.domain.permissions import Caller
from procflow.services import references
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Task, TaskOwner
from procflow.storage.repositories import tasks as repo

OWNER_KINDS = ("users", "guests", "groups")


def check_owners(uow: UnitOfWork, caller: Caller, owners: Any) -> dict[str, list[str]]:
    """What is wrong with the sent owners, by field path (nothing when they are valid)."""
    if not isinstance(owners, Mapping):
        return {"owners": ["The owners field must be an object with users, guests, groups."]}
    errors: dict[str, list[str]] = {}
    for kind in OWNER_KINDS:
        if not isinstance(owners.get(kind, []), list):
            errors[f"owners.{kind}"] = [f"The owners.{kind} field must be a list."]
    if errors:
        return errors
    users, guests, groups = (owners.get(kind, []) for kind in OWNER_KINDS)
    if not all(isinstance(u, int) and not isinstance(u, bool) for u in users):
        errors["owners.users"] = ["Owners must be user ids."]
    else:
        errors |= references.check_users(uow, caller.org_id, users, field="owners.users")
    for index, email in enumerate(guests):
        if not is_email(email):
            errors[f"owners.guests.{index}"] = ["A guest must be a valid email address."]
    if not all(isinstance(g, str) for g in groups):
        errors["owners.groups"] = ["Groups must be group ids."]
    else:
        known = repo.existing_group_ids(uow.session, caller.org_id, set(groups))
        for index, group_id in enumerate(groups):
            if group_id not in known:
                errors[f"owners.groups.{index}"] = [f"The selected group {group_id} is invalid."]
    return errors


def owner_lists(owners: Mapping[str, Any]) -> tuple[list[int], list[str], list[str]]:
    """Checked owners as members, guest emails (in lower case) and groups, each once."""
    return (
        list(dict.fromkeys(owners.get("users", []))),
        list(dict.fromkeys(e.lower() for e in owners.get("guests", []))),
        list(dict.fromkeys(owners.get("groups", []))),
    )


def _owners_dict(owners: Sequence[TaskOwner]) -> dict[str, list[Any]]:
    return {
        "users": [o.user_id for o in owners if o.user_id is not None],
        "guests": [o.guest_email for o in owners if o.guest_email is not None],
        "groups": [o.group_id for o in owners if o.group_id is not None],
    }


def replace_owners(
    uow: UnitOfWork, task: Task, owners: Mapping[str, Any] | None
) -> tuple[str, Any, Any] | None:
    """Set the task's owners as sent; `("owners", before, after)` if that changed them."""
    if owners is None:
        return None
    before = _owners_dict(repo.owners_of(uow.session, [task.id])[task.id])
    users, guests, groups = owner_lists(owners or {})
    after = {"users": users, "guests": guests, "groups": groups}
    if before == after:
        return None
    repo.replace_owners(uow.session, task.id, users, guests, groups)
    return ("owners", before, after)
