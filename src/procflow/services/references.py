"""Checks that ids a client sends name real objects of the caller's organization."""

from collections.abc import Sequence

from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.repositories import groups, taxonomy

MAX_LIST = 100


def _list_errors(
    field: str, values: Sequence[object], known: set[object], what: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if len(values) > MAX_LIST:
        return {field: [f"The {field} field may not have more than {MAX_LIST} items."]}
    seen: set[object] = set()
    for index, value in enumerate(values):
        if value not in known:
            errors[f"{field}.{index}"] = [f"The selected {what} {value!s} is invalid."]
        elif value in seen:
            errors[f"{field}.{index}"] = [f"The {what} {value!s} is listed twice."]
        seen.add(value)
    return errors


def check_tags(uow: UnitOfWork, org_id: str, ids: Sequence[str]) -> dict[str, list[str]]:
    known = taxonomy.existing_tag_ids(uow.session, org_id, set(ids[: MAX_LIST + 1]))
    return _list_errors("tags", ids, set(known), "tag")


def check_folders(uow: UnitOfWork, org_id: str, ids: Sequence[str]) -> dict[str, list[str]]:
    known = taxonomy.existing_folder_ids(uow.session, org_id, set(ids[: MAX_LIST + 1]))
    return _list_errors("folders", ids, set(known), "folder")


def check_users(
    uow: UnitOfWork, org_id: str, ids: Sequence[int], field: str = "users"
) -> dict[str, list[str]]:
    known = organizations.member_ids(uow, org_id, set(ids[: MAX_LIST + 1]))
    return _list_errors(field, ids, set(known), "user")


def check_groups(
    uow: UnitOfWork, org_id: str, ids: Sequence[str], field: str = "groups"
) -> dict[str, list[str]]:
    known = groups.existing_ids(uow.session, org_id, set(ids[: MAX_LIST + 1]))
    return _list_errors(field, ids, set(known), "group")


def check_owner(uow: UnitOfWork, org_id: str, owner_id: int) -> dict[str, list[str]]:
    if organizations.member_ids(uow, org_id, {owner_id}):
        return {}
    return {"owner_id": ["The selected owner id is not a member of this organization."]}
