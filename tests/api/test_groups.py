"""`/organizations/{org}/groups`: shapes, replace semantics, validation, roles, tenancy."""

from typing import Any
from uuid import uuid4

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Guest
from tests.factories import World

GROUP_KEYS = {
    "id",
    "name",
    "description",
    "logo",
    "members",
    "guests",
    "created_at",
    "last_updated",
    "updated_at",
    "deleted_at",
}


def guest(world: World, email: str | None = None) -> str:
    """A guest stored directly (the guests API has its own tests)."""
    address = email or f"guest-{uuid4().hex[:8]}@example.com"
    with UnitOfWork(world.factory, write=True) as uow:
        uow.session.add(Guest(org_id=world.org_id, email=address))
    return address


def create(world: World, member: Any = None, **body: Any) -> Any:
    return world.call("POST", "/groups", member, json={"name": f"g-{uuid4().hex[:8]}", **body})


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert field in body["errors"], body["errors"]


def test_create_returns_201_with_the_documented_shape(world: World) -> None:
    email = guest(world)
    response = world.call(
        "POST",
        "/groups",
        json={
            "name": "Reviewers",
            "description": "People who review",
            "logo": "https://example.com/l.png",
            "members": [world.standard.user_id, world.light.user_id],
            "guests": [email],
        },
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == GROUP_KEYS
    assert len(data["id"]) == 32
    assert data["name"] == "Reviewers"
    assert data["description"] == "People who review"
    assert data["logo"] == "https://example.com/l.png"
    assert data["members"] == [world.standard.user_id, world.light.user_id]
    assert data["guests"] == [email]
    assert data["created_at"].endswith("Z")
    assert data["deleted_at"] is None
    assert world.call("GET", f"/groups/{data['id']}").json() == {"data": data}


def test_list_is_paginated_exactly(world: World) -> None:
    for _ in range(3):
        assert create(world).status_code == 201
    body = world.call("GET", "/groups?per_page=2&page=2").json()
    assert body["meta"]["pagination"]["total"] == 3
    assert body["meta"]["pagination"]["total_pages"] == 2
    assert body["meta"]["pagination"]["count"] == 1
    assert set(body["data"][0]) == GROUP_KEYS


def test_update_is_partial_and_lists_replace(world: World) -> None:
    first, second = guest(world), guest(world)
    group = create(
        world, description="Keep me", members=[world.standard.user_id], guests=[first]
    ).json()["data"]
    response = world.call(
        "PUT", f"/groups/{group['id']}", json={"members": [world.light.user_id], "guests": [second]}
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["name"] == group["name"]
    assert data["description"] == "Keep me"
    assert data["members"] == [world.light.user_id]
    assert data["guests"] == [second]
    cleared = world.call("PUT", f"/groups/{group['id']}", json={"members": [], "guests": []})
    assert cleared.json()["data"]["members"] == []
    assert cleared.json()["data"]["guests"] == []


def test_name_required_and_unique(world: World) -> None:
    assert_invalid(world.call("POST", "/groups", json={}), "name")
    assert_invalid(world.call("POST", "/groups", json={"name": "  "}), "name")
    assert create(world, name="Team").status_code == 201
    assert_invalid(create(world, name="team"), "name")
    other = create(world).json()["data"]
    assert_invalid(world.call("PUT", f"/groups/{other['id']}", json={"name": "Team"}), "name")


def test_unknown_members_and_guests_are_422_and_nothing_is_written(
    world: World, other_world: World
) -> None:
    stranger = guest(other_world)
    response = create(world, name="Bad", members=[other_world.admin.user_id], guests=[stranger])
    assert_invalid(response, "members.0")
    assert "guests.0" in response.json()["errors"]
    assert world.call("GET", "/groups").json()["meta"]["pagination"]["total"] == 0


def test_delete_is_204_then_404(world: World) -> None:
    group = create(world).json()["data"]
    assert world.call("DELETE", f"/groups/{group['id']}").status_code == 204
    assert world.call("GET", f"/groups/{group['id']}").status_code == 404
    assert world.call("DELETE", f"/groups/{group['id']}").status_code == 404


def test_other_organizations_group_is_404(world: World, other_world: World) -> None:
    group = create(other_world).json()["data"]
    for method in ("GET", "PUT", "DELETE"):
        response = world.call(method, f"/groups/{group['id']}", json={"name": "x"})
        assert response.status_code == 404
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"


def test_light_members_read_but_cannot_write(world: World) -> None:
    group = create(world).json()["data"]
    assert world.call("GET", "/groups", world.light).status_code == 200
    assert world.call("GET", f"/groups/{group['id']}", world.light).status_code == 200
    assert create(world, world.light).status_code == 403
    assert world.call("PUT", f"/groups/{group['id']}", world.light, json={}).status_code == 403
    assert world.call("DELETE", f"/groups/{group['id']}", world.light).status_code == 403
    assert create(world, world.standard).status_code == 201


def test_huge_member_id_is_422(world: World) -> None:
    assert_invalid(create(world, members=[2**40]), "members.0")


def test_deleting_a_group_takes_it_off_runs(world: World) -> None:
    kept, doomed = create(world).json()["data"]["id"], create(world).json()["data"]["id"]
    run = world.launch(world.template(), groups=[kept, doomed])
    assert run["groups"] == [kept, doomed]
    assert world.call("DELETE", f"/groups/{doomed}").status_code == 204
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["groups"] == [kept]
