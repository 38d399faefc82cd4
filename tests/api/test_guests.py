"""`/organizations/{org}/guests`: the guest book, guest tokens and what they reach."""

from typing import Any
from unittest.mock import ANY

from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity, Task
from tests.factories import Member, World

GUEST_KEYS = {
    "id",
    "guest_id",
    "email",
    "first_name",
    "last_name",
    "full_name",
    "link",
    "last_accessed_at",
    "last_known_ip",
    "last_known_country",
    "created_at",
    "last_updated",
    "deleted_at",
    "disabled_at",
    "details",
}


def add(
    world: World, email: str = "Pat@Example.com", member: Member | None = None, **body: Any
) -> Any:
    return world.call("POST", "/guests", member, json={"email": email, **body})


def guest_member(token: str) -> Member:
    return Member(user_id=0, token=token)


def token_for(world: World, email: str) -> str:
    response = world.call("POST", f"/guests/{email}/token")
    assert response.status_code == 201, response.text
    token: str = response.json()["data"]["token"]
    return token


def activities(world: World, object_id: str) -> list[tuple[str, str | None]]:
    with UnitOfWork(world.factory, write=False) as uow:
        rows = uow.session.scalars(
            select(Activity)
            .where(Activity.org_id == world.org_id, Activity.object_id == object_id)
            .order_by(Activity.id)
        )
        return [(a.verb, a.field) for a in rows]


def test_create_returns_the_guest_in_tallyfy_shape(world: World) -> None:
    response = add(
        world, first_name="Pat", last_name="Lee", details={"company_name": "Acme", "x": 1}
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == GUEST_KEYS
    assert isinstance(data["id"], int)
    assert data["email"] == "pat@example.com"
    assert data["full_name"] == "Pat Lee"
    assert data["created_at"].endswith("Z")
    assert data["disabled_at"] is None
    assert data["details"]["company_name"] == "Acme"
    assert data["details"]["status"] == "active"
    assert "x" not in data["details"]
    assert data["link"].rstrip("/").split("/")[-2:] == ["guest", data["guest_id"]]
    assert data["guest_id"] == str(data["id"])
    assert activities(world, str(data["id"])) == [("created", None)]


def test_email_is_required_valid_and_unique(world: World) -> None:
    assert add(world).status_code == 201
    for body in ({}, {"email": None}, {"email": 5}, {"email": "not-an-email"}):
        response = world.call("POST", "/guests", json=body)
        assert response.status_code == 422, body
        assert "email" in response.json()["errors"]
    again = add(world, "PAT@example.com")
    assert again.status_code == 422
    assert again.json()["errors"]["email"] == ["The email has already been taken."]
    member_email = world.call("GET", "/me").json()["data"]["email"]
    assert add(world, member_email).status_code == 422


def test_get_update_list(world: World) -> None:
    add(world)
    add(world, "zed@example.com")
    got = world.call("GET", "/guests/pat%40example.com")
    assert got.status_code == 200
    assert got.json()["data"]["email"] == "pat@example.com"
    put = world.call(
        "PUT",
        "/guests/pat@example.com",
        json={"first_name": "Patricia", "details": {"phone_1": "1"}},
    )
    assert put.status_code == 200
    data = put.json()["data"]
    assert (data["first_name"], data["last_name"], data["details"]["phone_1"]) == (
        "Patricia",
        "",
        "1",
    )
    assert activities(world, str(data["id"]))[1:] == [
        ("updated", "first_name"),
        ("updated", "details"),
    ]
    everyone = world.call("GET", "/guests-list", world.light)
    assert everyone.status_code == 200
    assert [g["email"] for g in everyone.json()["data"]] == ["pat@example.com", "zed@example.com"]
    listing = world.call("GET", "/guests?per_page=1")
    assert listing.status_code == 200
    body = listing.json()
    assert [g["email"] for g in body["data"]] == ["pat@example.com"]
    assert body["meta"]["pagination"]["total"] == 2
    assert body["meta"]["pagination"]["total_pages"] == 2


def test_unknown_and_other_org_guests_are_not_found(world: World, other_world: World) -> None:
    add(other_world, "far@example.com")
    for method in ("GET", "PUT", "DELETE"):
        response = world.call(method, "/guests/far@example.com", json={})
        assert response.status_code == 404
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    assert world.call("DELETE", "/guests/nobody@example.com/disable").status_code == 404
    assert world.call("POST", "/guests/nobody@example.com/token").status_code == 404


def test_role_matrix(world: World) -> None:
    assert add(world, "l@example.com", world.light).status_code == 403
    assert add(world, "s@example.com", world.standard).status_code == 201
    assert world.call("GET", "/guests", world.light).status_code == 200
    assert world.call("GET", "/guests/s@example.com", world.light).status_code == 200
    assert world.call("PUT", "/guests/s@example.com", world.light, json={}).status_code == 403
    assert world.call("PUT", "/guests/s@example.com", world.standard, json={}).status_code == 200
    assert world.call("POST", "/guests/s@example.com/token", world.light).status_code == 403
    assert world.call("POST", "/guests/s@example.com/token", world.standard).status_code == 201
    for member in (world.light, world.standard):
        assert world.call("DELETE", "/guests/s@example.com/disable", member).status_code == 403
        assert world.call("DELETE", "/guests/s@example.com", member).status_code == 403


def test_disable_enable_delete(world: World) -> None:
    guest_id = add(world).json()["data"]["id"]
    token = token_for(world, "pat@example.com")
    me = guest_member(token)
    assert world.call("GET", "/guest-tasks", me).status_code == 200
    off = world.call("DELETE", "/guests/pat@example.com/disable")
    assert off.status_code == 200
    assert off.json()["data"]["disabled_at"] is not None
    assert off.json()["data"]["details"]["status"] == "disabled"
    assert world.call("DELETE", "/guests/pat@example.com/disable").status_code == 200
    assert world.call("GET", "/guest-tasks", me).status_code == 401
    assert world.call("POST", "/guests/pat@example.com/token").status_code == 422
    on = world.call("PUT", "/guests/pat@example.com/enable")
    assert on.status_code == 200
    assert on.json()["data"]["disabled_at"] is None
    assert on.json()["data"]["details"]["reactivated_by"] == world.admin.user_id
    assert world.call("GET", "/guest-tasks", me).status_code == 200
    gone = world.call("DELETE", "/guests/pat@example.com")
    assert gone.status_code == 200  # Tallyfy answers the deleted guest, not 204
    assert set(gone.json()) == {"data"}
    assert gone.json()["data"] == {**on.json()["data"], "last_updated": ANY}
    assert world.call("GET", "/guests/pat@example.com").status_code == 404
    assert world.call("GET", "/guest-tasks", me).status_code == 401
    verbs = [verb for verb, _ in activities(world, str(guest_id))]
    assert verbs == ["created", "invited", "disabled", "enabled", "deleted"]


def test_guest_token_reaches_only_its_own_tasks(world: World, other_world: World) -> None:
    checklist = world.template(
        steps=[{"title": "Sign", "guests": ["pat@example.com"]}, {"title": "Internal"}]
    )
    run = world.launch(checklist)
    add(world)
    me = guest_member(token_for(world, "pat@example.com"))
    response = world.call("GET", "/guest-tasks", me)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [t["title"] for t in body["data"]] == ["Sign"]
    assert body["data"][0]["run_id"] == run["id"]
    assert body["data"][0]["owners"]["guests"] == ["pat@example.com"]
    assert body["meta"]["pagination"]["total"] == 1
    # member routes do not take guest tokens
    for path in ("/runs", f"/runs/{run['id']}", "/guests", "/me"):
        denied = world.call("GET", path, me)
        assert denied.status_code == 401, path
        assert denied.json()["code"] == "UNAUTHENTICATED"
    # nor does another organization
    assert other_world.call("GET", "/guest-tasks", me).status_code == 403
    # and the guest list is for guests only
    assert world.call("GET", "/guest-tasks").status_code == 403


def test_archived_run_hides_its_tasks_from_the_guest(world: World) -> None:
    run = world.launch(world.template(steps=[{"title": "Sign", "guests": ["pat@example.com"]}]))
    add(world)
    me = guest_member(token_for(world, "pat@example.com"))
    assert world.call("DELETE", f"/runs/{run['id']}").status_code == 200
    assert world.call("GET", "/guest-tasks", me).json()["data"] == []
    with UnitOfWork(world.factory, write=False) as uow:
        assert uow.session.scalar(select(Task.id).where(Task.run_id == run["id"])) is not None


def test_sdk_style_phone_and_company_land_in_details(world: World) -> None:
    body = {"email": "sdk@example.com", "first_name": "S", "last_name": "D", "phone": "+1 555"}
    created = world.call("POST", "/guests", json={**body, "company_name": "Acme"})
    assert created.status_code == 201
    details = created.json()["data"]["details"]
    assert (details["phone_1"], details["company_name"]) == ("+1 555", "Acme")
    assert (details["first_name"], details["last_name"]) == ("S", "D")
    updated = world.call("PUT", "/guests/sdk@example.com", json={"company_name": "Beta"})
    assert updated.json()["data"]["details"]["company_name"] == "Beta"
    assert updated.json()["data"]["details"]["phone_1"] == "+1 555"


def test_members_read_a_guests_tasks_by_id_or_email(world: World, other_world: World) -> None:
    world.launch(world.template(steps=[{"title": "Sign", "guests": ["pat@example.com"]}]))
    guest_id = add(world).json()["data"]["guest_id"]
    by_id = world.call("GET", f"/guests/{guest_id}/tasks?status=all&with=run")
    assert by_id.status_code == 200, by_id.text
    assert [t["title"] for t in by_id.json()["data"]] == ["Sign"]
    by_email = world.call("GET", "/guests/pat@example.com/tasks", world.standard)
    assert by_email.json()["data"] == by_id.json()["data"]
    assert world.call("GET", "/guests/pat@example.com/tasks?status=complete").json()["data"] == []
    assert world.call("GET", "/guests/pat@example.com/tasks?status=odd").status_code == 422
    assert world.call("GET", f"/guests/{guest_id}/tasks", world.light).status_code == 403
    assert other_world.call("GET", f"/guests/{guest_id}/tasks").status_code == 404
