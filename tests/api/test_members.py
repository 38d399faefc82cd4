"""`/organizations/{org}/users`: list, get, invite, profile, role, disable, enable, approve."""

from typing import Any
from uuid import uuid4

from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity
from tests.factories import World

MEMBER_KEYS = {
    "id",
    "email",
    "username",
    "first_name",
    "last_name",
    "full_name",
    "profile_pic",
    "timezone",
    "active",
    "is_suspended",
    "status",
    "role",
    "created_at",
    "approved_at",
    "disabled_at",
}


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert field in body["errors"], body["errors"]


def invite(world: World, member: Any = None, **body: Any) -> Any:
    return world.call(
        "POST",
        "/users/invite",
        member,
        json={"email": f"new-{uuid4().hex[:8]}@example.com", **body},
    )


def test_list_shows_every_member_with_role(world: World) -> None:
    body = world.call("GET", "/users", world.light).json()
    assert body["meta"]["pagination"]["total"] == 3
    roles = {item["id"]: item["role"] for item in body["data"]}
    assert roles == {
        world.admin.user_id: "admin",
        world.standard.user_id: "standard",
        world.light.user_id: "light",
    }
    assert all(set(item) == MEMBER_KEYS for item in body["data"])
    assert all(item["status"] == "active" and item["active"] is True for item in body["data"])
    page = world.call("GET", "/users?per_page=2&page=2").json()
    assert page["meta"]["pagination"]["count"] == 1
    assert page["meta"]["pagination"]["total_pages"] == 2


def test_users_list_is_every_member_unpaged(world: World, other_world: World) -> None:
    for _ in range(2):
        assert invite(world).status_code == 200
    response = world.call("GET", "/users-list", world.light)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data"}
    assert len(body["data"]) == 5
    assert all(set(item) == MEMBER_KEYS for item in body["data"])
    paged = world.call("GET", "/users?per_page=100").json()["data"]
    assert body["data"] == paged
    assert other_world.admin.user_id not in {item["id"] for item in body["data"]}


def test_get_one_member_and_404s(world: World, other_world: World) -> None:
    data = world.call("GET", f"/users/{world.standard.user_id}").json()["data"]
    assert set(data) == MEMBER_KEYS
    assert data["id"] == world.standard.user_id
    assert data["role"] == "standard"
    for user_id in (other_world.admin.user_id, 2**40):
        response = world.call("GET", f"/users/{user_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"


def test_invite_creates_a_member_light_by_default(world: World) -> None:
    response = invite(world, first_name="Ada", last_name="Lovelace")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == MEMBER_KEYS
    assert isinstance(data["id"], int)
    assert data["role"] == "light"
    assert data["full_name"] == "Ada Lovelace"
    assert world.call("GET", f"/users/{data['id']}").json()["data"]["role"] == "light"
    assert world.call("GET", "/users").json()["meta"]["pagination"]["total"] == 4


def test_invite_an_existing_user_of_another_org(world: World, other_world: World) -> None:
    email = other_world.call("GET", f"/users/{other_world.admin.user_id}").json()["data"]["email"]
    response = world.call("POST", "/users/invite", json={"email": email, "role": "standard"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["id"] == other_world.admin.user_id
    assert response.json()["data"]["role"] == "standard"


def test_invite_validation(world: World) -> None:
    email = world.call("GET", f"/users/{world.light.user_id}").json()["data"]["email"]
    assert_invalid(world.call("POST", "/users/invite", json={"email": email}), "email")
    assert_invalid(world.call("POST", "/users/invite", json={}), "email")
    assert_invalid(world.call("POST", "/users/invite", json={"email": "nobody"}), "email")
    assert_invalid(invite(world, role="owner"), "role")


def test_only_admins_manage_members(world: World) -> None:
    for member in (world.standard, world.light):
        assert invite(world, member).status_code == 403
        path = f"/users/{world.light.user_id}"
        assert world.call("PUT", f"{path}/role", member, json={"role": "admin"}).status_code == 403
        assert world.call("DELETE", f"{path}/disable", member).status_code == 403
        assert world.call("PUT", f"{path}/enable", member).status_code == 403


def test_change_role(world: World) -> None:
    path = f"/users/{world.light.user_id}/role"
    response = world.call("PUT", path, json={"role": "standard"})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["role"] == "standard"
    assert world.call("GET", "/runs", world.light).status_code == 200
    assert_invalid(world.call("PUT", path, json={"role": "boss"}), "role")


def test_last_admin_cannot_be_demoted(world: World) -> None:
    path = f"/users/{world.admin.user_id}/role"
    assert_invalid(world.call("PUT", path, json={"role": "standard"}), "role")
    promote = f"/users/{world.standard.user_id}/role"
    assert world.call("PUT", promote, json={"role": "admin"}).status_code == 200
    assert world.call("PUT", path, json={"role": "standard"}).status_code == 200


def test_disable_and_enable(world: World) -> None:
    path = f"/users/{world.standard.user_id}"
    response = world.call("DELETE", f"{path}/disable")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["status"] == "disabled"
    assert data["active"] is False
    assert data["disabled_at"].endswith("Z")
    denied = world.call("GET", "/runs", world.standard)
    assert denied.status_code == 403
    assert denied.json()["code"] == "FORBIDDEN"
    enabled = world.call("PUT", f"{path}/enable")
    assert enabled.status_code == 200
    assert enabled.json()["data"]["disabled_at"] is None
    assert world.call("GET", "/runs", world.standard).status_code == 200


def test_cannot_disable_yourself(world: World) -> None:
    assert_invalid(world.call("DELETE", f"/users/{world.admin.user_id}/disable"), "user")
    assert world.call("GET", "/runs").status_code == 200


def test_inviting_a_disabled_member_is_422(world: World) -> None:
    email = world.call("GET", f"/users/{world.standard.user_id}").json()["data"]["email"]
    assert world.call("DELETE", f"/users/{world.standard.user_id}/disable").status_code == 200
    assert_invalid(world.call("POST", "/users/invite", json={"email": email}), "email")


def test_approve_answers_the_member_unchanged_and_is_admin_only(
    world: World, other_world: World
) -> None:
    path = f"/users/{world.light.user_id}/approve"
    before = world.call("GET", f"/users/{world.light.user_id}").json()["data"]
    approved = world.call("PUT", path)
    assert approved.status_code == 200, approved.text
    assert approved.json()["data"] == before
    assert world.call("PUT", path, world.standard).status_code == 403
    assert world.call("PUT", f"/users/{other_world.admin.user_id}/approve").status_code == 404


def member_changes(world: World, user_id: int) -> list[tuple[str | None, Any, Any]]:
    with UnitOfWork(world.factory, write=False) as uow:
        rows = uow.session.scalars(
            select(Activity)
            .where(Activity.org_id == world.org_id, Activity.object_id == str(user_id))
            .order_by(Activity.id)
        )
        return [(a.field, a.old_value, a.new_value) for a in rows if a.verb == "updated"]


def test_members_edit_their_own_profile(world: World) -> None:
    path = f"/users/{world.standard.user_id}"
    response = world.call(
        "PUT",
        path,
        world.standard,
        json={"first_name": "  Sam ", "last_name": "Ortiz", "timezone": "Europe/Paris"},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    names = (data["first_name"], data["last_name"], data["full_name"])
    assert names == ("Sam", "Ortiz", "Sam Ortiz")
    assert data["timezone"] == "Europe/Paris"
    assert set(data) == MEMBER_KEYS
    assert world.call("GET", path).json()["data"] == data
    again = world.call("PUT", path, world.standard, json={"last_name": "Ortiz"})
    assert again.json()["data"] == data
    assert [change[0] for change in member_changes(world, world.standard.user_id)] == [
        "first_name",
        "last_name",
        "timezone",
    ]


def test_profile_rights_and_validation(world: World, other_world: World) -> None:
    standard = f"/users/{world.standard.user_id}"
    assert world.call("PUT", standard, world.light, json={"first_name": "X"}).status_code == 403
    renamed = world.call("PUT", standard, json={"first_name": "By admin"})
    assert renamed.status_code == 200
    assert renamed.json()["data"]["first_name"] == "By admin"
    other = f"/users/{other_world.admin.user_id}"
    assert world.call("PUT", other, json={"first_name": "X"}).status_code == 404
    before = world.call("GET", standard).json()["data"]
    for body, field in [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"first_name": None}, "first_name"),
        ({"last_name": "x" * 101}, "last_name"),
        ({"first_name": 7}, "first_name"),
        ({"first_name": "Fine", "timezone": "nowhere"}, "timezone"),
    ]:
        assert_invalid(world.call("PUT", standard, json=body), field)
    assert world.call("GET", standard).json()["data"] == before
    assert world.call("PUT", "/users/invite", json={"first_name": "X"}).status_code == 405


def test_anyone_edits_their_own_profile_at_organizations_me(
    world: World, other_world: World
) -> None:
    """`PUT /organizations/{org}/me`: this organization's profile of the caller, no other."""
    email = world.call("GET", f"/users/{world.light.user_id}").json()["data"]["email"]
    invited = other_world.call("POST", "/users/invite", json={"email": email, "role": "light"})
    assert invited.status_code == 200, invited.text
    response = world.call(
        "PUT", "/me", world.light, json={"first_name": "Lia", "timezone": "Europe/Paris"}
    )
    assert response.status_code == 200, response.text
    body = response.json()["data"]
    assert (body["id"], body["first_name"], body["timezone"]) == (
        world.light.user_id,
        "Lia",
        "Europe/Paris",
    )
    assert world.call("GET", "/me", world.light).json()["data"] == body
    elsewhere = other_world.call("GET", f"/users/{world.light.user_id}").json()["data"]
    assert elsewhere["first_name"] != "Lia"
    refused = world.call("PUT", "/me", world.light, json={"timezone": "Mars/Olympus"})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"timezone"}
    assert world.call("GET", "/me", world.light).json()["data"]["timezone"] == "Europe/Paris"
