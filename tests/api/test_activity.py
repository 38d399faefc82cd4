"""`/organizations/{org}/activity-feeds`: one record per change, with old and new values."""

from typing import Any
from uuid import uuid4

from tests.api.feed import flat_all
from tests.factories import World

ITEM_KEYS = {
    "id",
    "organization_id",
    "verb",
    "source",
    "actor_type",
    "actor_id",
    "actor",
    "type",
    "auditable_type",
    "auditable_id",
    "object_type",
    "object_id",
    "parentable_type",
    "parentable_id",
    "run_id",
    "field",
    "old_value",
    "new_value",
    "description",
    "text",
    "created_at",
    "references",
    "undoable",
    "audit",
    "parent",
    "origin",
}


def feed(world: World, member: Any = None, **query: Any) -> list[dict[str, Any]]:
    """Every matching record, oldest first."""
    query = {"sort": "created_at", "per_page": 100, **query}
    response = world.call("GET", "/activity-feeds", member, params=query)
    assert response.status_code == 200, response.text
    return flat_all(response.json()["data"])


def of(world: World, entity_type: str, entity_id: str) -> list[tuple[Any, ...]]:
    """(verb, field, old, new) of every record about one object, oldest first."""
    return [
        (r["verb"], r["field"], r["old_value"], r["new_value"])
        for r in feed(world, entity_type=entity_type, entity_id=entity_id)
    ]


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()["data"] if response.content else {}
    return data


def run_of(world: World, **body: Any) -> dict[str, Any]:
    return world.launch(world.template(), **body)


def test_item_shape_and_actor(world: World) -> None:
    run = run_of(world)
    ok(world.call("PUT", f"/runs/{run['id']}", json={"name": "Renamed"}))
    items = feed(world, entity_type="run", entity_id=run["id"])
    item = items[-1]
    assert set(item) == ITEM_KEYS
    assert isinstance(item["id"], int)
    assert item["organization_id"] == world.org_id
    assert (item["verb"], item["field"]) == ("updated", "name")
    assert (item["old_value"], item["new_value"]) == (run["name"], "Renamed")
    assert item["actor_type"] == "App\\Models\\User"
    assert item["source"] == "Member"
    assert item["actor_id"] == world.admin.user_id
    assert item["actor"]["id"] == world.admin.user_id
    assert item["actor"]["email"].startswith("admin-")
    assert isinstance(item["actor"]["full_name"], str)
    assert (item["type"], item["auditable_type"], item["auditable_id"]) == (
        "Process",
        "App\\Models\\Run",
        run["id"],
    )
    assert (item["references"], item["undoable"], item["origin"]) == (None, False, None)
    assert item["audit"] == {"data": {"id": run["id"], "type": "Process"}}
    assert item["parent"] == {"data": None}
    assert item["object_type"] == "run"
    assert item["run_id"] == run["id"]
    assert item["created_at"].endswith("Z")
    assert isinstance(item["description"], str)
    assert item["description"]


def test_run_lifecycle_is_recorded_once_each(world: World) -> None:
    run = run_of(world)
    path = f"/runs/{run['id']}"
    ok(world.call("DELETE", f"{path}/complete-prerun"))
    ok(world.call("POST", f"{path}/complete-prerun"))
    ok(world.call("DELETE", path))
    ok(world.call("DELETE", path))
    ok(world.call("PUT", f"{path}/activate"))
    ok(world.call("DELETE", path))
    assert world.call("DELETE", f"{path}/delete").status_code == 200
    verbs = [(verb, field) for verb, field, _, _ in of(world, "run", run["id"])]
    assert verbs == [
        ("created", None),
        ("re-opened", "prerun"),
        ("completed", "prerun"),
        ("archived", None),
        ("unarchived", None),
        ("archived", None),
        ("deleted", None),
    ]


def test_run_update_records_one_entry_per_changed_field(world: World) -> None:
    tag = world.tag()
    group = ok(world.call("POST", "/groups", json={"name": f"g-{uuid4().hex[:6]}"}), 201)["id"]
    run = run_of(world)
    before = len(of(world, "run", run["id"]))
    body = {
        "name": run["name"],
        "summary": "New",
        "starred": True,
        "tags": [tag],
        "groups": [group],
        "users": [world.standard.user_id],
    }
    ok(world.call("PUT", f"/runs/{run['id']}", json=body))
    records = of(world, "run", run["id"])[before:]
    assert sorted(records, key=lambda r: r[1]) == [
        ("updated", "groups", [], [group]),
        ("updated", "starred", False, True),
        ("updated", "summary", run["summary"], "New"),
        ("updated", "tags", [], [tag]),
        ("updated", "users", [], [world.standard.user_id]),
    ]
    ok(world.call("PUT", f"/runs/{run['id']}", json=body))
    assert len(of(world, "run", run["id"])) == before + 5


def test_rejected_request_records_nothing(world: World) -> None:
    run = run_of(world)
    before = feed(world)
    response = world.call("PUT", f"/runs/{run['id']}", json={"name": "X", "tags": ["f" * 32]})
    assert response.status_code == 422
    assert feed(world) == before


def test_entity_run_returns_only_that_runs_records(world: World) -> None:
    first, second = run_of(world), run_of(world)
    ok(world.call("PUT", f"/runs/{second['id']}", json={"name": "Other"}))
    records = feed(world, entity_type="run", entity_id=first["id"])
    assert [r["verb"] for r in records] == ["created"]
    assert feed(world, entity_type="Process", entity_id=first["id"]) == records


def test_tags_are_recorded(world: World) -> None:
    tag = ok(world.call("POST", "/tags", json={"title": "urgent", "color": "#ff0000"}), 201)
    path = f"/tags/{tag['id']}"
    ok(world.call("PUT", path, json={"title": "critical", "color": "#00ff00"}))
    ok(world.call("PUT", path, json={"title": "critical"}))
    run = run_of(world)
    link = ok(
        world.call(
            "POST",
            "/checklists/tags",
            json={
                "subject_id": run["id"],
                "subject_type": "Run",
                "tag_id": tag["id"],
                "tag_type": "private",
            },
        ),
        201,
    )
    assert world.call("DELETE", f"/checklists/tags/{link['id']}").status_code == 204
    assert world.call("DELETE", path).status_code == 204
    assert of(world, "tag", tag["id"]) == [
        ("created", None, None, "urgent"),
        ("updated", "title", "urgent", "critical"),
        ("updated", "color", "#ff0000", "#00ff00"),
        ("deleted", None, "critical", None),
    ]
    assert of(world, "run", run["id"])[1:] == [
        ("linked", "tags", None, tag["id"]),
        ("unlinked", "tags", tag["id"], None),
    ]


def test_folders_are_recorded(world: World) -> None:
    folder = ok(world.call("POST", "/folders", json={"name": "Ops", "folder_type": "run"}), 201)
    child = ok(world.call("POST", "/folders", json={"name": "Sub", "parent_id": folder["id"]}), 201)
    ok(world.call("PUT", f"/folders/{folder['id']}", json={"name": "Operations"}))
    ok(world.call("PUT", f"/folders/{folder['id']}", json={"name": "Operations"}))
    run = run_of(world)
    relation = ok(
        world.call(
            "POST",
            "/folders/add-object",
            json={"folder_id": folder["id"], "subject_id": run["id"], "subject_type": "Run"},
        ),
        201,
    )
    assert world.call("DELETE", f"/folders-objects/{relation['id']}").status_code in (200, 204)
    assert world.call("DELETE", f"/folders/{folder['id']}").status_code in (200, 204)
    assert of(world, "folder", folder["id"]) == [
        ("created", None, None, "Ops"),
        ("updated", "name", "Ops", "Operations"),
        ("deleted", None, "Operations", None),
    ]
    assert of(world, "folder", child["id"])[-1] == ("deleted", None, "Sub", None)
    assert of(world, "run", run["id"])[1:] == [
        ("linked", "folders", None, folder["id"]),
        ("unlinked", "folders", folder["id"], None),
    ]


def test_templates_steps_and_captures_are_recorded(world: World) -> None:
    template = ok(world.call("POST", "/checklists", json={"title": "Hiring"}), 201)
    base = f"/checklists/{template['id']}"
    ok(world.call("PUT", base, json={"title": "Hiring v2", "summary": None}))
    step = ok(world.call("POST", f"{base}/steps", json={"title": "Interview"}), 201)
    other = ok(world.call("POST", f"{base}/steps", json={"title": "Offer"}), 201)
    ok(world.call("PUT", f"{base}/steps/{step['id']}", json={"title": "Interview them"}))
    ok(world.call("PUT", f"{base}/steps/{other['id']}/reorder", json={"position": 1}))
    capture = ok(
        world.call(
            "POST",
            f"{base}/steps/{step['id']}/captures",
            json={"field_type": "text", "label": "Notes"},
        ),
        201,
    )
    capture_path = f"{base}/steps/{step['id']}/captures/{capture['id']}"
    ok(world.call("PUT", capture_path, json={"label": "Interview notes"}))
    assert world.call("DELETE", capture_path).status_code in (200, 204)
    assert world.call("DELETE", f"{base}/steps/{step['id']}").status_code in (200, 204)
    ok(world.call("DELETE", base))
    ok(world.call("PUT", f"{base}/activate"))
    ok(world.call("DELETE", base))
    assert world.call("DELETE", f"{base}/delete").status_code in (200, 204)
    assert of(world, "checklist", template["id"]) == [
        ("created", None, None, "Hiring"),
        ("updated", "title", "Hiring", "Hiring v2"),
        ("archived", None, None, None),
        ("unarchived", None, None, None),
        ("archived", None, None, None),
        ("deleted", None, "Hiring v2", None),
    ]
    assert of(world, "step", step["id"]) == [
        ("created", None, None, "Interview"),
        ("updated", "title", "Interview", "Interview them"),
        ("deleted", None, "Interview them", None),
    ]
    assert of(world, "step", other["id"])[-1] == ("re-ordered", "position", 2, 1)
    assert of(world, "capture", capture["id"]) == [
        ("created", None, None, "Notes"),
        ("updated", "label", "Notes", "Interview notes"),
        ("deleted", None, "Interview notes", None),
    ]


def test_groups_and_members_are_recorded(world: World) -> None:
    group = ok(world.call("POST", "/groups", json={"name": "Ops"}), 201)
    ok(world.call("PUT", f"/groups/{group['id']}", json={"members": [world.light.user_id]}))
    assert world.call("DELETE", f"/groups/{group['id']}").status_code == 204
    assert of(world, "group", group["id"]) == [
        ("created", None, None, "Ops"),
        ("updated", "members", [], [world.light.user_id]),
        ("deleted", None, "Ops", None),
    ]
    member = str(world.light.user_id)
    ok(world.call("PUT", f"/users/{member}/role", json={"role": "standard"}))
    ok(world.call("DELETE", f"/users/{member}/disable"))
    ok(world.call("PUT", f"/users/{member}/enable"))
    assert of(world, "member", member) == [
        ("updated", "role", "light", "standard"),
        ("disabled", None, None, None),
        ("enabled", None, None, None),
    ]


def test_filters(world: World) -> None:
    run = run_of(world, owner_id=world.standard.user_id)
    ok(world.call("PUT", f"/runs/{run['id']}", json={"name": "A", "starred": True}))
    ok(world.call("PUT", f"/runs/{run['id']}", world.standard, json={"name": "B"}))
    assert [r["new_value"] for r in feed(world, field="name")] == ["A", "B"]
    assert [r["new_value"] for r in feed(world, field="name", sort="-created_at")] == ["B", "A"]
    assert [r["field"] for r in feed(world, actor_id=world.standard.user_id)] == ["name"]
    assert [r["verb"] for r in feed(world, verb="created")] == ["created"]
    assert len(feed(world, type="run")) == 4
    assert len(feed(world, actor_type="member")) == 4
    assert len(feed(world, actor_type="user")) == 4  # Tallyfy's word for a member
    assert feed(world, actor_type="guest") == []
    assert len(feed(world, created_after="2000-01-01", created_before="2999-12-31")) == 4
    assert feed(world, created_before="2000-01-01") == []
    assert feed(world, created_after="2999-01-01") == []
    bad = world.call("GET", "/activity-feeds", params={"created_after": "yesterday"})
    assert bad.status_code == 400
    assert world.call("GET", "/activity-feeds", params={"sort": "name"}).status_code == 400


def test_default_page_size_is_20_and_pagination_is_exact(world: World) -> None:
    run = run_of(world)
    for index in range(22):
        ok(world.call("PUT", f"/runs/{run['id']}", json={"name": f"Name {index}"}))
    first = world.call("GET", "/activity-feeds").json()
    assert len(first["data"]) == 20
    pagination = first["meta"]["pagination"]
    assert (pagination["total"], pagination["per_page"], pagination["total_pages"]) == (23, 20, 2)
    assert first["data"][0]["new_value"] == ["Name 21"]
    second = world.call("GET", "/activity-feeds?page=2").json()
    assert [r["verb"] for r in second["data"]] == [["updated"], ["updated"], ["created"]]


def test_light_members_see_only_runs_they_may_read(world: World) -> None:
    theirs = run_of(world, owner_id=world.light.user_id)
    other = run_of(world)
    ok(world.call("POST", "/tags", json={"title": "hidden"}), 201)
    visible = feed(world, world.light)
    assert {r["run_id"] for r in visible} == {theirs["id"]}
    assert feed(world, world.light, entity_type="run", entity_id=other["id"]) == []
    assert len(feed(world, world.standard)) == 3


def test_other_organizations_records_are_invisible(world: World, other_world: World) -> None:
    run = run_of(other_world)
    assert feed(world, entity_type="run", entity_id=run["id"]) == []
    assert feed(world) == []


def test_feed_filters_by_actor_email_source_and_search(world: World) -> None:
    run = world.launch(world.template())
    own = world.launch(world.template(), world.standard)
    world.call("PUT", f"/runs/{run['id']}", json={"summary": "by the admin"})
    world.call("PUT", f"/runs/{own['id']}", world.standard, json={"name": "Standard's"})

    def feed(query: str) -> list[dict[str, object]]:
        response = world.call("GET", f"/activity-feeds?{query}&per_page=100")
        assert response.status_code == 200, response.text
        return flat_all(response.json()["data"])

    admin_email = world.call("GET", "/me").json()["data"]["email"]
    assert {r["actor_id"] for r in feed(f"actor_email={admin_email}")} == {world.admin.user_id}
    assert feed("source=Guest") == []
    assert len(feed("source=Member")) == len(feed("sort=-created_at"))
    assert [r["field"] for r in feed("search=summary")] == ["summary"]
