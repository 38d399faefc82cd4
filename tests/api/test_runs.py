"""Runs: launch, read with includes, list with filters and paging, archive and delete."""

from typing import Any

import pytest

from tests.factories import World

RUN_KEYS = {
    "id",
    "increment_id",
    "organization_id",
    "checklist_id",
    "checklist_title",
    "name",
    "summary",
    "status",
    "progress",
    "whole_progress",
    "started_by",
    "owner_id",
    "prerun",
    "prerun_status",
    "prerun_completed_at",
    "prerun_completed_by",
    "prerun_length",
    "starred",
    "created_at",
    "started_at",
    "last_updated",
    "completed_at",
    "archived_at",
    "due_date",
    "max_task_deadline",
    "due_date_passed",
    "due_soon",
    "late_tasks",
    "has_open_issue",
    "collaborators",
    "type",
    "is_public",
    "prevent_guest_comment",
    "users",
    "groups",
    "parent_id",
    "can_add_oot",
    "assign_someone_else",
    "tags",
    "folders",
}


def test_launch_shape_and_defaults(world: World) -> None:
    template = world.template(
        title="Hiring",
        steps=[
            {"title": "Screen", "deadline": {"value": 2, "unit": "days", "option": "from"}},
            {"title": "Interview", "assignees": [world.standard.user_id]},
        ],
    )
    response = world.call("POST", "/runs", json={"checklist_id": template})
    assert response.status_code == 201
    run = response.json()["data"]
    assert set(run) == RUN_KEYS
    assert len(run["id"]) == 32
    assert run["name"].startswith("Hiring - ")
    assert run["checklist_id"] == template
    assert run["checklist_title"] == "Hiring"
    assert run["owner_id"] == run["started_by"] == world.admin.user_id
    assert run["status"] == "active"
    assert run["progress"] == {"complete": 0, "total": 2, "percent": 0.0}
    assert run["due_date"] is not None
    assert run["due_date"].endswith("Z")
    assert run["tags"] == []
    assert run["folders"] == []
    assert run["users"] == []
    assert isinstance(run["increment_id"], int)


def test_launch_assigns_tasks_by_precedence(world: World) -> None:
    template = world.template(
        steps=[
            {"title": "Launcher"},
            {"title": "Step owner", "assignees": [world.standard.user_id]},
            {"title": "Nobody", "assign_run_starter": False},
        ]
    )
    run = world.launch(template)
    tasks = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]["tasks"]["data"]
    owners = [t["owners"]["users"] for t in tasks]
    assert owners == [[world.admin.user_id], [world.standard.user_id], []]
    step_id = tasks[0]["step_id"]
    overridden = world.launch(
        template,
        tasks={
            step_id: {
                "owners": {"users": [world.light.user_id]},
                "deadline": "2030-01-01T00:00:00Z",
            }
        },
    )
    first = world.call("GET", f"/runs/{overridden['id']}?with=tasks").json()["data"]["tasks"]
    assert first["data"][0]["owners"]["users"] == [world.light.user_id]
    assert first["data"][0]["deadline"] == "2030-01-01T00:00:00.000Z"


def test_launch_with_lists(world: World) -> None:
    tag, folder = world.tag(), world.folder()
    run = world.launch(
        world.template(),
        tags=[tag],
        folders=[folder],
        users=[world.standard.user_id],
        name="Listed",
        summary="S",
        owner_id=world.standard.user_id,
    )
    assert (run["tags"], run["folders"], run["users"]) == (
        [tag],
        [folder],
        [world.standard.user_id],
    )
    assert (run["name"], run["summary"], run["owner_id"]) == ("Listed", "S", world.standard.user_id)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "checklist_id"),
        ({"checklist_id": "0" * 32}, "checklist_id"),
        ({"checklist_id": 5}, "checklist_id"),
    ],
)
def test_launch_invalid(world: World, body: dict[str, Any], field: str) -> None:
    response = world.call("POST", "/runs", json=body)
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_launch_from_another_organizations_template(world: World, other_world: World) -> None:
    response = world.call("POST", "/runs", json={"checklist_id": other_world.template()})
    assert response.status_code == 422


def test_light_members_cannot_launch(world: World) -> None:
    response = world.call("POST", "/runs", world.light, json={"checklist_id": world.template()})
    assert response.status_code == 403


def test_get_with_includes(world: World) -> None:
    template = world.template(
        kickoff=[{"field_type": "text", "label": "Client"}],
        steps=[
            {"title": "One", "captures": [{"field_type": "text", "label": "Note"}]},
            {"title": "Two"},
        ],
    )
    run = world.launch(template)
    data = world.call(
        "GET", f"/runs/{run['id']}?with=tasks,next_task,ko_form_fields,form_fields,tags,folders"
    ).json()["data"]
    assert [t["title"] for t in data["tasks"]["data"]] == ["One", "Two"]
    assert [t["title"] for t in data["next_task"]["data"]] == ["One"]
    assert [f["label"] for f in data["ko_form_fields"]["data"]] == ["Client"]
    assert [f["label"] for f in data["form_fields"]["data"]] == ["Note"]
    assert data["tags"] == {"data": []}
    assert data["folders"] == {"data": []}


def test_get_unknown_and_foreign_runs(world: World, other_world: World) -> None:
    foreign = other_world.launch(other_world.template())
    for run_id in ("0" * 32, foreign["id"], "not-even-hex"):
        response = world.call("GET", f"/runs/{run_id}")
        assert response.status_code == 404
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"


def test_light_member_reads_only_runs_they_are_part_of(world: World) -> None:
    hidden = world.launch(world.template())
    mine = world.launch(world.template(steps=[{"title": "T", "assignees": [world.light.user_id]}]))
    assert world.call("GET", f"/runs/{hidden['id']}", world.light).status_code == 403
    assert world.call("GET", f"/runs/{mine['id']}", world.light).status_code == 200
    listed = world.call("GET", "/runs", world.light).json()["data"]
    assert [r["id"] for r in listed] == [mine["id"]]


def test_list_pagination_meta_is_exact(world: World) -> None:
    template = world.template()
    ids = [world.launch(template, name=f"Run {i:02d}")["id"] for i in range(23)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = world.call("GET", f"/runs?per_page=10&page={page}&sort=name").json()
        meta = body["meta"]["pagination"]
        assert meta["total"] == 23
        assert meta["per_page"] == 10
        assert meta["current_page"] == page
        assert meta["total_pages"] == 3
        assert meta["count"] == len(body["data"]) == (10 if page < 3 else 3)
        assert ("next" in meta["links"]) == (page < 3)
        assert ("previous" in meta["links"]) == (page > 1)
        seen += [r["id"] for r in body["data"]]
    assert sorted(seen) == sorted(ids)
    assert [world.call("GET", "/runs?sort=name&per_page=100").json()["data"][0]["name"]] == [
        "Run 00"
    ]


def test_list_per_page_is_clamped_and_unpaged_works(world: World) -> None:
    world.launch(world.template())
    meta = world.call("GET", "/runs?per_page=1000").json()["meta"]["pagination"]
    assert meta["per_page"] == 100
    everything = world.call("GET", "/runs?without_pagination=true").json()
    assert everything["meta"]["pagination"]["total_pages"] == 1


@pytest.mark.parametrize(
    "query",
    ["per_page=0", "page=0", "page=abc", "per_page=x", "sort=bogus", "status=bogus", "owners=a,b"],
)
def test_list_malformed_queries(world: World, query: str) -> None:
    response = world.call("GET", f"/runs?{query}")
    assert response.status_code in (400, 422)
    assert response.json()["error"] is True


def test_list_filters(world: World) -> None:
    t1, t2 = world.template(title="Alpha"), world.template(title="Beta")
    tag, folder = world.tag(), world.folder()
    a = world.launch(t1, name="Find me please", tags=[tag], starred=True)
    b = world.launch(t2, name="Other", folders=[folder], owner_id=world.standard.user_id)
    c = world.launch(t2, name="Gone")
    world.call("DELETE", f"/runs/{c['id']}")

    def ids(query: str) -> list[str]:
        response = world.call("GET", f"/runs?{query}")
        assert response.status_code == 200, response.text
        return sorted(r["id"] for r in response.json()["data"])

    assert ids("q=find") == [a["id"]]
    assert ids(f"checklist_id={t1}") == [a["id"]]
    assert ids(f"blueprint_id={t2}") == [b["id"]]
    assert ids(f"tag={tag}") == [a["id"]]
    assert ids(f"tag_ids={tag}") == [a["id"]]
    assert ids(f"folder={folder}") == [b["id"]]
    assert ids("starred=true") == [a["id"]]
    assert ids(f"owners={world.standard.user_id}") == [b["id"]]
    assert ids("untagged=true") == sorted([b["id"]])
    assert ids("archived=only") == [c["id"]]
    assert ids("status=archived") == [c["id"]]
    assert ids("archived=true") == sorted([a["id"], b["id"], c["id"]])
    assert ids("status=active") == sorted([a["id"], b["id"]])
    assert ids("status=complete") == []
    assert ids("type=procedure") == sorted([a["id"], b["id"]])


def test_list_filters_combined_with_exact_totals(world: World) -> None:
    template = world.template()
    tag1, tag2 = world.tag("urgent"), world.tag()
    folder1, folder2 = world.folder(), world.folder()
    r1 = world.launch(template, name="r1", tags=[tag1, tag2], folders=[folder1])
    r2 = world.launch(template, name="r2", tags=[tag1], folders=[folder1, folder2])
    r3 = world.launch(template, name="r3", tags=[tag2], folders=[folder2])
    world.launch(template, name="r4", folders=[folder1])

    def page(query: str) -> tuple[list[str], int]:
        response = world.call("GET", f"/runs?sort=name&{query}")
        assert response.status_code == 200, response.text
        body = response.json()
        return [r["id"] for r in body["data"]], body["meta"]["pagination"]["total"]

    both = ([r1["id"], r2["id"]], 2)
    assert page(f"tag={tag1}&folder={folder1}") == both
    assert page(f"status=active&tag=urgent&folder={folder1}") == both
    assert page(f"tag_ids={tag1},{tag2}") == ([r1["id"], r2["id"], r3["id"]], 3)
    assert page(f"tag={tag2}&folder={folder2}") == ([r3["id"]], 1)
    assert page(f"tag={tag1}&folder={folder1}&per_page=1&page=2") == ([r2["id"]], 2)
    assert page(f"tag={tag1}&folder={folder1}&per_page=1&page=5") == ([], 2)
    assert page(f"status=complete&tag={tag1}&folder={folder1}") == ([], 0)


def test_archive_activate_delete(world: World) -> None:
    run = world.launch(world.template())
    premature = world.call("DELETE", f"/runs/{run['id']}/delete")
    assert premature.status_code == 422
    archived = world.call("DELETE", f"/runs/{run['id']}")
    assert archived.status_code == 200
    data = archived.json()["data"]
    assert data["status"] == "archived"
    assert data["archived_at"] is not None
    assert data["last_updated"] > run["last_updated"]
    restored = world.call("PUT", f"/runs/{run['id']}/activate").json()["data"]
    assert restored["status"] == "active"
    assert restored["archived_at"] is None
    world.call("DELETE", f"/runs/{run['id']}")
    assert world.call("DELETE", f"/runs/{run['id']}/delete", world.standard).status_code == 403
    gone = world.call("DELETE", f"/runs/{run['id']}/delete")
    assert gone.status_code == 200
    assert world.call("GET", f"/runs/{run['id']}").status_code == 404


def test_archive_roles(world: World) -> None:
    run = world.launch(world.template())
    assert world.call("DELETE", f"/runs/{run['id']}", world.light).status_code == 403
    assert world.call("DELETE", f"/runs/{run['id']}", world.standard).status_code == 403
    own = world.launch(world.template(), world.standard)
    assert world.call("DELETE", f"/runs/{own['id']}", world.standard).status_code == 200


def test_kickoff_completion(world: World) -> None:
    template = world.template(kickoff=[{"field_type": "text", "label": "Why", "required": False}])
    run = world.launch(template)
    assert run["prerun_status"] == "complete"
    reopened = world.call("DELETE", f"/runs/{run['id']}/complete-prerun").json()["data"]
    assert reopened["prerun_status"] == "pending"
    assert reopened["prerun_completed_at"] is None
    done = world.call("POST", f"/runs/{run['id']}/complete-prerun").json()["data"]
    assert done["prerun_status"] == "complete"
    assert done["prerun_completed_by"] == world.admin.user_id


def test_unknown_route_is_json_404(world: World) -> None:
    response = world.call("GET", "/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {
        "error": True,
        "message": "API endpoint not found",
        "code": "ENDPOINT_NOT_FOUND",
    }


def test_me_and_organizations(world: World) -> None:
    me = world.client.get("/me", headers=world.admin.headers).json()["data"]
    assert me["id"] == world.admin.user_id
    orgs = world.client.get("/api/me/organizations", headers=world.admin.headers).json()
    assert world.org_id in [o["id"] for o in orgs["data"]]
    in_org = world.call("GET", "/me").json()["data"]
    assert in_org["role"] == "admin"


def test_checklist_include(world: World) -> None:
    template = world.template(title="Included")
    run = world.launch(template)
    single = world.call("GET", f"/runs/{run['id']}?with=checklist").json()["data"]
    assert single["checklist"]["data"]["id"] == template
    assert single["checklist"]["data"]["title"] == "Included"
    listed = world.call("GET", "/runs?with=checklist").json()["data"]
    assert listed[0]["checklist"]["data"]["id"] == template


def test_huge_user_ids_are_unknown_not_errors(world: World) -> None:
    template = world.template(steps=[{"title": "T"}])
    run = world.launch(template)
    step_id = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]["tasks"]["data"][0][
        "step_id"
    ]
    body = {"checklist_id": template, "tasks": {step_id: {"owners": {"users": [2**40]}}}}
    assert world.call("POST", "/runs", json=body).status_code == 422
    assert world.call("PUT", f"/runs/{run['id']}", json={"users": [2**40]}).status_code == 422


def test_a_task_held_through_a_group_counts_as_held(world: World) -> None:
    group = world.call(
        "POST", "/groups", json={"name": "Reviewers", "members": [world.light.user_id]}
    )
    assert group.status_code == 201, group.text
    template = world.template(
        steps=[
            {"title": "Review", "groups": [group.json()["data"]["id"]], "assign_run_starter": False}
        ]
    )
    run = world.launch(template)
    assert world.call("GET", f"/runs/{run['id']}", world.light).status_code == 200
    listed = world.call("GET", "/runs", world.light).json()["data"]
    assert [r["id"] for r in listed] == [run["id"]]
    tasks = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]["tasks"]["data"]
    assert tasks[0]["checklist_id"] == template
