"""Cross-tenant and role matrix over every route of the app.

The routes come from the app's own route table; `ROUTES` below classifies each one (who may
call it, whether it is scoped to an organization, and a valid body). A route missing from
`ROUTES` fails `test_every_route_is_classified` until someone classifies it here.

Cross-tenant: with organization A's tokens, B's `org_id` is a 403; A's `org_id` with B's
object ids is a 404 whose body is byte-for-byte the one a random id gets; nothing of B
(ids, names) appears in any answer. Roles: each role's token is allowed or refused as the
roles table in decisions.md says (for the objects `tests.factories.populate` makes: the
admin owns everything, the light member and a guest hold a task each); a refused write
changes nothing a client can see.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine

from procflow.storage.database import make_session_factory
from tests.factories import Member, Objects, World, populate
from tests.security.route_table import API_PREFIX, Endpoint, mounted, served_app, served_endpoints

Body = Callable[[dict[str, str]], dict[str, Any]]
O = "/organizations/{org_id}"  # noqa: E741


Prepare = Callable[[World, dict[str, str]], dict[str, str]]


@dataclass(frozen=True)
class Policy:
    """Who may call a route: any of A(dmin), S(tandard), L(ight), G(uest token); `*` is
    anyone, even without a token.

    `body` builds a valid body from the ids; `remap` points a path parameter at another
    object (`task_id` of a one-off route names the one-off task); `prepare` runs as the
    admin first to put the object in the state the route needs (a task to reopen must be
    completed) and may add ids; `absent_ok` marks deletes that answer an unknown id like a
    success (idempotent); `per_item` marks bulk routes that answer 200 with one status per
    item, where the refusal is the item's.
    """

    roles: str
    scoped: bool = True
    body: Body | None = None
    remap: dict[str, str] = field(default_factory=dict)
    prepare: Prepare | None = None
    absent_ok: bool = False
    per_item: bool = False


@dataclass(frozen=True)
class Multipart:
    """A multipart upload body: text fields and one file in the part `name`."""

    fields: dict[str, str]


def upload_for_guest_field(ids: dict[str, str]) -> Any:
    fields = {
        "uploaded_from": ids["capture_id"],
        "subject_type": "Run",
        "subject_id": ids["run_id"],
    }
    return Multipart(fields)


def same(body: dict[str, Any]) -> Body:
    return lambda _ids: body


def admin_call(method: str, path: str, body: Body | None = None, key: str = "") -> Prepare:
    """A preparation step: `path` (ids filled in) called by the admin; `key` keeps the new
    object's id under that name."""

    def prepare(world: World, ids: dict[str, str]) -> dict[str, str]:
        response = world.call(method, path.format(**ids), json=body(ids) if body else None)
        assert response.status_code < 300, response.text
        return {key: response.json()["data"]["id"]} if key else {}

    return prepare


COMPLETE_RUN_TASK = admin_call(
    "POST", "/runs/{run_id}/completed-tasks", lambda i: {"task_id": i["task_id"]}
)
COMPLETE_ONEOFF = admin_call("POST", "/completed-tasks", lambda i: {"task_id": i["oneoff_task_id"]})
REPORT_PROBLEM = admin_call(
    "POST", "/tasks/{task_id}/problem", same({"content": "Stuck"}), key="thread_id"
)


WATCHER = {
    "object_type": "organization",
    "notification_type": "webhook",
    "frequency": "electric",
    "webhook": "https://hooks.example.com/n8n",
}


def admins_watcher(world: World, ids: dict[str, str]) -> dict[str, str]:
    response = world.call("POST", f"/users/{world.admin.user_id}/add-watcher", json=WATCHER)
    assert response.status_code == 201, response.text
    return {"watcher_id": str(response.json()["data"]["id"])}


def rule_body(ids: dict[str, str]) -> dict[str, Any]:
    """An automation rule of the template: a harmless deadline shift once a step is done."""
    step = ids["step_id"]
    return {
        "conditions": [
            {"conditionable_type": "Step", "conditionable_id": step, "operation": "completed"}
        ],
        "then_actions": [
            {"action_type": "deadline", "action_verb": "shift", "target_step_id": step,
             "deadline": {"value": 0, "unit": "days"}}
        ],
    }  # fmt: skip


ADD_RULE = admin_call(
    "POST", "/checklists/{checklist_id}/automated-actions", rule_body, key="automation_id"
)
RUN_TASK = {"task_id": "task_id"}
ONEOFF = {"task_id": "oneoff_task_id"}
ROUTES: dict[tuple[str, str], Policy] = {
    ("GET", "/health"): Policy("*", scoped=False),
    ("GET", "/healthz"): Policy("*", scoped=False),
    ("GET", "/readyz"): Policy("*", scoped=False),
    ("GET", "/metrics"): Policy("*", scoped=False),
    # the caller, not scoped to one organization
    ("GET", "/me"): Policy("ASL", scoped=False),
    ("GET", "/me/organizations"): Policy("ASL", scoped=False),
    ("GET", "/me/tasks"): Policy("ASL", scoped=False),
    ("GET", O + "/me"): Policy("ASL"),
    ("PUT", O + "/me"): Policy("ASL", body=same({})),
    ("GET", O + "/me/tasks"): Policy("ASL"),
    ("GET", O): Policy("ASL"),
    # runs
    ("GET", O + "/runs"): Policy("ASL"),
    ("POST", O + "/runs"): Policy("AS", body=lambda i: {"checklist_id": i["checklist_id"]}),
    ("GET", O + "/runs/{run_id}"): Policy("ASL"),
    ("POST", O + "/runs/{run_id}/export"): Policy("ASL"),
    ("PUT", O + "/runs/{run_id}"): Policy("A", body=same({"name": "Renamed"})),
    ("DELETE", O + "/runs/{run_id}"): Policy("A"),
    ("PUT", O + "/runs/{run_id}/activate"): Policy(
        "A", prepare=admin_call("DELETE", "/runs/{run_id}")
    ),
    ("DELETE", O + "/runs/{run_id}/delete"): Policy(
        "A", prepare=admin_call("DELETE", "/runs/{run_id}")
    ),
    ("POST", O + "/runs/{run_id}/complete-prerun"): Policy("A"),
    ("DELETE", O + "/runs/{run_id}/complete-prerun"): Policy("A"),
    ("POST", O + "/runs/bulk-update"): Policy(
        "A", body=lambda i: {"runs": [{"id": i["run_id"], "name": "Bulk"}]}, per_item=True
    ),
    ("POST", O + "/runs/{run_id}/tags"): Policy("A", body=lambda i: {"tag_id": i["tag_id"]}),
    ("DELETE", O + "/runs/{run_id}/tags/{tag_id}"): Policy("A"),
    ("POST", O + "/runs/{run_id}/folders"): Policy(
        "A", body=lambda i: {"folder_id": i["folder_id"]}
    ),
    ("DELETE", O + "/runs/{run_id}/folders/{folder_id}"): Policy("A"),
    ("POST", O + "/runs/{run_id}/users"): Policy(
        "A", body=lambda i: {"user_id": int(i["user_id"])}
    ),
    ("DELETE", O + "/runs/{run_id}/users/{user_id}"): Policy("A"),
    ("POST", O + "/runs/{run_id}/groups"): Policy("A", body=lambda i: {"group_id": i["group_id"]}),
    ("DELETE", O + "/runs/{run_id}/groups/{group_id}"): Policy("A"),
    # tasks of runs (task_id: the light member's task; guests: their own task)
    ("GET", O + "/runs/{run_id}/tasks"): Policy("ASL"),
    ("GET", O + "/runs/{run_id}/tasks/{task_id}"): Policy("ASLG"),
    ("PUT", O + "/runs/{run_id}/tasks/{task_id}"): Policy("ALG", body=same({"taskdata": {}})),
    ("POST", O + "/runs/{run_id}/completed-tasks"): Policy(
        "ALG", body=lambda i: {"task_id": i["task_id"]}
    ),
    ("DELETE", O + "/runs/{run_id}/completed-tasks/{task_id}"): Policy(
        "ALG", prepare=COMPLETE_RUN_TASK
    ),
    # tasks of the organization and one-off tasks
    ("GET", O + "/tasks"): Policy("ASL"),
    ("POST", O + "/tasks"): Policy(
        "AS",
        body=same({"title": "T", "owners": {"users": []}, "deadline": "2030-05-01T12:00:00Z"}),
    ),
    ("GET", O + "/tasks/{task_id}"): Policy("ASLG"),
    ("PUT", O + "/tasks/{task_id}"): Policy("A", body=same({"title": "Retitled"}), remap=ONEOFF),
    ("DELETE", O + "/tasks/{task_id}"): Policy("A", remap=ONEOFF),
    ("PUT", O + "/tasks/{task_id}/restore"): Policy("A", remap=ONEOFF),
    ("DELETE", O + "/tasks/{task_id}/delete"): Policy("A", remap=ONEOFF),
    ("POST", O + "/completed-tasks"): Policy("AL", body=lambda i: {"task_id": i["oneoff_task_id"]}),
    ("DELETE", O + "/completed-tasks/{task_id}"): Policy(
        "AL", remap=ONEOFF, prepare=COMPLETE_ONEOFF
    ),
    # comments, problems, resolutions (on the light member's task; the comment is the admin's)
    ("GET", O + "/tasks/{task_id}/comments"): Policy("ASLG"),
    ("POST", O + "/tasks/{task_id}/comment"): Policy("ASLG", body=same({"content": "Hi"})),
    ("PUT", O + "/tasks/{task_id}/comment/{comment_id}"): Policy(
        "A", body=same({"content": "Edited"})
    ),
    ("DELETE", O + "/tasks/{task_id}/comment/{comment_id}"): Policy("A"),
    ("POST", O + "/tasks/{task_id}/problem"): Policy("ASLG", body=same({"content": "Stuck"})),
    ("POST", O + "/tasks/{task_id}/resolved-threads"): Policy(
        "ASLG",
        body=lambda i: {"thread_id": i.get("thread_id", uuid4().hex), "content": "Fixed"},
        prepare=REPORT_PROBLEM,
    ),
    # tags
    ("GET", O + "/tags"): Policy("ASL"),
    ("POST", O + "/tags"): Policy("AS", body=lambda _i: {"title": f"tag-{uuid4().hex[:8]}"}),
    ("GET", O + "/tags/{tag_id}"): Policy("ASL"),
    ("PUT", O + "/tags/{tag_id}"): Policy("AS", body=same({"title": "Renamed tag"})),
    ("DELETE", O + "/tags/{tag_id}"): Policy("AS", absent_ok=True),
    ("POST", O + "/checklists/tags"): Policy(
        "AS",
        body=lambda i: {
            "subject_id": i["checklist_id"],
            "subject_type": "Checklist",
            "tag_id": i["tag_id"],
            "tag_type": "private",
        },
    ),
    ("DELETE", O + "/checklists/tags/{association_id}"): Policy("A"),
    # folders
    ("GET", O + "/folders"): Policy("ASL"),
    ("POST", O + "/folders"): Policy("AS", body=same({"name": "New folder"})),
    ("POST", O + "/folders/add-object"): Policy(
        "AS",
        body=lambda i: {
            "folder_id": i["folder_id"],
            "subject_id": i["oneoff_task_id"],
            "subject_type": "Task",
        },
    ),
    ("DELETE", O + "/folders-objects/{relation_id}"): Policy("A"),
    ("GET", O + "/folders/{folder_id}"): Policy("ASL"),
    ("PUT", O + "/folders/{folder_id}"): Policy("AS", body=same({"name": "Renamed folder"})),
    ("DELETE", O + "/folders/{folder_id}"): Policy("AS"),
    # templates, steps, form fields
    ("GET", O + "/checklists"): Policy("ASL"),
    ("POST", O + "/checklists"): Policy("AS", body=same({"title": "New template"})),
    ("GET", O + "/checklists/{checklist_id}"): Policy("ASL"),
    ("PUT", O + "/checklists/{checklist_id}"): Policy("AS", body=same({"title": "Retitled"})),
    ("DELETE", O + "/checklists/{checklist_id}"): Policy("AS"),
    ("PUT", O + "/checklists/{checklist_id}/activate"): Policy("AS"),
    ("DELETE", O + "/checklists/{checklist_id}/delete"): Policy(
        "A", prepare=admin_call("DELETE", "/checklists/{checklist_id}")
    ),
    ("PUT", O + "/checklists/{checklist_id}/publish"): Policy("AS"),
    ("POST", O + "/checklists/{checklist_id}/clone"): Policy("AS", body=same({"title": "Copy"})),
    ("GET", O + "/checklists/{checklist_id}/form-fields"): Policy("ASL"),
    ("GET", O + "/checklists/{checklist_id}/steps"): Policy("ASL"),
    ("POST", O + "/checklists/{checklist_id}/steps"): Policy("AS", body=same({"title": "Step"})),
    ("GET", O + "/checklists/{checklist_id}/steps/{step_id}"): Policy("ASL"),
    ("PUT", O + "/checklists/{checklist_id}/steps/{step_id}"): Policy(
        "AS", body=same({"title": "Step 2"})
    ),
    ("DELETE", O + "/checklists/{checklist_id}/steps/{step_id}"): Policy("AS"),
    ("PUT", O + "/checklists/{checklist_id}/steps/{step_id}/reorder"): Policy(
        "AS", body=same({"position": 1})
    ),
    ("POST", O + "/checklists/{checklist_id}/steps/{step_id}/clone"): Policy("AS"),
    ("POST", O + "/checklists/{checklist_id}/steps/{step_id}/captures"): Policy(
        "AS", body=same({"field_type": "text", "label": "Extra"})
    ),
    ("PUT", O + "/checklists/{checklist_id}/steps/{step_id}/captures"): Policy(
        "AS", body=lambda i: {"capture_id": i["capture_id"], "position": 1}
    ),
    ("PUT", O + "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}"): Policy(
        "AS", body=same({"label": "Relabelled"})
    ),
    ("PUT", O + "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}/move-out"): (
        Policy("AS", body=lambda i: {"target_step_id": i["other_step_id"]})
    ),
    ("POST", O + "/checklists/{checklist_id}/automated-actions"): Policy("AS", body=rule_body),
    ("PUT", O + "/checklists/{checklist_id}/automated-actions/{automation_id}"): Policy(
        "AS", body=rule_body, prepare=ADD_RULE
    ),
    ("DELETE", O + "/checklists/{checklist_id}/automated-actions/{automation_id}"): Policy(
        "AS", prepare=ADD_RULE
    ),
    ("DELETE", O + "/checklists/{checklist_id}/steps/{step_id}/captures/{capture_id}"): Policy(
        "AS"
    ),
    # groups and members
    ("GET", O + "/groups"): Policy("ASL"),
    ("POST", O + "/groups"): Policy("AS", body=same({"name": "New group"})),
    ("GET", O + "/groups/{group_id}"): Policy("ASL"),
    ("PUT", O + "/groups/{group_id}"): Policy("AS", body=same({"name": "Renamed group"})),
    ("DELETE", O + "/groups/{group_id}"): Policy("AS"),
    ("GET", O + "/users"): Policy("ASL"),
    ("GET", O + "/users-list"): Policy("ASL"),
    ("GET", O + "/users/{user_id}/tasks"): Policy("ASL"),
    ("POST", O + "/users/invite"): Policy(
        "A", body=lambda _i: {"email": f"invitee-{uuid4().hex[:8]}@example.com"}
    ),
    ("GET", O + "/users/{user_id}"): Policy("ASL"),
    ("PUT", O + "/users/{user_id}"): Policy("AS", body=same({"first_name": "Renamed"})),
    ("PUT", O + "/users/{user_id}/role"): Policy("A", body=same({"role": "light"})),
    ("DELETE", O + "/users/{user_id}/disable"): Policy("A"),
    ("PUT", O + "/users/{user_id}/enable"): Policy("A"),
    ("PUT", O + "/users/{user_id}/approve"): Policy("A"),
    ("DELETE", O + "/users/{user_id}"): Policy("A"),
    ("PUT", O + "/users/{user_id}/to/guest"): Policy("A"),
    # activity and search
    ("GET", O + "/activity-feeds"): Policy("ASL"),
    ("GET", O + "/search"): Policy("ASL"),
    # guests
    ("GET", O + "/guests"): Policy("ASL"),
    ("GET", O + "/guests-list"): Policy("ASL"),
    ("POST", O + "/guests"): Policy(
        "AS", body=lambda _i: {"email": f"new-guest-{uuid4().hex[:8]}@example.com"}
    ),
    ("GET", O + "/guests/{email}"): Policy("ASL"),
    ("PUT", O + "/guests/{email}"): Policy("AS", body=same({"first_name": "Pat"})),
    ("DELETE", O + "/guests/{email}"): Policy("A"),
    ("DELETE", O + "/guests/{email}/disable"): Policy("A"),
    ("PUT", O + "/guests/{email}/enable"): Policy("A"),
    ("POST", O + "/guests/{email}/to/member"): Policy("A"),
    ("POST", O + "/guests/{email}/token"): Policy("AS"),
    ("GET", O + "/guests/{email}/tasks"): Policy("AS"),
    ("GET", O + "/guest-tasks"): Policy("G"),
    # watchers, the webhook delivery log and the signing secret
    ("GET", O + "/watchers"): Policy("ASL"),
    ("POST", O + "/users/{user_id}/add-watcher"): Policy("A", body=same(WATCHER)),
    ("DELETE", O + "/remove-watcher/{watcher_id}"): Policy("A", prepare=admins_watcher),
    ("GET", O + "/webhook-events"): Policy("A"),
    ("GET", O + "/webhook-events/{event_id}"): Policy("A"),
    ("POST", O + "/webhook-events/{event_id}/redeliver"): Policy("A"),
    ("GET", O + "/me/email-preferences"): Policy("ASL"),
    ("PUT", O + "/me/email-preferences"): Policy("ASL", body=same({"comment_mention": False})),
    ("GET", O + "/webhook-secret"): Policy("A"),
    ("POST", O + "/webhook-secret/rotate"): Policy("A"),
    # files (`asset_id`: the admin's upload for the guest's form field, in the admin's run)
    ("POST", O + "/assets"): Policy("AG", body=upload_for_guest_field),
    ("POST", O + "/file"): Policy("AG", body=upload_for_guest_field),
    ("GET", O + "/assets/{asset_id}"): Policy("ASLG"),
    ("GET", O + "/file/{asset_id}"): Policy("ASLG"),
    ("GET", O + "/file/{asset_id}/dl"): Policy("ASLG"),
    ("DELETE", O + "/file/{asset_id}"): Policy("A"),
    ("DELETE", O + "/assets/{asset_id}"): Policy("A"),
}

APP = served_app()
APP_ROUTES = {e.key: e for e in served_endpoints()}
CLASSIFIED = sorted(set(APP_ROUTES) & set(ROUTES))
SCOPED = [key for key in CLASSIFIED if ROUTES[key].scoped]
WITH_OBJECT_IDS = [key for key in SCOPED if set(APP_ROUTES[key].params) - {"org_id"}]


def label(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


def test_every_route_is_classified() -> None:
    missing = sorted(set(APP_ROUTES) - set(ROUTES))
    assert not missing, (
        "Classify these routes in ROUTES (tests/security/test_route_matrix.py): who may call "
        "them, whether they are scoped to an organization, and a valid body:\n"
        + "\n".join(label(key) for key in missing)
    )
    stale = sorted(set(ROUTES) - set(APP_ROUTES))
    assert not stale, "These classified routes no longer exist:\n" + "\n".join(map(label, stale))


def test_every_route_is_served_identically_under_api() -> None:
    table = mounted(APP)
    root = {key for key in table if not key[1].startswith(API_PREFIX + "/")}
    under_api = {(m, p.removeprefix(API_PREFIX)) for m, p in table if p.startswith(API_PREFIX)}
    probes = {("GET", path) for path in ("/health", "/healthz", "/readyz", "/metrics")}
    assert root - probes == under_api


@dataclass
class Tenants:
    a: World
    a_objects: Objects
    b: World
    b_objects: Objects


@pytest.fixture(scope="module")
def tenants(engine: Engine, client: TestClient) -> Tenants:
    factory = make_session_factory(engine)
    a, b = World.create(factory, client), World.create(factory, client)
    return Tenants(a, populate(a), b, populate(b))


def ids_for(objects: Objects, policy: Policy) -> dict[str, str]:
    ids = dict(objects.ids)
    ids.update({param: objects.ids[source] for param, source in policy.remap.items()})
    return ids


def request(
    world: World, endpoint: Endpoint, ids: dict[str, str], member: Member, body: Any = None
) -> Response:
    if isinstance(body, Multipart):
        return world.client.request(
            endpoint.method,
            endpoint.url(ids),
            headers=member.headers,
            data=body.fields,
            files={"name": ("report.txt", b"Report\n", "text/plain")},
        )
    return world.client.request(
        endpoint.method, endpoint.url(ids), headers=member.headers, json=body
    )


def body_for(key: tuple[str, str], ids: dict[str, str]) -> Any:
    policy = ROUTES[key]
    return policy.body(ids) if policy.body else None


def random_ids(template: dict[str, str]) -> dict[str, str]:
    ids = {key: uuid4().hex for key in template}
    ids.update(user_id="2147483000", association_id="2147483000", relation_id="2147483000")
    ids["email"] = f"nobody-{uuid4().hex[:8]}@example.com"
    return ids


def secrets_of(objects: Objects) -> list[str]:
    return [
        value for key, value in objects.ids.items() if key not in ("user_id",) and len(value) > 6
    ] + objects.names


def assert_no_leak(response: Response, tenants: Tenants) -> None:
    for secret in secrets_of(tenants.b_objects):
        assert secret not in response.text, (secret, response.text[:300])


def assert_error(response: Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body["error"] is True
    assert body["code"] == code, body
    assert isinstance(body["message"], str)


@pytest.mark.parametrize("key", SCOPED, ids=label)
def test_another_organizations_id_is_forbidden(tenants: Tenants, key: tuple[str, str]) -> None:
    endpoint, policy = APP_ROUTES[key], ROUTES[key]
    ids = ids_for(tenants.b_objects, policy)
    for member in (tenants.a.admin, tenants.a.standard, tenants.a.light):
        response = request(tenants.a, endpoint, ids, member, body_for(key, ids))
        assert_error(response, 403, "FORBIDDEN")
        assert_no_leak(response, tenants)


@pytest.mark.parametrize("key", WITH_OBJECT_IDS, ids=label)
def test_another_organizations_objects_are_not_found(
    tenants: Tenants, key: tuple[str, str]
) -> None:
    """A's org id with B's object ids answers exactly as for ids that exist nowhere."""
    endpoint, policy = APP_ROUTES[key], ROUTES[key]
    mine = ids_for(tenants.a_objects, policy)
    theirs = {**ids_for(tenants.b_objects, policy), "org_id": tenants.a.org_id}
    nowhere = {**random_ids(theirs), "org_id": tenants.a.org_id}
    body = body_for(key, mine)
    member = tenants.a.admin
    before = snapshot(tenants.b, tenants.b_objects) if key[0] != "GET" else None
    foreign = request(tenants.a, endpoint, theirs, member, body)
    unknown = request(tenants.a, endpoint, nowhere, member, body)
    if policy.absent_ok:
        assert foreign.status_code == unknown.status_code < 300
    else:
        assert_error(foreign, 404, "RESOURCE_NOT_FOUND")
        assert_error(unknown, 404, "RESOURCE_NOT_FOUND")
    assert foreign.content == unknown.content
    assert_no_leak(foreign, tenants)
    if before is not None:
        assert snapshot(tenants.b, tenants.b_objects) == before


def test_own_objects_reveal_nothing_of_another_organization(tenants: Tenants) -> None:
    """Every read of A, made by A's admin, mentions nothing of B."""
    for key in CLASSIFIED:
        if key[0] != "GET":
            continue
        ids = ids_for(tenants.a_objects, ROUTES[key])
        response = request(tenants.a, APP_ROUTES[key], ids, tenants.a.admin)
        assert response.status_code < 500, (key, response.text[:300])
        assert_no_leak(response, tenants)


ROLE_CELLS = [(key, role) for key in CLASSIFIED for role in "ASLG"]


def snapshot(world: World, objects: Objects) -> list[Any]:
    ids = objects.ids
    paths = [
        f"/runs/{ids['run_id']}?with=tasks,tags,folders,form_fields",
        f"/checklists/{ids['checklist_id']}?with=steps",
        f"/tasks/{ids['oneoff_task_id']}",
        f"/tasks/{ids['task_id']}/comments",
        "/tags?per_page=100",
        "/folders?per_page=100",
        "/groups?per_page=100",
        "/guests?per_page=100",
        "/users?per_page=100",
    ]
    return [world.call("GET", path).json() for path in paths]


@dataclass(frozen=True)
class Untouched:
    """One organization for every cell that must leave it as it was: reads, and writes the
    role is refused (those compare what a client sees with `seen`, taken when it was made,
    so a wrongly accepted write fails its own cell)."""

    world: World
    objects: Objects
    seen: list[Any]


@pytest.fixture(scope="module")
def untouched(engine: Engine, client: TestClient) -> Untouched:
    world = World.create(make_session_factory(engine), client)
    objects = populate(world)
    return Untouched(world, objects, snapshot(world, objects))


@pytest.mark.parametrize(("key", "role"), ROLE_CELLS, ids=lambda v: v if len(v) == 1 else label(v))
def test_role_cell(
    engine: Engine, client: TestClient, untouched: Untouched, key: tuple[str, str], role: str
) -> None:
    endpoint, policy = APP_ROUTES[key], ROUTES[key]
    allowed = role in policy.roles or policy.roles == "*"
    fresh = (allowed and key[0] != "GET") or policy.prepare is not None
    if fresh:
        world = World.create(make_session_factory(engine), client)
        objects = populate(world)
    else:
        world, objects = untouched.world, untouched.objects
    ids = ids_for(objects, policy)
    if role == "G":
        ids["task_id"] = objects.ids["guest_task_id"]
    if policy.prepare:
        ids.update(policy.prepare(world, ids))
    member = {"A": world.admin, "S": world.standard, "L": world.light, "G": objects.guest}[role]
    before = None
    if key[0] != "GET" and not allowed:
        before = snapshot(world, objects) if fresh else untouched.seen
    response = request(world, endpoint, ids, member, body_for(key, ids))
    assert response.status_code < 500, response.text[:300]
    is_json = response.headers.get("content-type", "").startswith("application/json")
    status, error = response.status_code, response.json() if is_json and response.content else None
    if policy.per_item and status == 200:
        (item,) = response.json()["data"]
        status, error = item["status"], item.get("error")
    if allowed:
        assert status < 400, response.text[:300]
        return
    if role == "G":
        # A guest token is unknown outside the guest routes (401); on them, another's
        # object is refused (403) or, inside a task the guest cannot see, not found (404).
        assert status in (401, 403, 404), response.text[:300]
    else:
        assert status == 403, response.text[:300]
        assert error is not None
        assert error["code"] == "FORBIDDEN", error
    if before is not None:
        assert snapshot(world, objects) == before
