"""Tags: CRUD, listing with filters and exact paging, statistics, and attach/detach."""

import re
from typing import Any

import pytest
from sqlalchemy import select

from procflow.domain.timeutil import utcnow
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Checklist, Tag, TagLink
from tests.factories import World

TAG_KEYS = {"id", "title", "color", "auto_generated", "created_at", "deleted_at"}
LINK_KEYS = {
    "id",
    "tag_id",
    "subject_id",
    "subject_type",
    "tag_type",
    "title",
    "color",
    "auto_generated",
    "created_at",
}
HEX32 = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def create(
    world: World, title: str, color: str | None = None, member: Any = None
) -> dict[str, Any]:
    body = {"title": title} if color is None else {"title": title, "color": color}
    response = world.call("POST", "/tags", member, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def attach(
    world: World, subject_id: str, tag_id: str, subject_type: str = "Run", member: Any = None
) -> Any:
    return world.call(
        "POST",
        "/checklists/tags",
        member,
        json={
            "subject_id": subject_id,
            "subject_type": subject_type,
            "tag_id": tag_id,
            "tag_type": "private",
        },
    )


def run_of(world: World, run_id: str, query: str = "") -> dict[str, Any]:
    response = world.call("GET", f"/runs/{run_id}{query}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def assert_invalid(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["message"] == "The given data was invalid."
    assert field in body["errors"], body["errors"]
    assert all(isinstance(m, str) and m for m in body["errors"][field])


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404, response.text
    body = response.json()
    assert body["error"] is True
    assert body["code"] == "RESOURCE_NOT_FOUND"


def add_auto_tag(world: World, title: str) -> str:
    with UnitOfWork(world.factory, write=True) as uow:
        tag = Tag(org_id=world.org_id, title=title, auto_generated=True)
        uow.session.add(tag)
        uow.session.flush()
        return tag.id


# Create, read, update, delete


def test_create_shape(world: World) -> None:
    response = world.call("POST", "/tags", json={"title": "  Urgent  ", "color": "#3366FF"})
    assert response.status_code == 201
    data = response.json()["data"]
    assert set(response.json()) == {"data"}
    assert set(data) == TAG_KEYS
    assert HEX32.fullmatch(data["id"])
    assert data["title"] == "Urgent"
    assert data["color"] == "#3366FF"
    assert data["auto_generated"] is False
    assert TIMESTAMP.fullmatch(data["created_at"])
    assert data["deleted_at"] is None
    assert world.call("GET", f"/tags/{data['id']}").json() == {"data": data}


def test_create_without_color_and_at_the_length_limit(world: World) -> None:
    data = create(world, " " + "x" * 30 + " ")
    assert data["title"] == "x" * 30
    assert data["color"] is None


def test_standard_member_creates(world: World) -> None:
    assert create(world, "by-standard", member=world.standard)["title"] == "by-standard"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": None}, "title"),
        ({"title": 12}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 31}, "title"),
        ({"title": "ok", "color": "#fff"}, "color"),
        ({"title": "ok", "color": "red"}, "color"),
        ({"title": "ok", "color": "#12345g"}, "color"),
        ({"title": "ok", "color": "#1234567"}, "color"),
        ({"title": "ok", "color": 3}, "color"),
    ],
)
def test_create_invalid(world: World, body: dict[str, Any], field: str) -> None:
    assert_invalid(world.call("POST", "/tags", json=body), field)
    assert world.call("GET", "/tags").json()["data"] == []


def test_titles_are_unique_ignoring_case(world: World) -> None:
    create(world, "Billing")
    response = world.call("POST", "/tags", json={"title": " billing "})
    assert_invalid(response, "title")
    assert response.json()["errors"]["title"] == ["The title has already been taken."]
    assert world.call("GET", "/tags").json()["meta"]["pagination"]["total"] == 1


def test_same_title_in_another_organization_is_fine(world: World, other_world: World) -> None:
    create(world, "Shared")
    assert create(other_world, "Shared")["title"] == "Shared"


def test_get_unknown_and_foreign(world: World, other_world: World) -> None:
    assert_not_found(world.call("GET", f"/tags/{'0' * 32}"))
    theirs = create(other_world, "theirs")
    assert_not_found(world.call("GET", f"/tags/{theirs['id']}"))


def test_update(world: World) -> None:
    tag = create(world, "Draft", "#000000")
    body = {"title": " Final ", "color": "#ffffff"}
    response = world.call("PUT", f"/tags/{tag['id']}", json=body)
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == TAG_KEYS
    assert (data["id"], data["title"], data["color"]) == (tag["id"], "Final", "#ffffff")
    kept = world.call("PUT", f"/tags/{tag['id']}", json={"title": "FINAL"}).json()["data"]
    assert (kept["title"], kept["color"]) == ("FINAL", "#ffffff")
    cleared = world.call("PUT", f"/tags/{tag['id']}", json={"title": "FINAL", "color": None})
    assert cleared.json()["data"]["color"] is None
    assert world.call("GET", f"/tags/{tag['id']}").json()["data"] == cleared.json()["data"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"color": "#000000"}, "title"),
        ({"title": ""}, "title"),
        ({"title": "y" * 31}, "title"),
        ({"title": "Other"}, "title"),
        ({"title": "ok", "color": "#abc"}, "color"),
    ],
)
def test_update_invalid_changes_nothing(world: World, body: dict[str, Any], field: str) -> None:
    create(world, "Other")
    tag = create(world, "Mine", "#000000")
    assert_invalid(world.call("PUT", f"/tags/{tag['id']}", json=body), field)
    assert world.call("GET", f"/tags/{tag['id']}").json()["data"] == tag


def test_update_unknown_and_foreign(world: World, other_world: World) -> None:
    assert_not_found(world.call("PUT", f"/tags/{'0' * 32}", json={"title": "x"}))
    theirs = create(other_world, "theirs")
    assert_not_found(world.call("PUT", f"/tags/{theirs['id']}", json={"title": "x"}))
    assert other_world.call("GET", f"/tags/{theirs['id']}").json()["data"]["title"] == "theirs"


def test_delete(world: World) -> None:
    tag = create(world, "Gone")
    response = world.call("DELETE", f"/tags/{tag['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert_not_found(world.call("GET", f"/tags/{tag['id']}"))
    assert world.call("DELETE", f"/tags/{tag['id']}").status_code == 204


def test_delete_removes_associations_and_touches_runs(world: World) -> None:
    tag, keep = create(world, "Gone"), create(world, "Kept")
    template = world.template()
    run = world.launch(template, tags=[tag["id"], keep["id"]])
    assert attach(world, template, tag["id"], "Checklist").status_code == 201
    assert world.call("DELETE", f"/tags/{tag['id']}").status_code == 204
    after = run_of(world, run["id"])
    assert after["tags"] == [keep["id"]]
    assert after["last_updated"] > run["last_updated"]
    with UnitOfWork(world.factory, write=False) as uow:
        assert uow.session.scalars(select(TagLink).where(TagLink.tag_id == tag["id"])).all() == []


def test_delete_of_another_organizations_tag_leaves_it(world: World, other_world: World) -> None:
    theirs = create(other_world, "theirs")
    assert world.call("DELETE", f"/tags/{theirs['id']}").status_code == 204
    assert other_world.call("GET", f"/tags/{theirs['id']}").status_code == 200


def test_light_members_read_but_do_not_write(world: World) -> None:
    tag = create(world, "Visible")
    light = world.light
    assert world.call("GET", "/tags", light).json()["data"] == [tag]
    assert world.call("GET", f"/tags/{tag['id']}", light).json()["data"] == tag
    for method, path, body in (
        ("POST", "/tags", {"title": "no"}),
        ("PUT", f"/tags/{tag['id']}", {"title": "no"}),
        ("DELETE", f"/tags/{tag['id']}", None),
    ):
        response = world.call(method, path, light, json=body)
        assert response.status_code == 403, (method, response.text)
        assert response.json()["code"] == "FORBIDDEN"
    assert world.call("GET", f"/tags/{tag['id']}").json()["data"] == tag


# Listing


def test_pagination_meta_is_exact(world: World) -> None:
    created = [create(world, f"Tag {i:02d}")["id"] for i in range(23)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = world.call("GET", f"/tags?per_page=10&page={page}").json()
        assert set(body) == {"data", "meta"}
        meta = body["meta"]["pagination"]
        assert set(meta) == {"total", "count", "per_page", "current_page", "total_pages", "links"}
        assert meta["total"] == 23
        assert meta["per_page"] == 10
        assert meta["current_page"] == page
        assert meta["total_pages"] == 3
        assert meta["count"] == len(body["data"]) == (10 if page < 3 else 3)
        assert ("next" in meta["links"]) == (page < 3)
        assert ("previous" in meta["links"]) == (page > 1)
        if page < 3:
            assert f"page={page + 1}" in meta["links"]["next"]
        seen += [t["id"] for t in body["data"]]
    assert seen == created
    beyond = world.call("GET", "/tags?per_page=10&page=4").json()
    assert beyond["data"] == []
    assert beyond["meta"]["pagination"]["total"] == 23


def test_default_page_size_and_unpaged(world: World) -> None:
    for i in range(12):
        create(world, f"t{i:02d}")
    meta = world.call("GET", "/tags").json()["meta"]["pagination"]
    assert (meta["per_page"], meta["count"], meta["total_pages"]) == (10, 10, 2)
    everything = world.call("GET", "/tags?without_pagination=true").json()
    assert len(everything["data"]) == 12
    assert everything["meta"]["pagination"]["total_pages"] == 1


def test_search_and_sort(world: World) -> None:
    for title in ("beta", "Alpha", "gamma ray", "Delta ray"):
        create(world, title)

    def titles(query: str) -> list[str]:
        response = world.call("GET", f"/tags?{query}")
        assert response.status_code == 200, response.text
        return [t["title"] for t in response.json()["data"]]

    assert titles("") == ["Alpha", "beta", "Delta ray", "gamma ray"]
    assert titles("sort=-title") == ["gamma ray", "Delta ray", "beta", "Alpha"]
    assert titles("sort=created_at") == ["beta", "Alpha", "gamma ray", "Delta ray"]
    assert titles("sort=-created_at") == ["Delta ray", "gamma ray", "Alpha", "beta"]
    assert titles("q=RAY") == ["Delta ray", "gamma ray"]
    assert titles("q=%25") == []
    assert titles("status=active") == ["Alpha", "beta", "Delta ray", "gamma ray"]
    assert_invalid(world.call("GET", "/tags?sort=bogus"), "sort")


def test_auto_generated_tags_are_hidden_unless_asked(world: World) -> None:
    create(world, "manual")
    add_auto_tag(world, "from:someone")

    def titles(query: str) -> list[str]:
        return [t["title"] for t in world.call("GET", f"/tags?{query}").json()["data"]]

    assert titles("") == ["manual"]
    assert titles("all=true") == ["from:someone", "manual"]
    assert titles("auto_generated=true&all=true") == ["from:someone"]
    assert titles("auto_generated=true") == ["from:someone"]
    assert titles("auto_generated=false&all=true") == ["manual"]
    listed = world.call("GET", "/tags?all=true").json()
    assert listed["meta"]["pagination"]["total"] == 2
    assert [t["auto_generated"] for t in listed["data"]] == [True, False]


def test_statistics(world: World) -> None:
    tag, idle = create(world, "Counted"), create(world, "Idle")
    active_tpl, archived_tpl = world.template(), world.template()
    for template in (active_tpl, archived_tpl):
        assert attach(world, template, tag["id"], "Checklist").status_code == 201
    with UnitOfWork(world.factory, write=True) as uow:
        checklist = uow.session.get(Checklist, archived_tpl)
        assert checklist is not None
        checklist.archived_at = utcnow()
    runs = [world.launch(active_tpl, tags=[tag["id"]]) for _ in range(3)]
    assert world.call("DELETE", f"/runs/{runs[0]['id']}").status_code == 200
    expected = {
        "active_template": 1,
        "archived_template": 1,
        "active_process": 2,
        "archived_process": 1,
    }
    one = world.call("GET", f"/tags/{tag['id']}?with=statistics").json()["data"]
    assert set(one) == TAG_KEYS | {"statistics"}
    assert one["statistics"] == {"data": expected}
    listed = world.call("GET", "/tags?with=statistics").json()["data"]
    assert [t["statistics"]["data"] for t in listed] == [expected, dict.fromkeys(expected, 0)]
    assert "statistics" not in world.call("GET", f"/tags/{idle['id']}").json()["data"]


def test_other_organizations_tags_are_not_listed(world: World, other_world: World) -> None:
    create(other_world, "theirs")
    body = world.call("GET", "/tags").json()
    assert body["data"] == []
    assert body["meta"]["pagination"]["total"] == 0


# Attach and detach


def test_attach_to_a_run(world: World) -> None:
    tag = create(world, "Urgent", "#ff0000")
    run = world.launch(world.template())
    response = attach(world, run["id"], tag["id"])
    assert response.status_code == 201, response.text
    link = response.json()["data"]
    assert set(link) == LINK_KEYS
    assert isinstance(link["id"], int)
    assert (link["tag_id"], link["subject_id"], link["subject_type"], link["tag_type"]) == (
        tag["id"],
        run["id"],
        "Run",
        "private",
    )
    assert (link["title"], link["color"], link["auto_generated"]) == ("Urgent", "#ff0000", False)
    assert TIMESTAMP.fullmatch(link["created_at"])
    after = run_of(world, run["id"], "?with=tags")
    assert after["tags"] == {
        "data": [
            {
                "id": link["id"],
                "tag_id": tag["id"],
                "title": "Urgent",
                "color": "#ff0000",
                "auto_generated": False,
            }
        ]
    }
    assert after["last_updated"] > run["last_updated"]


def test_attach_twice_returns_the_same_link(world: World) -> None:
    tag = create(world, "Once")
    run = world.launch(world.template())
    first = attach(world, run["id"], tag["id"]).json()["data"]
    stamp = run_of(world, run["id"])["last_updated"]
    again = attach(world, run["id"], tag["id"])
    assert again.status_code == 200
    assert again.json()["data"] == first
    assert run_of(world, run["id"])["last_updated"] == stamp
    assert run_of(world, run["id"])["tags"] == [tag["id"]]


def test_attach_to_a_template_and_detach(world: World) -> None:
    tag = create(world, "Template tag")
    template = world.template()
    response = world.call(
        "POST",
        "/checklists/tags",
        json={
            "subject_id": template,
            "subject_type": "checklist",
            "tag_id": tag["id"],
            "tag_type": "public",
        },
    )
    assert response.status_code == 201, response.text
    link = response.json()["data"]
    assert (link["subject_id"], link["subject_type"], link["tag_type"]) == (
        template,
        "Checklist",
        "public",
    )
    stats = world.call("GET", f"/tags/{tag['id']}?with=statistics").json()["data"]
    assert stats["statistics"]["data"]["active_template"] == 1
    assert world.call("DELETE", f"/checklists/tags/{link['id']}").status_code == 204
    stats = world.call("GET", f"/tags/{tag['id']}?with=statistics").json()["data"]
    assert stats["statistics"]["data"]["active_template"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tag_id": "0" * 32}, "tag_id"),
        ({"subject_id": "0" * 32}, "subject_id"),
        ({"subject_type": "Checklist"}, "subject_id"),
        ({"subject_type": "Folder"}, "subject_type"),
        ({"subject_type": None}, "subject_type"),
        ({"tag_type": "secret"}, "tag_type"),
        ({"tag_type": None}, "tag_type"),
        ({"tag_id": 5}, "tag_id"),
    ],
)
def test_attach_invalid(world: World, change: dict[str, Any], field: str) -> None:
    tag = create(world, "t")
    run = world.launch(world.template())
    body = {
        "subject_id": run["id"],
        "subject_type": "Run",
        "tag_id": tag["id"],
        "tag_type": "private",
        **change,
    }
    assert_invalid(world.call("POST", "/checklists/tags", json=body), field)
    assert run_of(world, run["id"])["tags"] == []


def test_attach_requires_tag_type(world: World) -> None:
    tag = create(world, "t")
    run = world.launch(world.template())
    body = {"subject_id": run["id"], "subject_type": "Run", "tag_id": tag["id"]}
    assert_invalid(world.call("POST", "/checklists/tags", json=body), "tag_type")


def test_attach_across_organizations(world: World, other_world: World) -> None:
    mine = create(world, "mine")
    theirs = create(other_world, "theirs")
    run = world.launch(world.template())
    their_run = other_world.launch(other_world.template())
    assert_invalid(attach(world, run["id"], theirs["id"]), "tag_id")
    assert_invalid(attach(world, their_run["id"], mine["id"]), "subject_id")
    assert_invalid(attach(world, other_world.template(), mine["id"], "Checklist"), "subject_id")


def test_put_run_tags_then_detach_by_association_id(world: World) -> None:
    first, second = create(world, "first"), create(world, "second")
    run = world.launch(world.template())
    response = world.call("PUT", f"/runs/{run['id']}", json={"tags": [first["id"], second["id"]]})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["tags"] == [first["id"], second["id"]]
    items = run_of(world, run["id"], "?with=tags")["tags"]["data"]
    assert [i["tag_id"] for i in items] == [first["id"], second["id"]]
    assert all(isinstance(i["id"], int) for i in items)
    before = run_of(world, run["id"])["last_updated"]
    response = world.call("DELETE", f"/checklists/tags/{items[0]['id']}")
    assert response.status_code == 204
    after = run_of(world, run["id"])
    assert after["tags"] == [second["id"]]
    assert after["last_updated"] > before
    assert_not_found(world.call("DELETE", f"/checklists/tags/{items[0]['id']}"))


@pytest.mark.parametrize("link", ["0", "abc", "99999999999", "-1", "1.5", "\u00b2"])
def test_detach_unknown_association(world: World, link: str) -> None:
    assert_not_found(world.call("DELETE", f"/checklists/tags/{link}"))


def test_detach_another_organizations_association(world: World, other_world: World) -> None:
    tag = create(other_world, "theirs")
    run = other_world.launch(other_world.template())
    link = attach(other_world, run["id"], tag["id"]).json()["data"]
    assert_not_found(world.call("DELETE", f"/checklists/tags/{link['id']}"))
    assert run_of(other_world, run["id"])["tags"] == [tag["id"]]


def test_light_members_cannot_attach_or_detach(world: World) -> None:
    tag = create(world, "t")
    template = world.template()
    run = world.launch(template, owner_id=world.light.user_id)
    for subject, kind in ((run["id"], "Run"), (template, "Checklist")):
        response = attach(world, subject, tag["id"], kind, member=world.light)
        assert response.status_code == 403, response.text
    link = attach(world, run["id"], tag["id"]).json()["data"]
    response = world.call("DELETE", f"/checklists/tags/{link['id']}", world.light)
    assert response.status_code == 403
    assert run_of(world, run["id"])["tags"] == [tag["id"]]


def test_standard_member_tags_only_runs_they_may_update(world: World) -> None:
    tag = create(world, "t")
    foreign = world.launch(world.template())
    refused = attach(world, foreign["id"], tag["id"], member=world.standard)
    assert refused.status_code == 403
    run = world.launch(world.template(), world.standard)
    link = attach(world, run["id"], tag["id"], member=world.standard)
    assert link.status_code == 201, link.text
    response = world.call("DELETE", f"/checklists/tags/{link.json()['data']['id']}", world.standard)
    assert response.status_code == 204


def test_routes_are_also_served_under_api(world: World) -> None:
    tag = create(world, "api")
    response = world.client.get(
        f"/api/organizations/{world.org_id}/tags/{tag['id']}", headers=world.admin.headers
    )
    assert response.json() == {"data": tag}
