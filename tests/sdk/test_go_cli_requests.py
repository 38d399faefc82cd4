"""The requests Tallyfy's Go CLI (`tallyfy/cli`) sends, replayed against a live server.

`Cli` below sends what the CLI's client (`pkg/tallyfy`) sends for each command: its
headers (`X-Tallyfy-Client: APIClient`, a `User-Agent`, `Content-Type` only with a body),
its path escaping, its bodies, and its paging (`page`, `per_page=100` with `--all`, extra
filters, walking pages until `current_page >= total_pages`). Each test names the commands
whose requests it replays, and checks the answer carries what the CLI reads from it.

Commands left out call endpoints being built elsewhere (`process export`, the steps of
`blueprint import`) or no endpoint at all (`auth`, `config`, `run`, `trust`, `doctor`,
`api`, which sends what it is given).
"""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from httpx2 import Client, Response

from tests.factories import World

USER_AGENT = "tallyfy-cli/1.0.0 (linux/amd64)"
ALL_PER_PAGE = 100


class Cli:
    """One CLI user: their token, their organization, and the CLI's way of asking."""

    def __init__(self, http: Client, token: str, org: str) -> None:
        self.http, self.token, self.org = http, token, org

    def path(self, *segments: str) -> str:
        """`orgPath`: every segment escaped on its own (Go's `url.PathEscape`)."""
        escaped = "/".join(quote(s, safe="$&+:=@") for s in segments)
        return f"/organizations/{quote(self.org, safe='')}/{escaped}"

    def send(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Response:
        headers = {
            "Accept": "application/json",
            "X-Tallyfy-Client": "APIClient",
            "Authorization": f"Bearer {self.token}",
            "User-Agent": USER_AGENT,
        }
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, path, params=query, json=body, headers=headers)

    def item(self, method: str, path: str, body: Any = None, query: Any = None) -> Any:
        """`doItem` / `doData`: a 2xx whose `data` is decoded."""
        response = self.send(method, path, body, query)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json()["data"] if response.content else None

    def ok(self, method: str, path: str, body: Any = None) -> None:
        """`Do` with no decoding (deletes, reopen, publish, role, disable...)."""
        response = self.send(method, path, body)
        assert response.status_code < 300, (method, path, response.status_code, response.text)

    def collect(
        self, path: str, extra: dict[str, str] | None = None, *, every: bool = True
    ) -> list[Any]:
        """`CollectAll`: with `--all`, 100 a page until the last; otherwise page 1 only."""
        items: list[Any] = []
        page = 1
        while True:
            query = dict(extra or {})
            if every:
                query["per_page"] = str(ALL_PER_PAGE)
            query["page"] = str(page)
            response = self.send("GET", path, query=query)
            assert response.status_code == 200, (path, response.text)
            body = response.json()
            items.extend(body["data"])
            pagination = (body.get("meta") or {}).get("pagination")
            if not every or pagination is None:
                return items
            if pagination["current_page"] >= pagination["total_pages"]:
                return items
            page += 1


@pytest.fixture
def http(server_url: str) -> Iterator[Client]:
    with Client(base_url=server_url, timeout=10) as client:
        yield client


@pytest.fixture
def cli(http: Client, world: World) -> Cli:
    return Cli(http, world.admin.token, world.org_id)


def test_whoami_and_org_list(cli: Cli, world: World) -> None:
    """`whoami`, `auth login` (token check), `org list`, `org use`."""
    me = cli.item("GET", "/me")
    assert me["id"] == world.admin.user_id
    assert {"id", "email", "username", "first_name", "last_name", "timezone"} <= set(me)
    orgs = cli.collect("/me/organizations")
    assert world.org_id in [o["id"] for o in orgs]


def test_blueprint_commands(cli: Cli) -> None:
    """`blueprint create|list|get|update|clone|publish|steps|export|automation list|delete`
    and `blueprint import` of a template without steps."""
    created = cli.item("POST", cli.path("checklists"), {"title": "CLI blueprint", "summary": "S"})
    bp = created["id"]
    assert created["title"] == "CLI blueprint"
    listed = cli.collect(cli.path("checklists"), every=False)
    assert bp in [b["id"] for b in listed]
    folder = cli.item("POST", cli.path("folders"), {"name": "CLI folder"})["id"]
    filtered = cli.collect(cli.path("checklists"), {"folder_id": folder})
    assert filtered == []
    got = cli.item("GET", cli.path("checklists", bp), query={"with": "steps"})
    assert got["steps"] == {"data": []}
    updated = cli.item("PUT", cli.path("checklists", bp), {"title": "CLI blueprint v2"})
    assert updated["title"] == "CLI blueprint v2"
    clone = cli.item(
        "POST", cli.path("checklists", bp, "clone"), {"tenant": cli.org, "title": "Copy"}
    )
    assert clone["title"] == "Copy"
    cli.ok("PUT", cli.path("checklists", bp, "publish"))
    steps = cli.item("GET", cli.path("checklists", bp, "steps"))
    assert steps == []
    exported = cli.item(
        "GET", cli.path("checklists", bp), query={"with": "steps,automated_actions"}
    )
    assert exported["automated_actions"] == []
    assert isinstance(exported["prerun"], list)
    imported = cli.item("POST", cli.path("checklists"), {**exported, "title": "Imported"})
    assert imported["id"] != bp
    cli.ok("DELETE", cli.path("checklists", bp))


def test_blueprint_automation_commands(cli: Cli, world: World) -> None:
    """`blueprint automation create|update|delete --from-file`: the file's JSON is the body,
    as is; `automation list` reads them inline from the blueprint."""
    template = world.template(
        kickoff=[{"field_type": "text", "label": "Rush"}],
        steps=[{"title": "Prepare"}, {"title": "Expedite"}],
    )
    got = cli.item("GET", cli.path("checklists", template), query={"with": "steps"})
    field, step = got["prerun"][0]["id"], got["steps"]["data"][1]["id"]
    rule_file = {
        "automated_alias": "Expedite rush orders",
        "conditions": [
            {
                "conditionable_id": field,
                "conditionable_type": "Prerun",
                "operation": "equals",
                "statement": "yes",
                "logic": "and",
                "position": 1,
            }
        ],
        "then_actions": [
            {"action_type": "visibility", "action_verb": "show", "target_step_id": step}
        ],
    }
    rules = cli.path("checklists", template, "automated-actions")
    made = cli.item("POST", rules, rule_file)
    listed = cli.item("GET", cli.path("checklists", template))["automated_actions"]
    assert [(a["id"], a["automated_alias"]) for a in listed] == [
        (made["id"], "Expedite rush orders")
    ]
    renamed = cli.item(
        "PUT", cli.path("checklists", template, "automated-actions", made["id"]),
        {**rule_file, "automated_alias": "Rush"},
    )  # fmt: skip
    assert renamed["automated_alias"] == "Rush"
    cli.ok("DELETE", cli.path("checklists", template, "automated-actions", made["id"]))
    assert cli.item("GET", cli.path("checklists", template))["automated_actions"] == []


def launched(cli: Cli, world: World) -> tuple[str, list[dict[str, Any]]]:
    """`process launch` with a kick-off value: the kick-off fields first, then the launch."""
    template = world.template(
        kickoff=[{"field_type": "text", "label": "Client"}],
        steps=[
            {"title": "Prepare", "assignees": [world.admin.user_id]},
            {"title": "Sign off", "step_type": "approval", "assignees": [world.admin.user_id]},
        ],
    )
    fields = cli.item("GET", cli.path("checklists", template))["prerun"]
    prerun = {fields[0]["id"]: "Acme"}
    body = {"checklist_id": template, "name": "CLI process", "prerun": prerun}
    run = cli.item("POST", cli.path("runs"), body)
    assert (run["name"], run["prerun"]) == ("CLI process", prerun)
    tasks = cli.collect(cli.path("runs", run["id"], "tasks"))
    return run["id"], tasks


def test_process_commands(cli: Cli, world: World) -> None:
    """`process launch|list|get|update|archive|reactivate`."""
    run, _tasks = launched(cli, world)
    listed = cli.collect(cli.path("runs"), {"status": "active"}, every=False)
    assert run in [p["id"] for p in listed]
    got = cli.item("GET", cli.path("runs", run), query={"with": "tasks,tags"})
    assert len(got["tasks"]["data"]) == 2
    assert cli.item("PUT", cli.path("runs", run), {"name": "Renamed"})["name"] == "Renamed"
    cli.ok("DELETE", cli.path("runs", run))
    assert cli.item("GET", cli.path("runs", run))["status"] == "archived"
    cli.ok("PUT", cli.path("runs", run, "activate"))
    assert cli.item("GET", cli.path("runs", run))["status"] != "archived"


def test_task_commands(cli: Cli, world: World) -> None:
    """`task list` (`--process`, `--mine`, `--user`, plain), `task get` (with and without
    `--process`), `task reassign`, `task comment`, `task complete|reopen`, `task wait`."""
    run, tasks = launched(cli, world)
    prepare, signoff = tasks[0]["id"], tasks[1]["id"]
    mine = cli.collect(cli.path("me", "tasks"))
    assert {prepare, signoff} <= {t["id"] for t in mine}
    owned = cli.collect(cli.path("tasks"), {"owners": str(world.admin.user_id)})
    assert {prepare, signoff} <= {t["id"] for t in owned}
    assert prepare in [t["id"] for t in cli.collect(cli.path("tasks"), every=False)]
    assert cli.item("GET", cli.path("runs", run, "tasks", prepare))["id"] == prepare
    assert cli.item("GET", cli.path("tasks", prepare))["run_id"] == run
    owners = {"users": [world.standard.user_id], "guests": [], "groups": []}
    reassigned = cli.item("PUT", cli.path("runs", run, "tasks", prepare), {"owners": owners})
    assert reassigned["owners"]["guests"] == []
    back = {"users": [world.admin.user_id], "guests": [], "groups": []}
    cli.item("PUT", cli.path("runs", run, "tasks", prepare), {"owners": back})
    comment = cli.item("POST", cli.path("tasks", prepare, "comment"), {"content": "On it"})
    assert comment["content"] == "On it"
    done = cli.item("POST", cli.path("runs", run, "completed-tasks"), {"task_id": prepare})
    assert done["status"] == "completed"
    cli.ok("DELETE", cli.path("runs", run, "completed-tasks", prepare))
    polled = cli.collect(cli.path("runs", run, "tasks"))
    assert {t["id"]: t["status"] for t in polled}[prepare] != "completed"


def test_task_complete_on_an_approval_is_refused_as_tallyfy_refuses_it(
    cli: Cli, world: World
) -> None:
    """The CLI sends only `task_id`; an approval needs `is_approved` (Tallyfy's 422)."""
    run, tasks = launched(cli, world)
    response = cli.send(
        "POST", cli.path("runs", run, "completed-tasks"), {"task_id": tasks[1]["id"]}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["message"]  # the CLI shows the top-level message
    assert body["errors"] == {"is_approved": ["The is approved field is required."]}


def test_one_off_task_commands(cli: Cli, world: World) -> None:
    """`task get|complete|reopen` without `--process` act on one-off tasks."""
    body = {
        "title": "CLI one-off",
        "owners": {"users": [world.admin.user_id]},
        "deadline": "2030-05-01T12:00:00Z",
    }
    task = cli.item("POST", cli.path("tasks"), body)["id"]
    assert cli.item("GET", cli.path("tasks", task))["title"] == "CLI one-off"
    done = cli.item("POST", cli.path("completed-tasks"), {"task_id": task})
    assert done["status"] == "completed"
    cli.ok("DELETE", cli.path("completed-tasks", task))


def test_user_commands(cli: Cli, world: World) -> None:
    """`user list|invite|role|disable|enable`."""
    users = cli.collect(cli.path("users"))
    assert world.standard.user_id in [u["id"] for u in users]
    email = f"cli-{uuid4().hex[:8]}@example.com"
    body = {"email": email, "first_name": "Jo", "last_name": "Lee", "role": "light"}
    invited = cli.item("POST", cli.path("users", "invite"), body)
    assert invited["email"] == email
    user = str(invited["id"])
    cli.ok("PUT", cli.path("users", user, "role"), {"role": "standard"})
    cli.ok("DELETE", cli.path("users", user, "disable"))
    cli.ok("PUT", cli.path("users", user, "enable"))
    assert cli.item("GET", cli.path("users", user))["role"] == "standard"


def test_guest_commands(cli: Cli) -> None:
    """`guest create|list|get|update`; the e-mail is a path segment, `@` unescaped."""
    email = f"cli-guest-{uuid4().hex[:8]}@example.com"
    created = cli.item("POST", cli.path("guests"), {"email": email, "first_name": "Gus"})
    assert created["email"] == email
    assert email in [g["email"] for g in cli.collect(cli.path("guests"))]
    assert cli.item("GET", cli.path("guests", email))["email"] == email
    updated = cli.item("PUT", cli.path("guests", email), {"last_name": "Guest"})
    assert updated["last_name"] == "Guest"


def test_group_folder_and_tag_commands(cli: Cli) -> None:
    """`group create|list|update|delete`, `folder create|list|delete`,
    `tag create|list|update|delete`."""
    group = cli.item("POST", cli.path("groups"), {"name": f"CLI {uuid4().hex[:6]}"})["id"]
    assert group in [g["id"] for g in cli.collect(cli.path("groups"))]
    renamed = f"CLI renamed {uuid4().hex[:6]}"
    assert cli.item("PUT", cli.path("groups", group), {"name": renamed})["name"] == renamed
    cli.ok("DELETE", cli.path("groups", group))

    folder = cli.item("POST", cli.path("folders"), {"name": "CLI folder"})["id"]
    assert folder in [f["id"] for f in cli.collect(cli.path("folders"))]
    cli.ok("DELETE", cli.path("folders", folder))

    tag = cli.item(
        "POST", cli.path("tags"), {"title": f"cli-{uuid4().hex[:6]}", "color": "#3366ff"}
    )
    assert tag["id"] in [t["id"] for t in cli.collect(cli.path("tags"))]
    title = f"cli-{uuid4().hex[:6]}"
    assert cli.item("PUT", cli.path("tags", tag["id"]), {"title": title})["title"] == title
    cli.ok("DELETE", cli.path("tags", tag["id"]))
