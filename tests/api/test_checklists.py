"""Templates (checklists): the HTTP contract as Tallyfy's clients see it."""

import re
from typing import Any

import pytest

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import TagLink
from tests.factories import Member, World

HEX32 = re.compile(r"[0-9a-f]{32}")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
CHECKLIST_KEYS = {
    "id",
    "increment_id",
    "organization_id",
    "title",
    "alias",
    "summary",
    "guidance",
    "type",
    "status",
    "starred",
    "webhook",
    "folder_id",
    "owner_id",
    "created_by",
    "last_updated_by",
    "kickoff_title",
    "kickoff_description",
    "prerun",
    "automated_actions",
    "steps_count",
    "started_processes",
    "is_public",
    "is_public_kickoff",
    "auto_naming",
    "default_process_name_format",
    "users",
    "groups",
    "topic_tags",
    "industry_tags",
    "icon",
    "explanation_video",
    "public_cover",
    "is_featured",
    "is_pinned",
    "is_published_state",
    "dual_version_enabled",
    "folderize_process",
    "tag_process",
    "allow_launcher_change_name",
    "folder_changeable_by_launcher",
    "default_folder",
    "ko_form_blueprint_id",
    "kickoff_sharing_user_id",
    "can_add_oot",
    "created_at",
    "last_updated",
    "archived_at",
}
FIELD_KEYS = {
    "id",
    "timeline_id",
    "checklist_id",
    "step_id",
    "field_type",
    "label",
    "alias",
    "guidance",
    "position",
    "required",
    "options",
    "columns",
    "settings",
    "default_value",
    "default_value_enabled",
    "collect_time",
    "use_wysiwyg_editor",
    "field_validation",
    "prefix",
    "suffix",
    "created_at",
    "last_updated",
    "archived_at",
}


def create(world: World, member: Member | None = None, **body: Any) -> dict[str, Any]:
    body.setdefault("title", "Onboarding")
    response = world.call("POST", "/checklists", member, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] is True
    assert body["code"] == "VALIDATION_FAILED"
    assert isinstance(body["message"], str)
    errors: dict[str, list[str]] = body["errors"]
    return errors


def link_tag(world: World, checklist_id: str, tag_id: str) -> int:
    with UnitOfWork(world.factory, write=True) as uow:
        link = TagLink(tag_id=tag_id, checklist_id=checklist_id)
        uow.session.add(link)
        uow.session.flush()
        return link.id


@pytest.fixture
def other(world: World) -> World:
    """A second organization, to check that ids never cross organizations."""
    return World.create(world.factory, world.client)


class TestCreate:
    def test_minimal_template_has_full_shape_and_defaults(self, world: World) -> None:
        response = world.call("POST", "/checklists", json={"title": "Onboarding"})
        assert response.status_code == 201
        assert set(response.json()) == {"data"}
        data = response.json()["data"]
        assert set(data) == CHECKLIST_KEYS
        assert HEX32.fullmatch(data["id"])
        assert isinstance(data["increment_id"], int)
        assert data["organization_id"] == world.org_id
        assert data["title"] == "Onboarding"
        assert data["alias"] == "onboarding"
        assert data["type"] == "procedure"
        assert data["status"] == "active"
        assert data["owner_id"] == world.admin.user_id
        assert data["created_by"] == world.admin.user_id
        assert data["prerun"] == []
        assert data["automated_actions"] == []
        assert data["topic_tags"] == []
        assert data["industry_tags"] == []
        assert data["users"] == []
        assert data["groups"] == []
        assert data["steps_count"] == 0
        assert data["started_processes"] == 0
        assert data["summary"] is None
        assert data["folder_id"] is None
        assert data["starred"] is False
        assert data["is_public"] is False
        assert TS.fullmatch(data["created_at"])
        assert TS.fullmatch(data["last_updated"])
        assert data["archived_at"] is None

    def test_increment_ids_count_up_per_organization(self, world: World) -> None:
        first, second = create(world), create(world)
        assert second["increment_id"] == first["increment_id"] + 1

    def test_every_writable_field_is_stored(self, world: World) -> None:
        folder = world.folder()
        data = create(
            world,
            world.standard,
            title="  Hiring  ",
            type="form",
            summary="Why",
            guidance="How",
            webhook="https://hooks.example.com/x",
            owner_id=world.admin.user_id,
            folder_id=folder,
            kickoff_title="Start",
            kickoff_description="Tell us",
            is_public=True,
            is_public_kickoff=True,
            starred=True,
            auto_naming=True,
            default_process_name_format="{{date}}",
            users=[world.light.user_id],
            groups=[],
        )
        assert data["title"] == "Hiring"
        assert data["type"] == "form"
        assert data["summary"] == "Why"
        assert data["guidance"] == "How"
        assert data["webhook"] == "https://hooks.example.com/x"
        assert data["owner_id"] == world.admin.user_id
        assert data["created_by"] == world.standard.user_id
        assert data["folder_id"] == folder
        assert data["kickoff_title"] == "Start"
        assert data["kickoff_description"] == "Tell us"
        assert data["is_public"] is data["is_public_kickoff"] is data["starred"] is True
        assert data["auto_naming"] is True
        assert data["default_process_name_format"] == "{{date}}"
        assert data["users"] == [world.light.user_id]

    def test_kickoff_fields_are_created_in_order(self, world: World) -> None:
        data = create(
            world,
            prerun=[
                {
                    "field_type": "text",
                    "label": "Client name",
                    "required": True,
                    "guidance": "Legal name",
                },
                {"field_type": "dropdown", "label": "Size", "options": ["S", {"text": "M"}]},
                {"field_type": "table", "label": "Items", "columns": ["Item", "Qty"]},
                {
                    "field_type": "text",
                    "label": "Client name",
                    "alias": "client_2nd",
                    "collect_time": True,
                    "settings": {"placeholder": "x"},
                },
            ],
        )
        prerun = data["prerun"]
        assert [f["label"] for f in prerun] == ["Client name", "Size", "Items", "Client name"]
        for position, field in enumerate(prerun, start=1):
            assert set(field) == FIELD_KEYS
            assert HEX32.fullmatch(field["id"])
            assert field["timeline_id"] == field["id"]
            assert field["checklist_id"] == data["id"]
            assert field["step_id"] is None
            assert field["position"] == position
        assert prerun[0]["alias"] == "client-name"
        assert prerun[0]["required"] is True
        assert prerun[0]["guidance"] == "Legal name"
        assert prerun[1]["options"] == [{"id": 1, "text": "S"}, {"id": 2, "text": "M"}]
        assert prerun[1]["required"] is False
        assert prerun[2]["columns"] == [{"id": 1, "label": "Item"}, {"id": 2, "label": "Qty"}]
        assert prerun[3]["alias"] == "client_2nd"
        assert prerun[3]["collect_time"] is True
        assert prerun[3]["settings"] == {"placeholder": "x", "collect_time": True}

    def test_kickoff_ids_sent_on_create_are_ignored(self, world: World) -> None:
        donor = create(world, prerun=[{"field_type": "text", "label": "A"}])
        data = create(world, prerun=donor["prerun"])
        assert data["prerun"][0]["id"] != donor["prerun"][0]["id"]
        assert data["prerun"][0]["label"] == "A"
        assert data["prerun"][0]["alias"] == donor["prerun"][0]["alias"]

    def test_generated_aliases_are_unique(self, world: World) -> None:
        data = create(
            world,
            prerun=[
                {"field_type": "text", "label": "Name"},
                {"field_type": "text", "label": "Name"},
                {"field_type": "text", "label": "!!!"},
            ],
        )
        assert [f["alias"] for f in data["prerun"]] == ["name", "name-2", "field"]

    def test_unknown_and_server_owned_keys_are_ignored(self, world: World) -> None:
        data = create(
            world,
            id="f" * 32,
            created_at="2000-01-01",
            steps_count=9,
            icon="fa-star",
            is_featured=True,
        )
        assert data["id"] != "f" * 32
        assert data["steps_count"] == 0
        assert data["created_at"] != "2000-01-01"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "title"),
            ({"title": ""}, "title"),
            ({"title": "   "}, "title"),
            ({"title": None}, "title"),
            ({"title": 12}, "title"),
            ({"title": "x" * 251}, "title"),
            ({"title": "T", "type": "checklist"}, "type"),
            ({"title": "T", "type": None}, "type"),
            ({"title": "T", "summary": "x" * 2001}, "summary"),
            ({"title": "T", "webhook": "not a url"}, "webhook"),
            ({"title": "T", "webhook": "ftp://example.com"}, "webhook"),
            ({"title": "T", "owner_id": 999_999}, "owner_id"),
            ({"title": "T", "owner_id": "1"}, "owner_id"),
            ({"title": "T", "folder_id": "0" * 32}, "folder_id"),
            ({"title": "T", "users": [999_999]}, "users.0"),
            ({"title": "T", "users": "1"}, "users"),
            ({"title": "T", "groups": ["a" * 32]}, "groups.0"),
            ({"title": "T", "starred": "yes"}, "starred"),
            ({"title": "T", "prerun": {"a": 1}}, "prerun"),
            ({"title": "T", "prerun": [{"label": "A"}]}, "prerun.0.field_type"),
            ({"title": "T", "prerun": [{"field_type": "text"}]}, "prerun.0.label"),
            ({"title": "T", "prerun": [{"field_type": "text", "label": " "}]}, "prerun.0.label"),
            (
                {"title": "T", "prerun": [{"field_type": "signature", "label": "A"}]},
                "prerun.0.field_type",
            ),
            (
                {"title": "T", "prerun": [{"field_type": "radio", "label": "A", "options": "x"}]},
                "prerun.0.options",
            ),
            (
                {
                    "title": "T",
                    "prerun": [
                        {
                            "field_type": "radio",
                            "label": "A",
                            "options": [{"id": 1, "text": "a"}, {"id": 1, "text": "b"}],
                        }
                    ],
                },
                "prerun.0.options",
            ),
            (
                {"title": "T", "prerun": [{"field_type": "table", "label": "A", "columns": [{}]}]},
                "prerun.0.columns",
            ),
            (
                {"title": "T", "prerun": [{"field_type": "text", "label": "A", "required": None}]},
                "prerun.0.required",
            ),
            (
                {
                    "title": "T",
                    "prerun": [{"field_type": "number", "label": "A", "default_value": "ten"}],
                },
                "prerun.0.default_value",
            ),
            (
                {"title": "T", "prerun": [{"field_type": "text", "label": "A", "alias": "a b"}]},
                "prerun.0.alias",
            ),
            (
                {
                    "title": "T",
                    "prerun": [
                        {"field_type": "text", "label": "A", "alias": "x"},
                        {"field_type": "text", "label": "B", "alias": "x"},
                    ],
                },
                "prerun.1.alias",
            ),
        ],
    )
    def test_invalid_body_is_refused_naming_the_field(
        self, world: World, body: dict[str, Any], field: str
    ) -> None:
        errors = errors_of(world.call("POST", "/checklists", json=body))
        assert field in errors, errors
        assert all(isinstance(m, str) and m for m in errors[field])

    def test_member_of_another_organization_is_not_a_valid_owner(
        self, world: World, other: World
    ) -> None:
        errors = errors_of(
            world.call(
                "POST",
                "/checklists",
                json={
                    "title": "T",
                    "owner_id": other.admin.user_id,
                    "users": [other.standard.user_id],
                },
            )
        )
        assert set(errors) == {"owner_id", "users.0"}

    def test_folder_of_another_organization_is_refused(self, world: World, other: World) -> None:
        errors = errors_of(
            world.call("POST", "/checklists", json={"title": "T", "folder_id": other.folder()})
        )
        assert "folder_id" in errors

    def test_all_errors_are_reported_together_and_nothing_is_written(self, world: World) -> None:
        errors = errors_of(
            world.call(
                "POST",
                "/checklists",
                json={
                    "title": "T",
                    "owner_id": 999_999,
                    "prerun": [
                        {"field_type": "text", "label": "ok"},
                        {"field_type": "bogus", "label": "x"},
                    ],
                },
            )
        )
        assert set(errors) == {"owner_id", "prerun.1.field_type"}
        listing = world.call("GET", "/checklists").json()
        assert listing["meta"]["pagination"]["total"] == 0

    def test_default_value_is_stored_normalised(self, world: World) -> None:
        data = create(
            world,
            prerun=[
                {"field_type": "date", "label": "When", "default_value": "2026-01-02"},
                {
                    "field_type": "dropdown",
                    "label": "Size",
                    "options": ["S", "M"],
                    "default_value": {"id": 2},
                },
            ],
        )
        assert data["prerun"][0]["default_value"] == "2026-01-02T00:00:00.000Z"
        assert data["prerun"][1]["default_value"] == {"id": 2, "text": "M", "value": None}

    def test_light_member_cannot_create(self, world: World) -> None:
        response = world.call("POST", "/checklists", world.light, json={"title": "T"})
        assert response.status_code == 403
        assert response.json()["code"] == "FORBIDDEN"

    def test_standard_member_can_create(self, world: World) -> None:
        assert create(world, world.standard)["owner_id"] == world.standard.user_id

    def test_api_prefix_serves_the_same_route(self, world: World) -> None:
        response = world.client.post(
            f"/api/organizations/{world.org_id}/checklists",
            headers=world.admin.headers,
            json={"title": "T"},
        )
        assert response.status_code == 201


class TestGet:
    def test_get_returns_the_template(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "A"}])
        response = world.call("GET", f"/checklists/{made['id']}", world.light)
        assert response.status_code == 200
        data = response.json()["data"]
        assert set(data) == CHECKLIST_KEYS
        assert data == made

    def test_unknown_id_is_404(self, world: World) -> None:
        response = world.call("GET", f"/checklists/{'0' * 32}")
        assert response.status_code == 404
        assert response.json() == {
            "error": True,
            "message": "Template not found",
            "code": "RESOURCE_NOT_FOUND",
        }

    def test_other_organizations_template_is_404(self, world: World, other: World) -> None:
        theirs = create(other)
        for method, path in [
            ("GET", ""),
            ("PUT", ""),
            ("DELETE", ""),
            ("PUT", "/activate"),
            ("DELETE", "/delete"),
            ("GET", "/form-fields"),
            ("GET", "/steps"),
        ]:
            response = world.call(method, f"/checklists/{theirs['id']}{path}", json={})
            assert response.status_code == 404, (method, path)
            assert response.json()["code"] == "RESOURCE_NOT_FOUND"

    def test_with_steps_tags_and_folder(self, world: World) -> None:
        folder = world.folder("Ops")
        made = create(world, folder_id=folder)
        step = world.call("POST", f"/checklists/{made['id']}/steps", json={"title": "Do"}).json()
        world.call(
            "POST",
            f"/checklists/{made['id']}/steps/{step['data']['id']}/captures",
            json={"field_type": "text", "label": "Note"},
        )
        tag = world.tag("urgent")
        link = link_tag(world, made["id"], tag)
        data = world.call("GET", f"/checklists/{made['id']}?with=steps,tags,folder").json()["data"]
        assert set(data) == CHECKLIST_KEYS | {"steps", "tags", "folder"}
        assert [s["title"] for s in data["steps"]["data"]] == ["Do"]
        captures = data["steps"]["data"][0]["captures"]
        assert isinstance(captures, list)
        assert captures[0]["label"] == "Note"
        assert data["tags"] == {
            "data": [
                {
                    "id": link,
                    "tag_id": tag,
                    "title": "urgent",
                    "color": "#3366ff",
                    "auto_generated": False,
                }
            ]
        }
        assert isinstance(data["tags"]["data"][0]["id"], int)
        assert data["folder"]["data"]["id"] == folder
        assert data["folder"]["data"]["name"] == "Ops"

    def test_empty_includes(self, world: World) -> None:
        made = create(world)
        data = world.call("GET", f"/checklists/{made['id']}?with=steps,tags,folder").json()["data"]
        assert data["steps"] == {"data": []}
        assert data["tags"] == {"data": []}
        assert data["folder"] == {"data": None}

    def test_sdk_include_names_for_inline_keys_are_tolerated(self, world: World) -> None:
        made = create(world)
        response = world.call(
            "GET", f"/checklists/{made['id']}?with=steps%2Cautomated_actions%2Cprerun%2Ctags"
        )
        data = response.json()["data"]
        assert data["prerun"] == []
        assert data["automated_actions"] == []
        assert data["steps"] == {"data": []}

    def test_counts(self, world: World) -> None:
        made = create(world)
        for title in ("One", "Two"):
            world.call("POST", f"/checklists/{made['id']}/steps", json={"title": title})
        world.launch(made["id"])
        data = world.call("GET", f"/checklists/{made['id']}").json()["data"]
        assert data["steps_count"] == 2
        assert data["started_processes"] == 1

    def test_form_fields(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "Client"}])
        path = f"/checklists/{made['id']}/steps"
        first = world.call("POST", path, json={"title": "One"}).json()["data"]["id"]
        second = world.call("POST", path, json={"title": "Two"}).json()["data"]["id"]
        for step, label in ((second, "B"), (first, "A1"), (first, "A2")):
            world.call(
                "POST", f"{path}/{step}/captures", json={"field_type": "text", "label": label}
            )
        response = world.call("GET", f"/checklists/{made['id']}/form-fields", world.light)
        assert response.status_code == 200
        data = response.json()["data"]
        assert set(data) == {"id", "title", "form_fields", "ko_form_fields"}
        assert data["id"] == made["id"]
        assert data["title"] == "Onboarding"
        assert [f["label"] for f in data["form_fields"]] == ["A1", "A2", "B"]
        assert [f["label"] for f in data["ko_form_fields"]] == ["Client"]
        assert data["ko_form_fields"][0] == made["prerun"][0]


class TestList:
    def test_pagination_meta_is_exact(self, world: World) -> None:
        for number in range(12):
            create(world, title=f"T{number:02}")
        body = world.call("GET", "/checklists?per_page=5&page=3&sort_by=title").json()
        assert [c["title"] for c in body["data"]] == ["T10", "T11"]
        pagination = body["meta"]["pagination"]
        assert {k: v for k, v in pagination.items() if k != "links"} == {
            "total": 12,
            "count": 2,
            "per_page": 5,
            "current_page": 3,
            "total_pages": 3,
        }
        assert set(pagination["links"]) == {"previous"}
        assert "page=2" in pagination["links"]["previous"]
        first = world.call("GET", "/checklists?per_page=5").json()["meta"]["pagination"]
        assert first["count"] == 5
        assert set(first["links"]) == {"next"}

    def test_default_page_size_and_clamp(self, world: World) -> None:
        for number in range(11):
            create(world, title=f"T{number}")
        default = world.call("GET", "/checklists").json()
        assert len(default["data"]) == 10
        assert default["meta"]["pagination"]["per_page"] == 10
        assert default["meta"]["pagination"]["total_pages"] == 2
        big = world.call("GET", "/checklists?per_page=1000").json()["meta"]["pagination"]
        assert big["per_page"] == 100
        assert big["count"] == 11
        assert big["links"] == {}

    def test_page_past_the_end_is_empty_with_true_totals(self, world: World) -> None:
        create(world)
        body = world.call("GET", "/checklists?page=4").json()
        assert body["data"] == []
        assert body["meta"]["pagination"]["total"] == 1
        assert body["meta"]["pagination"]["current_page"] == 4

    def test_items_carry_inline_prerun_and_automated_actions(self, world: World) -> None:
        create(world, prerun=[{"field_type": "text", "label": "A"}])
        create(world, title="Empty")
        items = world.call("GET", "/checklists", world.light).json()["data"]
        assert all(set(item) == CHECKLIST_KEYS for item in items)
        assert sorted(len(item["prerun"]) for item in items) == [0, 1]
        assert all(item["automated_actions"] == [] for item in items)

    def test_only_own_organization(self, world: World, other: World) -> None:
        create(other)
        assert world.call("GET", "/checklists").json()["data"] == []

    def test_default_sort_is_most_recently_updated(self, world: World) -> None:
        first, second = create(world, title="A"), create(world, title="B")
        assert [c["id"] for c in world.call("GET", "/checklists").json()["data"]] == [
            second["id"],
            first["id"],
        ]
        world.call("PUT", f"/checklists/{first['id']}", json={"summary": "touched"})
        assert [c["id"] for c in world.call("GET", "/checklists").json()["data"]] == [
            first["id"],
            second["id"],
        ]

    @pytest.mark.parametrize(
        ("sort_by", "expected"),
        [
            ("title", ["alpha", "Beta", "gamma"]),
            ("-title", ["gamma", "Beta", "alpha"]),
            ("created", ["Beta", "alpha", "gamma"]),
            ("-created", ["gamma", "alpha", "Beta"]),
        ],
    )
    def test_sorts(self, world: World, sort_by: str, expected: list[str]) -> None:
        for title in ("gamma", "alpha", "Beta"):
            create(world, title=title)
        titles = [
            c["title"] for c in world.call("GET", f"/checklists?sort_by={sort_by}").json()["data"]
        ]
        assert titles == expected

    def test_unknown_sort_is_refused(self, world: World) -> None:
        assert "sort_by" in errors_of(world.call("GET", "/checklists?sort_by=colour"))

    def test_filters(self, world: World) -> None:
        folder, tag = world.folder(), world.tag("hot")
        plain = create(world, title="Plain old thing")
        filed = create(
            world,
            title="Filed 100% thing",
            folder_id=folder,
            type="form",
            starred=True,
            owner_id=world.standard.user_id,
        )
        tagged = create(world, title="Tagged")
        link_tag(world, tagged["id"], tag)
        gone = create(world, title="Gone thing")
        world.call("DELETE", f"/checklists/{gone['id']}")

        def ids(query: str) -> set[str]:
            response = world.call("GET", f"/checklists?{query}")
            assert response.status_code == 200, response.text
            return {c["id"] for c in response.json()["data"]}

        assert ids("") == {plain["id"], filed["id"], tagged["id"]}
        assert ids("q=THING") == {plain["id"], filed["id"]}
        assert ids("q=100%25") == {filed["id"]}
        assert ids("q=Plain%20old") == {plain["id"]}
        assert ids(f"folder={folder}") == {filed["id"]}
        assert ids(f"tag={tag}") == ids("tag=hot") == {tagged["id"]}
        assert ids("type=form") == {filed["id"]}
        assert ids("starred=true") == {filed["id"]}
        assert ids("starred=false") == {plain["id"], tagged["id"]}
        assert ids(f"owner_id={world.standard.user_id}") == {filed["id"]}
        assert ids("archived=only") == {gone["id"]}
        assert ids("archived=true") == {plain["id"], filed["id"], tagged["id"], gone["id"]}

    def test_bad_filter_values(self, world: World) -> None:
        assert "type" in errors_of(world.call("GET", "/checklists?type=runbook"))
        response = world.call("GET", "/checklists?starred=perhaps")
        assert response.status_code == 400
        assert world.call("GET", "/checklists?per_page=0").status_code == 400


class TestUpdate:
    def test_partial_update_keeps_title_when_absent(self, world: World) -> None:
        made = create(world, title="Keep me", summary="old")
        response = world.call("PUT", f"/checklists/{made['id']}", json={"summary": "new"})
        assert response.status_code == 200
        data = response.json()["data"]
        assert set(data) == CHECKLIST_KEYS
        assert data["title"] == "Keep me"
        assert data["summary"] == "new"
        assert data["last_updated"] > made["last_updated"]

    @pytest.mark.parametrize("title", [None, "", "  ", 5])
    def test_explicit_bad_title_is_refused(self, world: World, title: Any) -> None:
        made = create(world)
        errors = errors_of(world.call("PUT", f"/checklists/{made['id']}", json={"title": title}))
        assert "title" in errors

    def test_null_clears_nullable_fields(self, world: World) -> None:
        made = create(
            world,
            summary="s",
            webhook="https://example.com/h",
            guidance="g",
            folder_id=world.folder(),
        )
        data = world.call(
            "PUT",
            f"/checklists/{made['id']}",
            json={"summary": None, "webhook": None, "guidance": None, "folder_id": None},
        ).json()["data"]
        assert data["summary"] is data["webhook"] is data["guidance"] is data["folder_id"] is None

    def test_users_and_groups_replace(self, world: World) -> None:
        made = create(world, users=[world.admin.user_id, world.light.user_id])
        data = world.call(
            "PUT",
            f"/checklists/{made['id']}",
            json={"users": [world.standard.user_id], "groups": []},
        ).json()["data"]
        assert data["users"] == [world.standard.user_id]
        assert data["groups"] == []

    def test_sdk_folder_move_sends_title_and_folder_id(self, world: World) -> None:
        made = create(world)
        folder = world.folder()
        data = world.call(
            "PUT", f"/checklists/{made['id']}", json={"title": made["title"], "folder_id": folder}
        ).json()["data"]
        assert data["folder_id"] == folder
        listed = world.call("GET", f"/checklists?folder={folder}").json()["data"]
        assert [c["id"] for c in listed] == [made["id"]]

    def test_a_body_that_changes_nothing_keeps_last_updated(self, world: World) -> None:
        made = create(world, summary="same")
        data = world.call(
            "PUT", f"/checklists/{made['id']}", json={"title": "Onboarding", "summary": "same"}
        ).json()["data"]
        assert data["last_updated"] == made["last_updated"]
        empty = world.call(
            "PUT", f"/checklists/{made['id']}", headers={"Content-Type": "application/json"}
        )
        assert empty.status_code == 200
        assert empty.json()["data"]["last_updated"] == made["last_updated"]

    def test_invalid_update_changes_nothing(self, world: World) -> None:
        made = create(world, summary="before")
        errors = errors_of(
            world.call(
                "PUT",
                f"/checklists/{made['id']}",
                json={
                    "summary": "after",
                    "owner_id": 999_999,
                    "prerun": [{"field_type": "text", "label": "X"}],
                },
            )
        )
        assert set(errors) == {"owner_id"}
        data = world.call("GET", f"/checklists/{made['id']}").json()["data"]
        assert data == made

    def test_light_member_cannot_update(self, world: World) -> None:
        made = create(world)
        response = world.call(
            "PUT", f"/checklists/{made['id']}", world.light, json={"summary": "x"}
        )
        assert response.status_code == 403


class TestKickoffFieldsOnUpdate:
    def test_prerun_is_the_full_list(self, world: World) -> None:
        made = create(
            world,
            prerun=[
                {"field_type": "text", "label": "Keep"},
                {"field_type": "text", "label": "Rename"},
                {"field_type": "text", "label": "Drop"},
            ],
        )
        keep, rename, _drop = made["prerun"]
        response = world.call(
            "PUT",
            f"/checklists/{made['id']}",
            json={
                "prerun": [
                    {"id": rename["id"], "label": "Renamed", "required": True},
                    {"field_type": "email", "label": "New"},
                    {"id": keep["id"]},
                ]
            },
        )
        assert response.status_code == 200, response.text
        prerun = response.json()["data"]["prerun"]
        assert [f["label"] for f in prerun] == ["Renamed", "New", "Keep"]
        assert [f["position"] for f in prerun] == [1, 2, 3]
        assert prerun[0]["id"] == rename["id"]
        assert prerun[0]["required"] is True
        assert prerun[0]["alias"] == rename["alias"]
        assert prerun[0]["field_type"] == "text"
        assert prerun[2] | {"position": 3, "last_updated": None} == keep | {
            "position": 3,
            "last_updated": None,
        }
        assert HEX32.fullmatch(prerun[1]["id"])
        assert prerun[1]["alias"] == "new"

    def test_sdk_round_trip_of_the_whole_prerun_changes_nothing(self, world: World) -> None:
        made = create(
            world,
            prerun=[
                {"field_type": "dropdown", "label": "Size", "options": ["S", "M"]},
                {"field_type": "text", "label": "Name", "default_value": "n/a"},
            ],
        )
        response = world.call(
            "PUT",
            f"/checklists/{made['id']}",
            json={"title": made["title"], "prerun": made["prerun"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"] == made

    def test_position_keys_order_the_form(self, world: World) -> None:
        made = create(
            world,
            prerun=[{"field_type": "text", "label": "A"}, {"field_type": "text", "label": "B"}],
        )
        first, second = made["prerun"]
        data = world.call(
            "PUT",
            f"/checklists/{made['id']}",
            json={
                "prerun": [{"id": first["id"], "position": 2}, {"id": second["id"], "position": 1}]
            },
        ).json()
        assert [f["label"] for f in data["data"]["prerun"]] == ["B", "A"]

    def test_empty_list_removes_every_kickoff_field(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "A"}])
        data = world.call("PUT", f"/checklists/{made['id']}", json={"prerun": []}).json()
        assert data["data"]["prerun"] == []

    def test_prerun_absent_keeps_fields(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "A"}])
        data = world.call("PUT", f"/checklists/{made['id']}", json={"summary": "x"}).json()
        assert data["data"]["prerun"] == made["prerun"]

    def test_a_deleted_fields_alias_can_be_reused(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "Name"}])
        data = world.call(
            "PUT",
            f"/checklists/{made['id']}",
            json={"prerun": [{"field_type": "text", "label": "Name"}]},
        ).json()["data"]
        assert data["prerun"][0]["alias"] == "name"
        assert data["prerun"][0]["id"] != made["prerun"][0]["id"]

    @pytest.mark.parametrize("field_id", ["0" * 32, "capture"])
    def test_id_that_is_not_a_kickoff_field_is_refused(self, world: World, field_id: str) -> None:
        made = create(world)
        step = world.call("POST", f"/checklists/{made['id']}/steps", json={"title": "S"})
        capture = world.call(
            "POST",
            f"/checklists/{made['id']}/steps/{step.json()['data']['id']}/captures",
            json={"field_type": "text", "label": "C"},
        ).json()["data"]["id"]
        wanted = capture if field_id == "capture" else field_id
        errors = errors_of(
            world.call(
                "PUT", f"/checklists/{made['id']}", json={"prerun": [{"id": wanted, "label": "X"}]}
            )
        )
        assert "prerun.0.id" in errors

    def test_other_templates_field_id_is_refused(self, world: World) -> None:
        donor = create(world, prerun=[{"field_type": "text", "label": "A"}])
        made = create(world)
        errors = errors_of(
            world.call("PUT", f"/checklists/{made['id']}", json={"prerun": [donor["prerun"][0]]})
        )
        assert "prerun.0.id" in errors

    def test_same_id_twice_is_refused(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "A"}])
        field_id = made["prerun"][0]["id"]
        errors = errors_of(
            world.call(
                "PUT",
                f"/checklists/{made['id']}",
                json={"prerun": [{"id": field_id}, {"id": field_id}]},
            )
        )
        assert "prerun.1.id" in errors

    def test_alias_taken_by_a_capture_is_refused(self, world: World) -> None:
        made = create(world)
        step = world.call("POST", f"/checklists/{made['id']}/steps", json={"title": "S"})
        world.call(
            "POST",
            f"/checklists/{made['id']}/steps/{step.json()['data']['id']}/captures",
            json={"field_type": "text", "label": "Note"},
        )
        errors = errors_of(
            world.call(
                "PUT",
                f"/checklists/{made['id']}",
                json={"prerun": [{"field_type": "text", "label": "X", "alias": "note"}]},
            )
        )
        assert "prerun.0.alias" in errors

    def test_changing_field_type_to_an_option_type_with_options(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "Pick"}])
        field_id = made["prerun"][0]["id"]
        data = world.call(
            "PUT",
            f"/checklists/{made['id']}",
            json={"prerun": [{"id": field_id, "field_type": "radio", "options": ["Yes", "No"]}]},
        ).json()["data"]
        assert data["prerun"][0]["field_type"] == "radio"
        assert data["prerun"][0]["options"] == [{"id": 1, "text": "Yes"}, {"id": 2, "text": "No"}]


class TestArchiveAndDelete:
    def test_archive_restore_and_delete(self, world: World) -> None:
        made = create(world)
        response = world.call("DELETE", f"/checklists/{made['id']}", world.standard)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"message", "deleted_references", "data"}
        assert isinstance(body["message"], str)
        assert body["deleted_references"] == []
        assert TS.fullmatch(body["data"]["archived_at"])
        assert body["data"]["status"] == "archived"
        again = world.call("DELETE", f"/checklists/{made['id']}")
        assert again.json()["data"]["archived_at"] == body["data"]["archived_at"]
        assert world.call("GET", f"/checklists/{made['id']}").status_code == 200
        restored = world.call("PUT", f"/checklists/{made['id']}/activate", world.standard)
        assert restored.status_code == 200
        assert restored.json()["data"]["archived_at"] is None
        assert restored.json()["data"]["status"] == "active"

    def test_archived_template_cannot_be_launched(self, world: World) -> None:
        made = create(world)
        world.call("DELETE", f"/checklists/{made['id']}")
        errors = errors_of(world.call("POST", "/runs", json={"checklist_id": made["id"]}))
        assert "checklist_id" in errors

    def test_permanent_delete_needs_archive_first(self, world: World) -> None:
        made = create(world)
        errors = errors_of(world.call("DELETE", f"/checklists/{made['id']}/delete"))
        assert "checklist" in errors
        assert world.call("GET", f"/checklists/{made['id']}").status_code == 200

    def test_permanent_delete_is_admin_only(self, world: World) -> None:
        made = create(world)
        world.call("DELETE", f"/checklists/{made['id']}")
        for member in (world.standard, world.light):
            response = world.call("DELETE", f"/checklists/{made['id']}/delete", member)
            assert response.status_code == 403

    def test_permanent_delete_keeps_launched_runs(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "A"}])
        step = world.call("POST", f"/checklists/{made['id']}/steps", json={"title": "S"})
        assert step.status_code == 201
        run = world.launch(made["id"])
        world.call("DELETE", f"/checklists/{made['id']}")
        response = world.call("DELETE", f"/checklists/{made['id']}/delete")
        assert response.status_code == 200
        assert world.call("GET", f"/checklists/{made['id']}").status_code == 404
        kept = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]
        assert kept["checklist_id"] is None
        assert [t["title"] for t in kept["tasks"]["data"]] == ["S"]
        assert kept["tasks"]["data"][0]["step_id"] is None

    def test_light_member_cannot_archive_or_restore(self, world: World) -> None:
        made = create(world)
        assert world.call("DELETE", f"/checklists/{made['id']}", world.light).status_code == 403
        assert (
            world.call("PUT", f"/checklists/{made['id']}/activate", world.light).status_code == 403
        )

    def test_unknown_template_is_404_for_each_write(self, world: World) -> None:
        missing = "0" * 32
        for method, path in [
            ("PUT", ""),
            ("DELETE", ""),
            ("PUT", "/activate"),
            ("DELETE", "/delete"),
        ]:
            response = world.call(method, f"/checklists/{missing}{path}", json={"title": "x"})
            assert response.status_code == 404, (method, path)


class TestLaunchFromApiTemplate:
    def test_template_built_through_the_api_launches(self, world: World) -> None:
        made = create(
            world,
            prerun=[
                {"field_type": "text", "label": "Client", "required": True},
                {"field_type": "dropdown", "label": "Size", "options": ["S", "M", "L"]},
                {"field_type": "multiselect", "label": "Extras", "options": ["Gift", "Card"]},
                {"field_type": "date", "label": "Start"},
                {"field_type": "checkbox", "label": "Rush"},
                {"field_type": "table", "label": "Lines", "columns": ["Item", "Qty"]},
                {"field_type": "radio", "label": "Channel", "options": ["Web", "Phone"]},
            ],
        )
        steps_path = f"/checklists/{made['id']}/steps"
        review = world.call(
            "POST",
            steps_path,
            json={
                "title": "Review",
                "assignees": [world.standard.user_id],
                "deadline": {"value": 2, "unit": "days"},
                "prevent_guest_comment": True,
            },
        ).json()["data"]
        ship = world.call(
            "POST",
            steps_path,
            json={
                "title": "Ship",
                "step_type": "approval",
                "guests": ["Buyer@Example.com"],
            },
        ).json()["data"]
        note = world.call(
            "POST",
            f"{steps_path}/{review['id']}/captures",
            json={"field_type": "textarea", "label": "Notes", "required": True},
        ).json()["data"]
        choice = world.call(
            "POST",
            f"{steps_path}/{ship['id']}/captures",
            json={"field_type": "dropdown", "label": "Carrier", "options": ["UPS", "DHL"]},
        ).json()["data"]
        ko = {
            f["label"]: f
            for f in world.call("GET", f"/checklists/{made['id']}").json()["data"]["prerun"]
        }

        run = world.launch(
            made["id"],
            name="Order 1",
            prerun={
                ko["Client"]["id"]: "ACME",
                ko["Size"]["id"]: {"id": 2, "text": "M", "value": None},
                ko["Extras"]["id"]: [{"id": 1, "text": "Gift", "selected": True}],
                ko["Start"]["id"]: "2026-12-01T09:00:00Z",
                ko["Rush"]["id"]: True,
                ko["Lines"]["id"]: ["Widget", "3"],
                ko["Channel"]["id"]: "Phone",
            },
        )
        response = world.call("GET", f"/runs/{run['id']}?with=tasks,form_fields,ko_form_fields")
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["checklist_id"] == made["id"]
        assert data["prerun_length"] == 7
        tasks = data["tasks"]["data"]
        assert [t["title"] for t in tasks] == ["Review", "Ship"]
        assert [t["step_id"] for t in tasks] == [review["id"], ship["id"]]
        assert tasks[0]["owners"]["users"] == [world.standard.user_id]
        assert tasks[0]["deadline"] is not None
        assert tasks[0]["prevent_guest_comment"] is True
        assert tasks[1]["task_type"] == "approval"
        assert tasks[1]["owners"] == {"users": [], "guests": ["buyer@example.com"], "groups": []}
        kickoff = {f["label"]: f for f in data["ko_form_fields"]["data"]}
        assert list(kickoff) == list(ko)
        assert kickoff["Client"]["value"] == "ACME"
        assert kickoff["Size"]["value"] == {"id": 2, "text": "M", "value": None}
        assert kickoff["Extras"]["value"] == [{"id": 1, "text": "Gift", "selected": True}]
        assert kickoff["Start"]["value"] == "2026-12-01T09:00:00.000Z"
        assert kickoff["Rush"]["value"] is True
        assert kickoff["Lines"]["value"] == ["Widget", "3"]
        assert kickoff["Channel"]["value"] == "Phone"
        assert all(kickoff[label]["id"] == ko[label]["id"] for label in ko)
        fields = {f["id"]: f for f in data["form_fields"]["data"]}
        assert set(fields) == {note["id"], choice["id"]}
        assert fields[note["id"]]["task_id"] == tasks[0]["id"]
        assert fields[note["id"]]["required"] is True
        assert fields[choice["id"]]["options"] == [
            {"id": 1, "text": "UPS"},
            {"id": 2, "text": "DHL"},
        ]

    def test_required_kickoff_field_is_enforced_on_launch(self, world: World) -> None:
        made = create(world, prerun=[{"field_type": "text", "label": "Client", "required": True}])
        errors = errors_of(world.call("POST", "/runs", json={"checklist_id": made["id"]}))
        assert errors == {f"prerun.{made['prerun'][0]['id']}": ["Client is required"]}


class TestPublishAndClone:
    def test_publish_returns_the_template(self, world: World) -> None:
        made = create(world)
        response = world.call(
            "PUT", f"/checklists/{made['id']}/publish", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 200
        assert response.json()["data"] == made
        assert (
            world.call("PUT", f"/checklists/{made['id']}/publish", world.light).status_code == 403
        )

    def test_clone_as_form_copies_everything_under_new_ids(self, world: World) -> None:
        made = create(
            world,
            summary="S",
            prerun=[{"field_type": "radio", "label": "Pick", "options": ["A", "B"]}],
        )
        path = f"/checklists/{made['id']}/steps"
        first = world.call("POST", path, json={"title": "One"}).json()["data"]
        second = world.call(
            "POST",
            path,
            json={
                "title": "Two",
                "deadline": {"value": 1, "unit": "days", "step": first["id"]},
            },
        ).json()["data"]
        world.call(
            "POST", f"{path}/{second['id']}/captures", json={"field_type": "text", "label": "Note"}
        )
        response = world.call(
            "POST",
            f"/checklists/{made['id']}/clone",
            world.standard,
            data={"tenant": world.org_id, "title": "Copy"},
        )
        assert response.status_code == 201, response.text
        copy = response.json()["data"]
        assert set(copy) == CHECKLIST_KEYS
        assert copy["id"] != made["id"]
        assert copy["title"] == "Copy"
        assert copy["summary"] == "S"
        assert copy["owner_id"] == world.standard.user_id
        assert copy["increment_id"] > made["increment_id"]
        assert copy["steps_count"] == 2
        assert copy["started_processes"] == 0
        assert [f["label"] for f in copy["prerun"]] == ["Pick"]
        assert copy["prerun"][0]["id"] != made["prerun"][0]["id"]
        assert copy["prerun"][0]["options"] == made["prerun"][0]["options"]
        steps = world.call("GET", f"/checklists/{copy['id']}/steps").json()["data"]
        assert [s["title"] for s in steps] == ["One", "Two"]
        assert {s["id"] for s in steps}.isdisjoint({first["id"], second["id"]})
        assert steps[1]["deadline"]["step"] == steps[0]["id"]
        assert [c["label"] for c in steps[1]["captures"]] == ["Note"]
        original = world.call("GET", f"/checklists/{made['id']}/steps").json()["data"]
        assert [s["id"] for s in original] == [first["id"], second["id"]]

    def test_clone_as_json_without_title_keeps_the_title(self, world: World) -> None:
        made = create(world, title="Same")
        response = world.call("POST", f"/checklists/{made['id']}/clone", json={})
        assert response.status_code == 201
        assert response.json()["data"]["title"] == "Same"

    def test_clone_refusals(self, world: World, other: World) -> None:
        made = create(world)
        path = f"/checklists/{made['id']}/clone"
        errors = errors_of(world.call("POST", path, data={"tenant": other.org_id}))
        assert "tenant" in errors
        errors = errors_of(world.call("POST", path, data={"title": "x" * 251}))
        assert "title" in errors
        assert world.call("POST", path, world.light, data={"title": "x"}).status_code == 403
        assert (
            world.call(
                "POST", f"/checklists/{create(other)['id']}/clone", data={"title": "x"}
            ).status_code
            == 404
        )
        bad = world.call("POST", path, content=b"title=x", headers={"Content-Type": "text/plain"})
        assert bad.status_code == 415
        assert world.call("GET", "/checklists").json()["meta"]["pagination"]["total"] == 1
