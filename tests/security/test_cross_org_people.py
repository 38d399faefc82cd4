"""Two organizations that share people: neither reads nor changes what the other sees.

A person is a member of several organizations; each organization keeps its own profile of
them (names, time zone), role and state. Organizations A and B below share four people, in
every role on each side, and a guest e-mail. Each organization marks every profile it holds
with values of its own (`Amark…`/`Bmark…` names, a time zone nobody else uses), then every
route of the app's route table is called in one organization by every kind of caller there
(admin, standard, light, guest, and the shared people in each role): no answer holds a
value of the other organization, and after every write the other organization's view of
its people, groups, guests, tasks and trail is what it was before.

The organization-less routes (`/me`, `/me/organizations`, `/me/tasks`) show a person their
own memberships; they are checked on their own at the end.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from procflow.domain.permissions import Role
from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.database import make_session_factory
from tests.factories import Member, Objects, World, populate
from tests.security.route_table import Endpoint, served_endpoints
from tests.security.test_route_matrix import ROUTES

O = "/organizations/{org_id}"  # noqa: E741
ZONES = {"A": "Pacific/Kiritimati", "B": "America/Adak"}
PEOPLE = re.compile(r"/(users|users-list|me|guests|guest-tasks|groups|comment|tasks)(/|$)")
"""Writes on these paths change a person, a membership, a token or who holds something."""

APP_ROUTES = {e.key: e for e in served_endpoints()}
SCOPED = sorted(key for key in APP_ROUTES if key[1].startswith(O) and key in ROUTES)
READS = [key for key in SCOPED if key[0] == "GET"]
WRITES = sorted(
    (
        key
        for key in SCOPED
        if key[0] != "GET" and (PEOPLE.search(key[1]) or key[1] == O + "/runs/{run_id}")
    ),
    key=lambda key: (key[0] == "DELETE", key),
)
SIDES = ("A", "B")


def label(value: Any) -> str:
    return f"{value[0]} {value[1]}" if isinstance(value, tuple) else str(value)


@dataclass
class Side:
    """One organization: its world, its objects, the callers it has and the values it set."""

    world: World
    objects: Objects
    callers: dict[str, Member] = field(default_factory=dict)
    marks: list[str] = field(default_factory=list)
    own_emails: list[str] = field(default_factory=list)
    target: int = 0  # a person this organization shares with the other one

    def call(self, method: str, path: str, member: Member | None = None, **kw: Any) -> Any:
        return self.world.call(method, path, member, **kw)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        response = self.call(method, path, **kw)
        assert response.status_code in (200, 201), response.text
        return response.json()["data"]

    def view(self) -> list[Any]:
        """What this organization's admin sees of its people, groups, guests, tasks, trail."""
        paths = [
            "/users-list",
            "/me",
            "/groups?per_page=100",
            "/guests-list",
            "/tasks?per_page=100",
            f"/tasks/{self.objects.ids['task_id']}/comments",
            "/activity-feeds?per_page=100",
        ]
        return [self.call("GET", path).json() for path in paths]


@dataclass
class Pair:
    sides: dict[str, Side]

    def other(self, name: str) -> Side:
        return self.sides["B" if name == "A" else "A"]


def email_of(side: Side, user_id: int) -> str:
    email: str = side.ok("GET", f"/users/{user_id}")["email"]
    return email


def mark(side: Side, name: str, user_id: int) -> None:
    """Give `user_id` this organization's marker profile."""
    tag = f"{name}mark{uuid4().hex[:10]}"
    body = {"first_name": f"{tag}f", "last_name": f"{tag}l", "timezone": ZONES[name]}
    assert side.ok("PUT", f"/users/{user_id}", json=body)["first_name"] == f"{tag}f"
    side.marks += [f"{tag}f", f"{tag}l"]


@pytest.fixture(scope="module")
def pair(engine: Engine, client: TestClient) -> Pair:
    """The pair every test shares but the deletes: nothing done to it removes an object."""
    return make_pair(engine, client)


@pytest.fixture(scope="module")
def pair_to_delete_from(engine: Engine, client: TestClient) -> Callable[[tuple[str, str]], Pair]:
    """A pair of its own for each deleting (or member/guest converting) route, so that in
    any order of the tests no other test finds its objects gone; both sides of one route
    share it, as each deletes only in its own organization."""
    made: dict[tuple[str, str], Pair] = {}

    def get(key: tuple[str, str]) -> Pair:
        if key not in made:
            made[key] = make_pair(engine, client)
        return made[key]

    return get


def make_pair(engine: Engine, client: TestClient) -> Pair:
    factory = make_session_factory(engine)
    sides = {}
    for name in SIDES:
        world = World.create(factory, client)
        sides[name] = Side(world, populate(world))
    a, b = sides["A"], sides["B"]
    # A's admin, standard and light join B as light, standard and admin; B's join A as
    # standard, light and admin: each side has a shared person in every role.
    for source, target, role_there in (
        (a, b, ("admin", "light")),
        (a, b, ("standard", "standard")),
        (a, b, ("light", "admin")),
        (b, a, ("admin", "standard")),
        (b, a, ("standard", "light")),
        (b, a, ("light", "admin")),
    ):
        home_role, role = role_there
        member: Member = getattr(source.world, home_role)
        email = email_of(source, member.user_id)
        invited = target.ok("POST", "/users/invite", json={"email": email, "role": role})
        assert invited["id"] == member.user_id
        target.callers[f"shared-{role[0].upper()}"] = member
    a.target, b.target = b.world.admin.user_id, a.world.admin.user_id
    # a person only each side knows; A's guest e-mail, and B's which is a guest of A's too
    a.own_emails.append(a.objects.guest_email)
    for name, side in sides.items():
        only = f"{name.lower()}-only-{uuid4().hex[:8]}@example.com"
        side.ok("POST", "/users/invite", json={"email": only})
        side.own_emails.append(only)
        side.marks += [*side.objects.names, ZONES[name]]
        world = side.world
        side.callers.update(
            admin=world.admin, standard=world.standard, light=world.light, guest=side.objects.guest
        )
    a.ok("POST", "/guests", json={"email": b.objects.guest_email, "first_name": "Amarkguest"})
    a.marks.append("Amarkguest")
    for name, side in sides.items():
        for item in side.ok("GET", "/users-list"):
            mark(side, name, item["id"])
    # the shared people act in the organization they joined: the trail names them
    for there in sides.values():
        for key, member in there.callers.items():
            if key.startswith("shared"):
                path = f"/tasks/{there.objects.ids['task_id']}/comment"
                there.call("POST", path, member, json={"content": f"from {key}"})
        group = there.objects.ids["group_id"]
        sharers = [m.user_id for k, m in there.callers.items() if k.startswith("shared")]
        there.ok("PUT", f"/groups/{group}", json={"members": sharers})
    return Pair(sides)


def assert_nothing_of(response: Any, other: Side, context: object) -> None:
    assert response.status_code < 500, (context, response.text[:300])
    for secret in other.marks + other.own_emails:
        assert secret not in response.text, (context, secret, response.text[:300])


def ids_for(side: Side, key: tuple[str, str], caller: str) -> dict[str, str]:
    ids = dict(side.objects.ids)
    ids.update({param: ids[source] for param, source in ROUTES[key].remap.items()})
    ids["user_id"] = str(side.target)
    if caller == "guest":
        ids["task_id"] = ids["guest_task_id"]
    return ids


BODIES: dict[tuple[str, str], Callable[[dict[str, str], str], dict[str, Any]]] = {
    ("PUT", O + "/users/{user_id}"): lambda _i, n: {
        "first_name": f"Defaced{n}",
        "last_name": f"Defaced{n}",
        "timezone": ZONES[n],
    },
    ("PUT", O + "/runs/{run_id}"): lambda i, _n: {"users": [int(i["user_id"])]},
    ("POST", O + "/tasks"): lambda i, _n: {
        "title": "Shared",
        "owners": {"users": [int(i["user_id"])]},
        "deadline": "2030-05-01T12:00:00Z",
    },
    ("PUT", O + "/tasks/{task_id}"): lambda i, _n: {"owners": {"users": [int(i["user_id"])]}},
    ("PUT", O + "/runs/{run_id}/tasks/{task_id}"): lambda i, _n: {
        "owners": {"users": [int(i["user_id"])]}
    },
    ("POST", O + "/groups"): lambda i, n: {
        "name": f"{n}group{uuid4().hex[:6]}",
        "members": [int(i["user_id"])],
    },
    ("PUT", O + "/groups/{group_id}"): lambda i, _n: {"members": [int(i["user_id"])]},
    ("PUT", O + "/guests/{email}"): lambda _i, n: {"first_name": f"Defaced{n}"},
}


def body_for(key: tuple[str, str], ids: dict[str, str], side: str) -> Any:
    if key in BODIES:
        return BODIES[key](ids, side)
    policy = ROUTES[key]
    return policy.body(ids) if policy.body else None


def call_as_everyone(side: Side, name: str, key: tuple[str, str]) -> list[tuple[str, Any]]:
    endpoint: Endpoint = APP_ROUTES[key]
    answers = []
    for caller, member in sorted(side.callers.items()):
        ids = ids_for(side, key, caller)
        response = side.world.client.request(
            key[0], endpoint.url(ids), headers=member.headers, json=body_for(key, ids, name)
        )
        answers.append((caller, response))
    return answers


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize("key", READS, ids=label)
def test_no_read_shows_the_other_organizations_people(
    pair: Pair, key: tuple[str, str], name: str
) -> None:
    side, other = pair.sides[name], pair.other(name)
    answers = call_as_everyone(side, name, key)
    for caller, response in answers:
        assert_nothing_of(response, other, (name, caller))
    assert any(response.status_code == 200 for _, response in answers), "nobody may read it?"


@pytest.mark.parametrize("name", SIDES)
@pytest.mark.parametrize("key", WRITES, ids=label)
def test_no_write_changes_the_other_organizations_view(
    pair: Pair,
    pair_to_delete_from: Callable[[tuple[str, str]], Pair],
    key: tuple[str, str],
    name: str,
) -> None:
    converts = key[1].endswith(("/to/guest", "/to/member"))
    if key[0] == "DELETE" or converts:
        pair = pair_to_delete_from(key)
    side, other = pair.sides[name], pair.other(name)
    before = other.view()
    for caller, response in call_as_everyone(side, name, key):
        assert_nothing_of(response, other, (name, caller))
    assert other.view() == before
    if not converts:  # a converted member is a guest now: nothing to enable
        side.ok("PUT", f"/users/{side.target}/enable")


def test_the_reported_defacement_changes_only_the_editing_organization(pair: Pair) -> None:
    a, b = pair.sides["A"], pair.sides["B"]
    victim = a.world.admin.user_id
    before = a.ok("GET", f"/users/{victim}")
    # a zone neither side marks with: B's own trail keeps it, and A's must not show it
    body = {"first_name": "Defaced", "timezone": "Asia/Kathmandu"}
    edited = b.ok("PUT", f"/users/{victim}", json=body)
    assert (edited["first_name"], edited["timezone"]) == ("Defaced", "Asia/Kathmandu")
    assert a.ok("GET", f"/users/{victim}") == before
    mine = a.ok("GET", "/me")
    assert (mine["first_name"], mine["timezone"]) == (before["first_name"], ZONES["A"])
    b.ok("PUT", f"/users/{victim}", json={"timezone": ZONES["B"]})


@pytest.mark.parametrize("names", [{}, {"first_name": "Ivy", "last_name": "Newman"}])
def test_an_invitation_answers_alike_for_a_known_and_an_unknown_email(
    pair: Pair, names: dict[str, str]
) -> None:
    a, b = pair.sides["A"], pair.sides["B"]
    known = a.ok("POST", "/users/invite", json={"email": f"k-{uuid4().hex[:8]}@example.com"})
    mark(a, "A", known["id"])
    a_view = a.ok("GET", f"/users/{known['id']}")
    answers = []
    for email in (known["email"], f"invitee-{uuid4().hex[:8]}@example.com"):
        response = b.call(
            "POST", "/users/invite", json={"email": email, "role": "standard", **names}
        )
        assert response.status_code == 200, response.text
        assert_nothing_of(response, a, email)
        answers.append(response.json())
    (first, second) = answers
    assert set(first) == set(second) == {"data"}
    assert set(first["data"]) == set(second["data"])
    varying = {"id", "email", "username", "first_name", "full_name", "created_at", "approved_at"}
    assert {k: v for k, v in first["data"].items() if k not in varying} == {
        k: v for k, v in second["data"].items() if k not in varying
    }
    for data in (first["data"], second["data"]):
        low, high = organizations.PERSON_IDS  # random ids: an old person's is no smaller
        assert low <= data["id"] < high
        local_part = data["email"].split("@")[0]
        expected = names.get("first_name", local_part)
        assert data["first_name"] == expected
        assert data["timezone"] == "UTC"
        assert data["created_at"] == data["approved_at"]
    assert a.ok("GET", f"/users/{known['id']}") == a_view


def test_adding_a_known_person_from_the_command_line_copies_nothing(pair: Pair) -> None:
    """`procflow users add` (an operator's command) gives the new membership the profile of a
    new person too, and leaves the other organization's alone."""
    a, b = pair.sides["A"], pair.sides["B"]
    known = a.ok("POST", "/users/invite", json={"email": f"cli-{uuid4().hex[:8]}@example.com"})
    mark(a, "A", known["id"])
    a_view = a.ok("GET", f"/users/{known['id']}")
    with UnitOfWork(b.world.factory, write=True) as uow:
        creds = organizations.add_member(
            uow, org_id=b.world.org_id, email=known["email"], role=Role.LIGHT
        )
    assert creds.user_id == known["id"]
    there = b.ok("GET", f"/users/{known['id']}")
    assert (there["first_name"], there["last_name"], there["timezone"]) == (
        known["email"].split("@")[0],
        "",
        "UTC",
    )
    assert a.ok("GET", f"/users/{known['id']}") == a_view


def test_a_shared_persons_own_routes_show_their_memberships(pair: Pair) -> None:
    """`/organizations/{org}/me` is the person as that organization has them; `/me`, which
    names no organization, as their first organization (of `/me/organizations`) has them."""
    a, b = pair.sides["A"], pair.sides["B"]
    person = b.callers["shared-A"]  # A's light member, B's admin
    in_a = a.call("GET", "/me", person).json()["data"]
    in_b = b.call("GET", "/me", person).json()["data"]
    assert (in_a["role"], in_b["role"]) == ("light", "admin")
    assert (in_a["timezone"], in_b["timezone"]) == (ZONES["A"], ZONES["B"])
    assert in_a["first_name"] in a.marks
    assert in_b["first_name"] in b.marks
    headers = person.headers
    me = a.world.client.get("/me", headers=headers).json()["data"]
    assert me == in_a | {"role": None}
    orgs = a.world.client.get("/me/organizations", headers=headers).json()["data"]
    assert [o["id"] for o in orgs] == [a.world.org_id, b.world.org_id]
    before = a.view()
    edited = b.call("PUT", f"/users/{person.user_id}", person, json={"first_name": "Myself"})
    assert edited.json()["data"]["first_name"] == "Myself"
    assert a.view() == before
    assert a.world.client.get("/me", headers=headers).json()["data"] == me


def test_joining_an_older_organization_leaves_me_as_it_was(pair: Pair) -> None:
    """`/me` is the first organization the person joined: an invitation from an organization
    that is older (or from any other) does not change what the person sees of themself."""
    a, b = pair.sides["A"], pair.sides["B"]
    email = f"late-{uuid4().hex[:8]}@example.com"
    person = b.ok("POST", "/users/invite", json={"email": email})["id"]
    mark(b, "B", person)
    with UnitOfWork(b.world.factory, write=True) as uow:
        _, token = organizations.create_token(uow, email=email)
    headers = Member(person, token).headers
    me = b.world.client.get("/me", headers=headers).json()["data"]
    assert me["timezone"] == ZONES["B"]
    a.ok("POST", "/users/invite", json={"email": email})  # A is the older organization
    mark(a, "A", person)
    assert b.world.client.get("/me", headers=headers).json()["data"] == me
    orgs = b.world.client.get("/me/organizations", headers=headers).json()["data"]
    assert [o["id"] for o in orgs] == [b.world.org_id, a.world.org_id]
