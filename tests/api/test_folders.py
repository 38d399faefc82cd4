"""Folders: CRUD of the tree, listing as Tallyfy's SDK asks for it, and filing objects."""

import re
from typing import Any

import pytest
from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, FolderLink
from tests.factories import World

FOLDER_KEYS = {
    "id",
    "name",
    "parent_id",
    "parent",
    "total",
    "position",
    "folder_type",
    "created_at",
    "last_updated",
}
LINK_KEYS = {"id", "folder_id", "subject_id", "subject_type", "created_at"}
HEX32 = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
SDK_LIST = "/folders?pagination=false&sort=position&with=children&folder_type=checklist"


def create(world: World, name: str, member: Any = None, **body: Any) -> dict[str, Any]:
    response = world.call("POST", "/folders", member, json={"name": name, **body})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def get(world: World, path: str) -> Any:
    response = world.call("GET", path)
    assert response.status_code == 200, response.text
    return response.json()


def names(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


def file_run(
    world: World, folder_id: str, subject_id: str, subject_type: str = "Run", member: Any = None
) -> Any:
    return world.call(
        "POST",
        "/folders/add-object",
        member,
        json={"folder_id": folder_id, "subject_id": subject_id, "subject_type": subject_type},
    )


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert field in body["errors"], body["errors"]
    assert all(isinstance(m, str) and m for m in body["errors"][field])


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "RESOURCE_NOT_FOUND"


def put_in_folder(world: World, template_id: str, folder_id: str | None) -> None:
    with UnitOfWork(world.factory, write=True) as uow:
        checklist = uow.session.get(Checklist, template_id)
        assert checklist is not None
        checklist.folder_id = folder_id


# Create, read, update, delete


def test_create_shape(world: World) -> None:
    response = world.call("POST", "/folders", json={"name": "  Sales  "})
    assert response.status_code == 201
    assert set(response.json()) == {"data"}
    data = response.json()["data"]
    assert set(data) == FOLDER_KEYS
    assert HEX32.fullmatch(data["id"])
    assert (data["name"], data["parent_id"], data["parent"]) == ("Sales", None, None)
    assert (data["total"], data["position"], data["folder_type"]) == (0, 1, "checklist")
    assert TIMESTAMP.fullmatch(data["created_at"])
    assert TIMESTAMP.fullmatch(data["last_updated"])
    assert get(world, f"/folders/{data['id']}") == {"data": data}


def test_create_nested_positions_and_types(world: World) -> None:
    root = create(world, "Root")
    child = create(world, "Child", parent_id=root["id"])
    assert (child["parent_id"], child["parent"], child["position"]) == (root["id"], "Root", 1)
    assert child["folder_type"] == "checklist"
    assert create(world, "Second root")["position"] == 2
    assert create(world, "Placed", position=7)["position"] == 7
    runs = create(world, "Runs", folder_type="run")
    assert create(world, "Run child", parent_id=runs["id"])["folder_type"] == "run"
    assert create(world, "Standard's", world.standard)["name"] == "Standard's"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": None}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 251}, "name"),
        ({"name": 5}, "name"),
        ({"name": "ok", "parent_id": "0" * 32}, "parent_id"),
        ({"name": "ok", "parent_id": 3}, "parent_id"),
        ({"name": "ok", "folder_type": "bogus"}, "folder_type"),
        ({"name": "ok", "position": -1}, "position"),
    ],
)
def test_create_invalid(world: World, body: dict[str, Any], field: str) -> None:
    assert_invalid(world.call("POST", "/folders", json=body), field)
    assert get(world, "/folders")["data"] == []


def test_create_under_a_foreign_or_mismatched_parent(world: World, other_world: World) -> None:
    theirs = create(other_world, "Theirs")
    assert_invalid(
        world.call("POST", "/folders", json={"name": "x", "parent_id": theirs["id"]}), "parent_id"
    )
    runs = create(world, "Runs", folder_type="run")
    assert_invalid(
        world.call(
            "POST",
            "/folders",
            json={"name": "x", "parent_id": runs["id"], "folder_type": "checklist"},
        ),
        "parent_id",
    )


def test_name_at_the_length_limit(world: World) -> None:
    assert create(world, "n" * 250)["name"] == "n" * 250


def test_get_unknown_and_foreign(world: World, other_world: World) -> None:
    assert_not_found(world.call("GET", f"/folders/{'0' * 32}"))
    theirs = create(other_world, "Theirs")
    assert_not_found(world.call("GET", f"/folders/{theirs['id']}"))


def test_get_with_children(world: World) -> None:
    root = create(world, "Root")
    b = create(world, "B", parent_id=root["id"])
    a = create(world, "A", parent_id=root["id"])
    leaf = create(world, "Leaf", parent_id=b["id"])
    data = get(world, f"/folders/{root['id']}?with=children")["data"]
    assert set(data) == FOLDER_KEYS | {"children"}
    kids = data["children"]["data"]
    assert [k["id"] for k in kids] == [b["id"], a["id"]]
    assert kids[0]["children"] == {"data": [{**leaf, "children": {"data": []}}]}
    assert kids[1]["children"] == {"data": []}
    assert "children" not in get(world, f"/folders/{root['id']}")["data"]


def test_update(world: World) -> None:
    first, second = create(world, "First"), create(world, "Second")
    child = create(world, "Child", parent_id=first["id"])
    response = world.call(
        "PUT",
        f"/folders/{child['id']}",
        json={"name": " Moved ", "parent_id": second["id"], "position": 4},
    )
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == FOLDER_KEYS
    assert (data["name"], data["parent_id"], data["parent"], data["position"]) == (
        "Moved",
        second["id"],
        "Second",
        4,
    )
    assert data["last_updated"] > child["last_updated"]
    kept = world.call("PUT", f"/folders/{child['id']}", json={"name": "Moved"}).json()["data"]
    assert kept == data
    top = world.call("PUT", f"/folders/{child['id']}", json={"name": "Top", "parent_id": None})
    assert (top.json()["data"]["parent_id"], top.json()["data"]["parent"]) == (None, None)
    assert get(world, f"/folders/{child['id']}")["data"] == top.json()["data"]


def test_update_refuses_cycles(world: World) -> None:
    root = create(world, "Root")
    child = create(world, "Child", parent_id=root["id"])
    grandchild = create(world, "Grandchild", parent_id=child["id"])
    for parent in (root["id"], child["id"], grandchild["id"]):
        response = world.call(
            "PUT", f"/folders/{root['id']}", json={"name": "Root", "parent_id": parent}
        )
        assert_invalid(response, "parent_id")
    assert get(world, f"/folders/{root['id']}")["data"] == root


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"parent_id": None}, "name"),
        ({"name": ""}, "name"),
        ({"name": "n" * 251}, "name"),
        ({"name": "ok", "parent_id": "0" * 32}, "parent_id"),
        ({"name": "ok", "position": None}, "position"),
    ],
)
def test_update_invalid_changes_nothing(world: World, body: dict[str, Any], field: str) -> None:
    folder = create(world, "Mine")
    assert_invalid(world.call("PUT", f"/folders/{folder['id']}", json=body), field)
    assert get(world, f"/folders/{folder['id']}")["data"] == folder


def test_update_unknown_and_foreign(world: World, other_world: World) -> None:
    assert_not_found(world.call("PUT", f"/folders/{'0' * 32}", json={"name": "x"}))
    theirs = create(other_world, "Theirs")
    assert_not_found(world.call("PUT", f"/folders/{theirs['id']}", json={"name": "x"}))
    mine = create(world, "Mine")
    assert_invalid(
        world.call("PUT", f"/folders/{mine['id']}", json={"name": "x", "parent_id": theirs["id"]}),
        "parent_id",
    )


def test_nesting_depth_is_bounded(world: World) -> None:
    parent: str | None = None
    for level in range(20):
        parent = create(world, f"L{level}", **({"parent_id": parent} if parent else {}))["id"]
    assert_invalid(
        world.call("POST", "/folders", json={"name": "deep", "parent_id": parent}), "parent_id"
    )
    other = create(world, "Other")
    create(world, "Under other", parent_id=other["id"])
    assert_invalid(
        world.call("PUT", f"/folders/{other['id']}", json={"name": "Other", "parent_id": parent}),
        "parent_id",
    )


def test_delete_removes_subtree_and_unfiles_contents(world: World) -> None:
    root = create(world, "Root")
    child = create(world, "Child", parent_id=root["id"])
    survivor = create(world, "Survivor")
    template = world.template()
    put_in_folder(world, template, child["id"])
    run = world.launch(template)
    link = file_run(world, child["id"], run["id"]).json()["data"]
    stamp = world.call("GET", f"/runs/{run['id']}").json()["data"]["last_updated"]
    response = world.call("DELETE", f"/folders/{root['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_not_found(world.call("GET", f"/folders/{root['id']}"))
    assert_not_found(world.call("GET", f"/folders/{child['id']}"))
    assert get(world, "/folders")["data"] == [survivor]
    after = world.call("GET", f"/runs/{run['id']}").json()["data"]
    assert after["folders"] == []
    assert after["last_updated"] > stamp
    with UnitOfWork(world.factory, write=False) as uow:
        checklist = uow.session.get(Checklist, template)
        assert checklist is not None
        assert checklist.folder_id is None
        query = select(FolderLink).where(FolderLink.id == link["id"])
        assert uow.session.scalars(query).all() == []
    assert_not_found(world.call("DELETE", f"/folders/{root['id']}"))


def test_delete_foreign(world: World, other_world: World) -> None:
    theirs = create(other_world, "Theirs")
    assert_not_found(world.call("DELETE", f"/folders/{theirs['id']}"))
    assert other_world.call("GET", f"/folders/{theirs['id']}").status_code == 200


def test_light_members_read_but_do_not_write(world: World) -> None:
    folder = create(world, "Visible")
    run = world.launch(world.template(), owner_id=world.light.user_id)
    light = world.light
    assert world.call("GET", "/folders", light).json()["data"] == [folder]
    assert world.call("GET", f"/folders/{folder['id']}", light).json()["data"] == folder
    link = file_run(world, folder["id"], run["id"]).json()["data"]
    for method, path, body in (
        ("POST", "/folders", {"name": "no"}),
        ("PUT", f"/folders/{folder['id']}", {"name": "no"}),
        ("DELETE", f"/folders/{folder['id']}", None),
        (
            "POST",
            "/folders/add-object",
            {"folder_id": folder["id"], "subject_id": run["id"], "subject_type": "Run"},
        ),
        ("DELETE", f"/folders-objects/{link['id']}", None),
    ):
        response = world.call(method, path, light, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "FORBIDDEN"
    assert get(world, f"/folders/{folder['id']}")["data"] == {**folder, "total": 1}


# Listing


def test_list_as_the_sdk_asks(world: World) -> None:
    second = create(world, "Second")
    first = create(world, "First", position=0)
    inner = create(world, "Inner", parent_id=first["id"])
    create(world, "Runs", folder_type="run")
    body = get(world, SDK_LIST)
    assert [f["id"] for f in body["data"]] == [first["id"], second["id"]]
    assert body["data"][0]["children"] == {"data": [{**inner, "children": {"data": []}}]}
    assert body["meta"]["pagination"] == {
        "total": 2,
        "count": 2,
        "per_page": 2,
        "current_page": 1,
        "total_pages": 1,
        "links": {},
    }
    assert names(get(world, SDK_LIST.replace("checklist", "None"))["data"]) == [
        "First",
        "Second",
        "Runs",
    ]
    assert names(get(world, "/folders?folder_type=run")["data"]) == ["Runs"]


def test_list_filters_and_sorts(world: World) -> None:
    b = create(world, "beta")
    create(world, "Alpha")
    create(world, "gamma box", parent_id=b["id"])
    create(world, "Delta box")
    assert names(get(world, "/folders")["data"]) == ["beta", "Alpha", "Delta box"]
    assert names(get(world, "/folders?sort=-position")["data"]) == ["Delta box", "Alpha", "beta"]
    assert names(get(world, "/folders?sort=name")["data"]) == ["Alpha", "beta", "Delta box"]
    assert names(get(world, "/folders?sort=-name")["data"]) == ["Delta box", "beta", "Alpha"]
    assert names(get(world, "/folders?q=BOX")["data"]) == ["gamma box", "Delta box"]
    assert names(get(world, f"/folders?parent_id={b['id']}")["data"]) == ["gamma box"]
    assert get(world, f"/folders?parent_id={'0' * 32}")["data"] == []
    assert_invalid(world.call("GET", "/folders?sort=bogus"), "sort")


def test_list_pagination_meta_is_exact(world: World) -> None:
    created = [create(world, f"F{i:02d}")["id"] for i in range(12)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = get(world, f"/folders?per_page=5&page={page}")
        meta = body["meta"]["pagination"]
        assert (meta["total"], meta["per_page"], meta["current_page"], meta["total_pages"]) == (
            12,
            5,
            page,
            3,
        )
        assert meta["count"] == len(body["data"]) == (5 if page < 3 else 2)
        assert ("next" in meta["links"]) == (page < 3)
        assert ("previous" in meta["links"]) == (page > 1)
        seen += [f["id"] for f in body["data"]]
    assert seen == created
    everything = get(world, "/folders?pagination=false&per_page=5")
    assert len(everything["data"]) == 12
    assert everything["meta"]["pagination"]["total_pages"] == 1


def test_other_organizations_folders_are_not_listed(world: World, other_world: World) -> None:
    create(other_world, "Theirs")
    body = get(world, SDK_LIST)
    assert body["data"] == []
    assert body["meta"]["pagination"]["total"] == 0


# Filing runs and tasks


def test_file_a_run(world: World) -> None:
    folder = create(world, "Clients")
    run = world.launch(world.template())
    response = file_run(world, folder["id"], run["id"])
    assert response.status_code == 201, response.text
    link = response.json()["data"]
    assert set(link) == LINK_KEYS
    assert isinstance(link["id"], int)
    assert (link["folder_id"], link["subject_id"], link["subject_type"]) == (
        folder["id"],
        run["id"],
        "Run",
    )
    assert TIMESTAMP.fullmatch(link["created_at"])
    after = world.call("GET", f"/runs/{run['id']}?with=folders").json()["data"]
    assert after["folders"] == {
        "data": [
            {"id": link["id"], "folder_id": folder["id"], "name": "Clients", "parent_id": None}
        ]
    }
    assert after["last_updated"] > run["last_updated"]
    assert get(world, f"/folders/{folder['id']}")["data"]["total"] == 1
    again = file_run(world, folder["id"], run["id"])
    assert again.status_code == 200
    assert again.json()["data"] == link
    stamp = world.call("GET", f"/runs/{run['id']}").json()["data"]["last_updated"]
    assert stamp == after["last_updated"]


def test_file_a_task_and_count_templates(world: World) -> None:
    folder = create(world, "Work")
    template = world.template()
    put_in_folder(world, template, folder["id"])
    run = world.launch(template)
    task = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]["tasks"]["data"][0]
    response = file_run(world, folder["id"], task["id"], "task")
    assert response.status_code == 201, response.text
    assert response.json()["data"]["subject_type"] == "Task"
    assert response.json()["data"]["subject_id"] == task["id"]
    assert get(world, f"/folders/{folder['id']}")["data"]["total"] == 2
    listed = get(world, "/folders")["data"]
    assert [f["total"] for f in listed] == [2]


def test_remove_an_object(world: World) -> None:
    folder = create(world, "Clients")
    run = world.launch(world.template())
    link = file_run(world, folder["id"], run["id"]).json()["data"]
    stamp = world.call("GET", f"/runs/{run['id']}").json()["data"]["last_updated"]
    response = world.call("DELETE", f"/folders-objects/{link['id']}")
    assert response.status_code == 204
    after = world.call("GET", f"/runs/{run['id']}").json()["data"]
    assert after["folders"] == []
    assert after["last_updated"] > stamp
    assert_not_found(world.call("DELETE", f"/folders-objects/{link['id']}"))


def test_put_run_folders_gives_relation_ids_that_removal_takes(world: World) -> None:
    folder = create(world, "Clients")
    run = world.launch(world.template())
    put = world.call("PUT", f"/runs/{run['id']}", json={"folders": [folder["id"]]})
    assert put.json()["data"]["folders"] == [folder["id"]]
    items = world.call("GET", f"/runs/{run['id']}?with=folders").json()["data"]["folders"]["data"]
    assert world.call("DELETE", f"/folders-objects/{items[0]['id']}").status_code == 204
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["folders"] == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"folder_id": "0" * 32}, "folder_id"),
        ({"subject_id": "0" * 32}, "subject_id"),
        ({"subject_type": "Task"}, "subject_id"),
        ({"subject_type": "Checklist"}, "subject_type"),
        ({"subject_type": None}, "subject_type"),
        ({"folder_id": None}, "folder_id"),
    ],
)
def test_file_invalid(world: World, change: dict[str, Any], field: str) -> None:
    folder = create(world, "f")
    run = world.launch(world.template())
    body = {"folder_id": folder["id"], "subject_id": run["id"], "subject_type": "Run", **change}
    assert_invalid(world.call("POST", "/folders/add-object", json=body), field)
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["folders"] == []


def test_file_across_organizations(world: World, other_world: World) -> None:
    mine, theirs = create(world, "mine"), create(other_world, "theirs")
    run = world.launch(world.template())
    their_run = other_world.launch(other_world.template())
    assert_invalid(file_run(world, theirs["id"], run["id"]), "folder_id")
    assert_invalid(file_run(world, mine["id"], their_run["id"]), "subject_id")
    link = file_run(other_world, theirs["id"], their_run["id"]).json()["data"]
    assert_not_found(world.call("DELETE", f"/folders-objects/{link['id']}"))
    assert other_world.call("GET", f"/runs/{their_run['id']}").json()["data"]["folders"] == [
        theirs["id"]
    ]


@pytest.mark.parametrize("relation", ["0", "abc", "99999999999", "-3"])
def test_remove_unknown_relation(world: World, relation: str) -> None:
    assert_not_found(world.call("DELETE", f"/folders-objects/{relation}"))
