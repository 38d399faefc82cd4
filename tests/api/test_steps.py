"""Template steps: the HTTP contract as Tallyfy's clients see it."""

import re
from typing import Any

import pytest

from tests.factories import Member, World

HEX32 = re.compile(r"[0-9a-f]{32}")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
STEP_KEYS = {
    "id",
    "checklist_id",
    "title",
    "alias",
    "summary",
    "step_type",
    "position",
    "deadline",
    "start_date",
    "bp_to_launch",
    "assignees",
    "guests",
    "groups",
    "roles",
    "captures",
    "assign_run_starter",
    "max_assignable",
    "webhook",
    "allow_guest_owners",
    "skip_start_process",
    "can_complete_only_assignees",
    "everyone_must_complete",
    "is_soft_start_date",
    "prevent_guest_comment",
    "role_changes_every_time",
    "top_secret",
    "send_chromeless",
    "created_at",
    "last_updated",
    "archived_at",
}


def template(world: World, member: Member | None = None) -> str:
    response = world.call("POST", "/checklists", member, json={"title": "Template"})
    assert response.status_code == 201, response.text
    checklist_id: str = response.json()["data"]["id"]
    return checklist_id


def add_step(
    world: World, checklist_id: str, member: Member | None = None, /, **body: Any
) -> dict[str, Any]:
    body.setdefault("title", "Step")
    response = world.call("POST", f"/checklists/{checklist_id}/steps", member, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def add_capture(world: World, checklist_id: str, step_id: str, label: str) -> dict[str, Any]:
    response = world.call(
        "POST",
        f"/checklists/{checklist_id}/steps/{step_id}/captures",
        json={"field_type": "text", "label": label},
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def titles(world: World, checklist_id: str) -> list[str]:
    body = world.call("GET", f"/checklists/{checklist_id}/steps?per_page=100").json()
    return [s["title"] for s in body["data"]]


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_FAILED"
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


@pytest.fixture
def checklist(world: World) -> str:
    return template(world)


class TestCreate:
    def test_minimal_step_shape(self, world: World, checklist: str) -> None:
        response = world.call("POST", f"/checklists/{checklist}/steps", json={"title": "Review"})
        assert response.status_code == 201
        data = response.json()["data"]
        assert set(data) == STEP_KEYS
        assert HEX32.fullmatch(data["id"])
        assert data["checklist_id"] == checklist
        assert data["title"] == "Review"
        assert data["alias"] == "review"
        assert data["step_type"] == "task"
        assert data["position"] == 1
        assert data["summary"] is None
        assert data["webhook"] is None
        assert data["deadline"] is None
        assert data["start_date"] is None
        assert data["bp_to_launch"] is None
        assert data["assignees"] == []
        assert data["guests"] == []
        assert data["groups"] == []
        assert data["roles"] == []
        assert data["captures"] == []
        assert data["assign_run_starter"] is True
        assert data["max_assignable"] == 0
        for flag in (
            "allow_guest_owners",
            "skip_start_process",
            "can_complete_only_assignees",
            "everyone_must_complete",
            "is_soft_start_date",
            "prevent_guest_comment",
            "role_changes_every_time",
            "top_secret",
            "send_chromeless",
        ):
            assert data[flag] is False, flag
        assert TS.fullmatch(data["created_at"])
        assert TS.fullmatch(data["last_updated"])
        assert data["archived_at"] is None

    def test_every_field_is_stored(self, world: World, checklist: str) -> None:
        data = add_step(
            world,
            checklist,
            world.standard,
            title="Approve",
            summary="<p>Check</p>",
            step_type="approval",
            assignees=[world.admin.user_id, world.light.user_id],
            guests=["Client@Example.com"],
            groups=[],
            deadline={"value": 3, "unit": "hours"},
            start_date={"value": 1, "unit": "days"},
            webhook="https://hooks.example.com/s",
            max_assignable=2,
            assign_run_starter=False,
            prevent_guest_comment=True,
            skip_start_process=True,
            can_complete_only_assignees=True,
            everyone_must_complete=True,
            allow_guest_owners=True,
            is_soft_start_date=True,
            top_secret=True,
        )
        assert data["summary"] == "<p>Check</p>"
        assert data["step_type"] == "approval"
        assert data["assignees"] == [world.admin.user_id, world.light.user_id]
        assert data["guests"] == ["client@example.com"]
        assert data["deadline"] == {
            "value": 3,
            "unit": "hours",
            "option": "from",
            "step": "start_run",
        }
        assert data["start_date"] == {"value": 1, "unit": "days"}
        assert data["webhook"] == "https://hooks.example.com/s"
        assert data["max_assignable"] == 2
        assert data["assign_run_starter"] is False
        for flag in (
            "prevent_guest_comment",
            "skip_start_process",
            "can_complete_only_assignees",
            "everyone_must_complete",
            "allow_guest_owners",
            "is_soft_start_date",
            "top_secret",
        ):
            assert data[flag] is True, flag
        assert data["role_changes_every_time"] is False

    def test_sdk_body_with_position_and_checklist_id_appends(
        self, world: World, checklist: str
    ) -> None:
        add_step(world, checklist, title="First")
        data = add_step(
            world,
            checklist,
            title="S",
            summary="x",
            position=1,
            assignees=[world.admin.user_id],
            deadline={"value": 1, "unit": "days", "option": "from", "step": "start_run"},
            checklist_id=checklist,
        )
        assert data["position"] == 2
        assert titles(world, checklist) == ["First", "S"]

    def test_aliases_are_unique_within_the_template(self, world: World, checklist: str) -> None:
        aliases = [
            add_step(world, checklist, title=t)["alias"]
            for t in ("Sign off", "Sign off", "Sign-off!", "***")
        ]
        assert aliases == ["sign-off", "sign-off-2", "sign-off-3", "step"]

    def test_deadline_may_count_from_another_step(self, world: World, checklist: str) -> None:
        first = add_step(world, checklist, title="First")
        data = add_step(
            world, checklist, deadline={"value": 0, "unit": "days", "step": first["id"]}
        )
        assert data["deadline"]["step"] == first["id"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "title"),
            ({"title": ""}, "title"),
            ({"title": "  "}, "title"),
            ({"title": None}, "title"),
            ({"title": "x" * 601}, "title"),
            ({"title": "T", "step_type": "meeting"}, "step_type"),
            ({"title": "T", "step_type": None}, "step_type"),
            ({"title": "T", "assignees": [999_999]}, "assignees.0"),
            ({"title": "T", "assignees": ["1"]}, "assignees.0"),
            ({"title": "T", "assignees": None}, "assignees"),
            ({"title": "T", "guests": ["not-an-email"]}, "guests.0"),
            ({"title": "T", "guests": ["a@example.com", "A@example.com"]}, "guests.1"),
            ({"title": "T", "groups": ["a" * 32]}, "groups.0"),
            ({"title": "T", "deadline": "2 days"}, "deadline"),
            ({"title": "T", "deadline": {"value": -1, "unit": "days"}}, "deadline"),
            ({"title": "T", "deadline": {"value": 1.5, "unit": "days"}}, "deadline"),
            ({"title": "T", "deadline": {"value": 1, "unit": "fortnights"}}, "deadline"),
            ({"title": "T", "deadline": {"unit": "days"}}, "deadline"),
            ({"title": "T", "deadline": {"value": 1, "option": 5}}, "deadline.option"),
            ({"title": "T", "deadline": {"value": 1, "step": "0" * 32}}, "deadline.step"),
            ({"title": "T", "start_date": {"value": "soon"}}, "start_date"),
            ({"title": "T", "webhook": "hooks.example.com"}, "webhook"),
            ({"title": "T", "max_assignable": -1}, "max_assignable"),
            ({"title": "T", "max_assignable": "2"}, "max_assignable"),
            ({"title": "T", "assign_run_starter": None}, "assign_run_starter"),
            ({"title": "T", "prevent_guest_comment": "yes"}, "prevent_guest_comment"),
        ],
    )
    def test_invalid_body_is_refused_naming_the_field(
        self, world: World, checklist: str, body: dict[str, Any], field: str
    ) -> None:
        errors = errors_of(world.call("POST", f"/checklists/{checklist}/steps", json=body))
        assert field in errors, errors
        assert titles(world, checklist) == []

    def test_start_date_messages_name_start_date(self, world: World, checklist: str) -> None:
        errors = errors_of(
            world.call(
                "POST",
                f"/checklists/{checklist}/steps",
                json={"title": "T", "start_date": {"value": 1, "unit": "eons"}},
            )
        )
        assert errors["start_date"][0].startswith("start_date.unit")

    def test_assignee_from_another_organization_is_refused(
        self, world: World, checklist: str
    ) -> None:
        stranger = World.create(world.factory, world.client)
        errors = errors_of(
            world.call(
                "POST",
                f"/checklists/{checklist}/steps",
                json={"title": "T", "assignees": [stranger.admin.user_id]},
            )
        )
        assert "assignees.0" in errors

    def test_light_member_cannot_add(self, world: World, checklist: str) -> None:
        response = world.call(
            "POST", f"/checklists/{checklist}/steps", world.light, json={"title": "T"}
        )
        assert response.status_code == 403

    def test_unknown_and_foreign_template_is_404(self, world: World) -> None:
        foreign = template(World.create(world.factory, world.client))
        for checklist_id in ("0" * 32, foreign):
            response = world.call("POST", f"/checklists/{checklist_id}/steps", json={"title": "T"})
            assert response.status_code == 404
            assert response.json()["code"] == "RESOURCE_NOT_FOUND"

    def test_adding_a_step_moves_the_templates_last_updated(
        self, world: World, checklist: str
    ) -> None:
        before = world.call("GET", f"/checklists/{checklist}").json()["data"]["last_updated"]
        add_step(world, checklist)
        after = world.call("GET", f"/checklists/{checklist}").json()["data"]
        assert after["last_updated"] > before
        assert after["steps_count"] == 1


class TestRead:
    def test_list_is_paginated_exactly_and_ordered(self, world: World, checklist: str) -> None:
        for number in range(12):
            add_step(world, checklist, title=f"S{number}")
        body = world.call(
            "GET", f"/checklists/{checklist}/steps?per_page=5&page=3", world.light
        ).json()
        assert [s["title"] for s in body["data"]] == ["S10", "S11"]
        assert [s["position"] for s in body["data"]] == [11, 12]
        pagination = body["meta"]["pagination"]
        assert {k: v for k, v in pagination.items() if k != "links"} == {
            "total": 12,
            "count": 2,
            "per_page": 5,
            "current_page": 3,
            "total_pages": 3,
        }
        assert set(pagination["links"]) == {"previous"}
        default = world.call("GET", f"/checklists/{checklist}/steps").json()
        assert len(default["data"]) == 10
        assert default["meta"]["pagination"]["per_page"] == 10
        everything = world.call("GET", f"/checklists/{checklist}/steps?per_page=100").json()
        assert everything["meta"]["pagination"]["total_pages"] == 1
        assert len(everything["data"]) == 12

    def test_list_of_empty_template(self, world: World, checklist: str) -> None:
        body = world.call("GET", f"/checklists/{checklist}/steps").json()
        assert body["data"] == []
        assert body["meta"]["pagination"]["total"] == 0
        assert body["meta"]["pagination"]["total_pages"] == 1

    def test_captures_are_a_plain_list(self, world: World, checklist: str) -> None:
        step = add_step(world, checklist)
        add_capture(world, checklist, step["id"], "A")
        add_capture(world, checklist, step["id"], "B")
        listed = world.call("GET", f"/checklists/{checklist}/steps").json()["data"][0]
        got = world.call("GET", f"/checklists/{checklist}/steps/{step['id']}", world.light).json()[
            "data"
        ]
        for data in (listed, got):
            assert set(data) == STEP_KEYS
            assert isinstance(data["captures"], list)
            assert [c["label"] for c in data["captures"]] == ["A", "B"]
            assert all(c["step_id"] == step["id"] for c in data["captures"])

    def test_unknown_foreign_and_other_template_step_is_404(
        self, world: World, checklist: str
    ) -> None:
        other_template = template(world)
        elsewhere = add_step(world, other_template)
        stranger = World.create(world.factory, world.client)
        foreign_template = template(stranger)
        foreign = add_step(stranger, foreign_template)
        cases = [
            (checklist, "0" * 32),
            (checklist, elsewhere["id"]),
            (foreign_template, foreign["id"]),
            (checklist, foreign["id"]),
        ]
        for checklist_id, step_id in cases:
            for method in ("GET", "PUT", "DELETE"):
                response = world.call(
                    method,
                    f"/checklists/{checklist_id}/steps/{step_id}",
                    json={"title": "x"} if method == "PUT" else None,
                )
                assert response.status_code == 404, (checklist_id, step_id, method)
                assert response.json()["code"] == "RESOURCE_NOT_FOUND"


class TestUpdate:
    def test_partial_update_changes_only_the_keys_sent(self, world: World, checklist: str) -> None:
        step = add_step(
            world,
            checklist,
            title="T",
            summary="old",
            assignees=[world.admin.user_id],
            prevent_guest_comment=True,
            deadline={"value": 1, "unit": "days"},
        )
        response = world.call(
            "PUT", f"/checklists/{checklist}/steps/{step['id']}", json={"summary": "new"}
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert set(data) == STEP_KEYS
        assert data["summary"] == "new"
        unchanged = {k: v for k, v in step.items() if k not in ("summary", "last_updated")}
        assert {k: v for k, v in data.items() if k in unchanged} == unchanged
        assert data["last_updated"] > step["last_updated"]

    def test_lists_replace_and_null_clears(self, world: World, checklist: str) -> None:
        step = add_step(
            world,
            checklist,
            assignees=[world.admin.user_id],
            guests=["a@example.com"],
            deadline={"value": 1, "unit": "days"},
            webhook="https://example.com/h",
            summary="s",
        )
        data = world.call(
            "PUT",
            f"/checklists/{checklist}/steps/{step['id']}",
            json={
                "assignees": [world.standard.user_id],
                "guests": [],
                "deadline": None,
                "webhook": None,
                "summary": None,
                "skip_start_process": True,
            },
        ).json()["data"]
        assert data["assignees"] == [world.standard.user_id]
        assert data["guests"] == []
        assert data["deadline"] is None
        assert data["webhook"] is None
        assert data["summary"] is None
        assert data["skip_start_process"] is True

    def test_flags_merge(self, world: World, checklist: str) -> None:
        step = add_step(world, checklist, top_secret=True)
        data = world.call(
            "PUT",
            f"/checklists/{checklist}/steps/{step['id']}",
            json={"everyone_must_complete": True},
        ).json()["data"]
        assert data["top_secret"] is True
        assert data["everyone_must_complete"] is True

    def test_sdk_edit_description_round_trip(self, world: World, checklist: str) -> None:
        step = add_step(world, checklist, title="Check", assignees=[world.admin.user_id])
        current = world.call("GET", f"/checklists/{checklist}/steps/{step['id']}").json()["data"]
        assert current["title"]
        assert isinstance(current["assignees"], list)
        assert isinstance(current["guests"], list)
        assert isinstance(current["groups"], list)
        data = world.call(
            "PUT",
            f"/checklists/{checklist}/steps/{step['id']}",
            json={
                "title": current["title"],
                "summary": "new text",
                "assignees": sorted({*current["assignees"], world.standard.user_id}),
                "guests": current["guests"],
                "groups": current["groups"],
            },
        ).json()["data"]
        assert data["summary"] == "new text"
        assert data["assignees"] == sorted([world.admin.user_id, world.standard.user_id])

    def test_whole_step_echoed_back_is_accepted(self, world: World, checklist: str) -> None:
        step = add_step(world, checklist, deadline={"value": 2, "unit": "days"})
        response = world.call("PUT", f"/checklists/{checklist}/steps/{step['id']}", json=step)
        assert response.status_code == 200, response.text
        assert response.json()["data"] == step

    def test_position_moves_the_step(self, world: World, checklist: str) -> None:
        ids = [add_step(world, checklist, title=t)["id"] for t in "ABCD"]
        data = world.call(
            "PUT", f"/checklists/{checklist}/steps/{ids[3]}", json={"position": 2}
        ).json()["data"]
        assert data["position"] == 2
        assert titles(world, checklist) == ["A", "D", "B", "C"]
        world.call("PUT", f"/checklists/{checklist}/steps/{ids[0]}", json={"position": 99})
        assert titles(world, checklist) == ["D", "B", "C", "A"]
        body = world.call("GET", f"/checklists/{checklist}/steps").json()["data"]
        assert [s["position"] for s in body] == [1, 2, 3, 4]

    def test_reorder_route(self, world: World, checklist: str) -> None:
        ids = [add_step(world, checklist, title=t)["id"] for t in "ABC"]
        response = world.call(
            "PUT", f"/checklists/{checklist}/steps/{ids[2]}/reorder", json={"position": 1}
        )
        assert response.status_code == 200
        assert response.json()["data"]["position"] == 1
        assert titles(world, checklist) == ["C", "A", "B"]
        errors = errors_of(
            world.call(
                "PUT", f"/checklists/{checklist}/steps/{ids[0]}/reorder", json={"position": 0}
            )
        )
        assert "position" in errors

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"title": None}, "title"),
            ({"title": ""}, "title"),
            ({"position": 0}, "position"),
            ({"position": None}, "position"),
            ({"assignees": [999_999]}, "assignees.0"),
            ({"deadline": {"value": 1, "unit": "days", "step": "self"}}, "deadline.step"),
            ({"groups": ["g"]}, "groups.0"),
        ],
    )
    def test_invalid_update_changes_nothing(
        self, world: World, checklist: str, body: dict[str, Any], field: str
    ) -> None:
        step = add_step(world, checklist, summary="keep")
        if body.get("deadline"):
            body["deadline"]["step"] = step["id"]
        errors = errors_of(
            world.call(
                "PUT",
                f"/checklists/{checklist}/steps/{step['id']}",
                json={**body, "summary": "changed"},
            )
        )
        assert field in errors, errors
        again = world.call("GET", f"/checklists/{checklist}/steps/{step['id']}").json()
        assert again["data"] == step

    def test_light_member_cannot_update(self, world: World, checklist: str) -> None:
        step = add_step(world, checklist)
        for method, path in [("PUT", ""), ("PUT", "/reorder"), ("POST", "/clone"), ("DELETE", "")]:
            response = world.call(
                method,
                f"/checklists/{checklist}/steps/{step['id']}{path}",
                world.light,
                json={"position": 1},
            )
            assert response.status_code == 403, (method, path)


class TestCloneAndDelete:
    def test_clone_copies_the_step_and_its_captures_after_it(
        self, world: World, checklist: str
    ) -> None:
        first = add_step(
            world, checklist, title="A", assignees=[world.admin.user_id], top_secret=True
        )
        add_step(world, checklist, title="B")
        capture = add_capture(world, checklist, first["id"], "Note")
        response = world.call("POST", f"/checklists/{checklist}/steps/{first['id']}/clone")
        assert response.status_code == 201
        copy = response.json()["data"]
        assert copy["id"] != first["id"]
        assert copy["position"] == 2
        assert copy["title"] == "A"
        assert copy["alias"] == "a-2"
        assert copy["assignees"] == [world.admin.user_id]
        assert copy["top_secret"] is True
        assert [c["label"] for c in copy["captures"]] == ["Note"]
        assert copy["captures"][0]["id"] != capture["id"]
        assert copy["captures"][0]["alias"] == "note-2"
        assert titles(world, checklist) == ["A", "A", "B"]

    def test_delete_removes_step_and_captures_and_renumbers(
        self, world: World, checklist: str
    ) -> None:
        ids = [add_step(world, checklist, title=t)["id"] for t in "ABC"]
        capture = add_capture(world, checklist, ids[1], "Gone")
        response = world.call("DELETE", f"/checklists/{checklist}/steps/{ids[1]}")
        assert response.status_code == 204
        assert response.content == b""
        assert titles(world, checklist) == ["A", "C"]
        positions = [
            s["position"]
            for s in world.call("GET", f"/checklists/{checklist}/steps").json()["data"]
        ]
        assert positions == [1, 2]
        assert world.call("GET", f"/checklists/{checklist}/steps/{ids[1]}").status_code == 404
        fields = world.call("GET", f"/checklists/{checklist}/form-fields").json()["data"]
        assert capture["id"] not in [f["id"] for f in fields["form_fields"]]

    def test_deadlines_counted_from_a_deleted_step_count_from_launch(
        self, world: World, checklist: str
    ) -> None:
        anchor = add_step(world, checklist, title="Anchor")
        later = add_step(
            world, checklist, deadline={"value": 1, "unit": "days", "step": anchor["id"]}
        )
        world.call("DELETE", f"/checklists/{checklist}/steps/{anchor['id']}")
        data = world.call("GET", f"/checklists/{checklist}/steps/{later['id']}").json()["data"]
        assert data["deadline"]["step"] == "start_run"

    def test_delete_keeps_tasks_of_launched_runs(self, world: World, checklist: str) -> None:
        step = add_step(world, checklist, title="Only")
        run = world.launch(checklist)
        world.call("DELETE", f"/checklists/{checklist}/steps/{step['id']}")
        tasks = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]["tasks"]
        assert [t["title"] for t in tasks["data"]] == ["Only"]


class TestLaunch:
    def test_step_settings_reach_the_launched_tasks(self, world: World, checklist: str) -> None:
        add_step(world, checklist, title="Mine")
        add_step(world, checklist, title="Nobody's", assign_run_starter=False)
        add_step(
            world,
            checklist,
            title="Theirs",
            assignees=[world.light.user_id],
            deadline={"value": 2, "unit": "hours"},
            max_assignable=1,
            prevent_guest_comment=True,
            step_type="expiring",
        )
        run = world.launch(checklist, world.standard)
        data = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]
        mine, nobodys, theirs = data["tasks"]["data"]
        assert mine["owners"]["users"] == [world.standard.user_id]
        assert mine["deadline"] is None
        assert nobodys["owners"] == {"users": [], "guests": [], "groups": []}
        assert theirs["owners"]["users"] == [world.light.user_id]
        assert theirs["task_type"] == "expiring"
        assert theirs["max_assignable"] == 1
        assert theirs["prevent_guest_comment"] is True
        assert TS.fullmatch(theirs["deadline"])
