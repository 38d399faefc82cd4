"""`PUT /users/{id}/to/guest` and `POST /guests/{email}/to/member`, at Tallyfy's paths."""

from typing import Any
from uuid import uuid4

from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Step
from tests.factories import Member, World


def task_owners(world: World, run_id: str) -> list[dict[str, Any]]:
    return [t["owners"] for t in world.call("GET", f"/runs/{run_id}/tasks").json()["data"]]


def ids(users: list[Any]) -> list[int]:
    return [u if isinstance(u, int) else u["id"] for u in users]


def email_of(world: World, user_id: int) -> str:
    email: str = world.call("GET", f"/users/{user_id}").json()["data"]["email"]
    return email


def test_member_becomes_a_guest_keeping_open_tasks_by_email(world: World) -> None:
    std = world.standard.user_id
    email = email_of(world, std)
    template = world.template(steps=[{"title": "Std", "assignees": [std]}, {"title": "Other"}])
    run = world.launch(template)
    group = world.call("POST", "/groups", json={"name": "Team", "members": [std]})
    response = world.call("PUT", f"/users/{std}/to/guest")
    assert response.status_code == 200, response.text
    guest = response.json()["data"]
    assert guest["email"] == email
    gone = world.call("GET", f"/users/{std}")
    assert gone.status_code == 404
    assert world.call("GET", f"/guests/{email}").status_code == 200
    first = task_owners(world, run["id"])[0]
    assert std not in ids(first["users"])
    assert first["guests"] == [email]
    members = world.call("GET", f"/groups/{group.json()['data']['id']}").json()["data"]["members"]
    assert std not in members
    with UnitOfWork(world.factory, write=False) as uow:
        step = uow.session.scalars(
            select(Step).where(Step.checklist_id == template).order_by(Step.position)
        ).first()
        assert step is not None
        assert (step.assignees, step.guests) == ([], [email])
    refused = world.call("GET", "/runs", world.standard)
    assert refused.status_code == 403
    assert world.call("GET", "/activity-feeds?per_page=100").status_code == 200


def test_member_to_guest_refusals(world: World) -> None:
    for member in (world.standard, world.light):
        assert (
            world.call("PUT", f"/users/{world.light.user_id}/to/guest", member).status_code == 403
        )
    itself = world.call("PUT", f"/users/{world.admin.user_id}/to/guest")
    assert itself.status_code == 422
    assert "user" in itself.json()["errors"]
    assert world.call("PUT", "/users/2147483000/to/guest").status_code == 404
    assert len(world.call("GET", "/users").json()["data"]) == 3
    assert world.call("GET", "/guests").json()["data"] == []


def test_guest_becomes_a_member_with_their_tasks(world: World) -> None:
    email = f"pat-{uuid4().hex[:8]}@example.com"
    created = world.call("POST", "/guests", json={"email": email, "first_name": "Pat"})
    assert created.status_code == 201
    token = world.call("POST", f"/guests/{email}/token").json()["data"]["token"]
    template = world.template(steps=[{"title": "Guest's", "guests": [email]}])
    run = world.launch(template)
    assert task_owners(world, run["id"])[0]["guests"] == [email]
    response = world.call("POST", f"/guests/{email}/to/member")
    assert response.status_code == 200, response.text
    member = response.json()["data"]
    assert (member["email"], member["role"], member["first_name"]) == (email, "light", "Pat")
    assert member["status"] == "active"
    first = task_owners(world, run["id"])[0]
    assert first["guests"] == []
    assert ids(first["users"]) == [member["id"]]
    assert world.call("GET", f"/guests/{email}").status_code == 404
    guest_headers = Member(0, token).headers
    assert world.client.get("/guest-tasks", headers=guest_headers).status_code in (401, 404)
    with UnitOfWork(world.factory, write=False) as uow:
        step = uow.session.scalars(select(Step).where(Step.checklist_id == template)).one()
        assert (step.assignees, step.guests) == ([member["id"]], [])


def test_guest_to_member_is_admin_only(world: World) -> None:
    email = f"sam-{uuid4().hex[:8]}@example.com"
    world.call("POST", "/guests", json={"email": email})
    for member in (world.standard, world.light):
        refused = world.call("POST", f"/guests/{email}/to/member", member)
        assert refused.status_code == 403
    assert world.call("GET", f"/guests/{email}").status_code == 200
    response = world.call("POST", f"/guests/{email}/to/member")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["role"] == "light"
    assert world.call("POST", "/guests/nobody%40example.com/to/member").status_code == 404


def test_round_trip_member_guest_member(world: World) -> None:
    std = world.standard.user_id
    email = email_of(world, std)
    assert world.call("PUT", f"/users/{std}/to/guest").status_code == 200
    back = world.call("POST", f"/guests/{email}/to/member")
    assert back.status_code == 200, back.text
    assert back.json()["data"]["id"] == std  # the same person, with the same tokens
    assert world.call("PUT", f"/users/{std}/role", json={"role": "standard"}).status_code == 200
    assert world.call("GET", "/runs", world.standard).status_code == 200
