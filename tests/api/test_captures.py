"""Captures (form fields on template steps): the HTTP contract as Tallyfy's clients see it."""

import re
from typing import Any

import pytest

from tests.factories import Member, World

HEX32 = re.compile(r"[0-9a-f]{32}")
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
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


class Form:
    """One template with one step, and helpers to work on that step's captures."""

    def __init__(self, world: World) -> None:
        self.world = world
        created = world.call("POST", "/checklists", json={"title": "Form"})
        self.checklist = created.json()["data"]["id"]
        self.step = self.add_step("Fill in")

    def add_step(self, title: str) -> str:
        response = self.world.call(
            "POST", f"/checklists/{self.checklist}/steps", json={"title": title}
        )
        step_id: str = response.json()["data"]["id"]
        return step_id

    def path(self, capture_id: str = "", step: str | None = None) -> str:
        base = f"/checklists/{self.checklist}/steps/{step or self.step}/captures"
        return f"{base}/{capture_id}" if capture_id else base

    def add(
        self, member: Member | None = None, step: str | None = None, **body: Any
    ) -> dict[str, Any]:
        body.setdefault("field_type", "text")
        body.setdefault("label", "Answer")
        response = self.world.call("POST", self.path(step=step), member, json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def captures(self, step: str | None = None) -> list[dict[str, Any]]:
        response = self.world.call("GET", f"/checklists/{self.checklist}/steps/{step or self.step}")
        captures: list[dict[str, Any]] = response.json()["data"]["captures"]
        return captures

    def labels(self, step: str | None = None) -> list[str]:
        return [c["label"] for c in self.captures(step)]


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_FAILED"
    errors: dict[str, list[str]] = response.json()["errors"]
    return errors


@pytest.fixture
def form(world: World) -> Form:
    return Form(world)


class TestCreate:
    def test_minimal_capture_shape(self, world: World, form: Form) -> None:
        response = world.call(
            "POST", form.path(), json={"field_type": "text", "label": "Your name"}
        )
        assert response.status_code == 201
        assert set(response.json()) == {"data"}
        data = response.json()["data"]
        assert set(data) == FIELD_KEYS
        assert HEX32.fullmatch(data["id"])
        assert data["timeline_id"] == data["id"]
        assert data["checklist_id"] == form.checklist
        assert data["step_id"] == form.step
        assert data["field_type"] == "text"
        assert data["label"] == "Your name"
        assert data["alias"] == "your-name"
        assert data["guidance"] is None
        assert data["position"] == 1
        assert data["required"] is False
        assert data["options"] == []
        assert data["columns"] == []
        assert data["settings"] == {}
        assert data["default_value"] is None
        assert data["default_value_enabled"] is False
        assert data["collect_time"] is False
        assert data["use_wysiwyg_editor"] is False
        assert data["field_validation"] == []
        assert data["prefix"] is None
        assert TS.fullmatch(data["created_at"])
        assert TS.fullmatch(data["last_updated"])
        assert data["archived_at"] is None

    def test_sdk_body_defaults(self, form: Form) -> None:
        form.add(label="Earlier")
        data = form.add(field_type="text", label="L", required=True, position=1)
        assert data["required"] is True
        assert data["position"] == 2

    def test_options_columns_and_settings(self, form: Form) -> None:
        radio = form.add(
            field_type="radio",
            label="Pick",
            guidance="One only",
            options=["Yes", {"text": "No", "value": "n"}, {"id": 7, "text": "Maybe"}],
        )
        assert radio["options"] == [
            {"id": 1, "text": "Yes"},
            {"id": 2, "text": "No", "value": "n"},
            {"id": 7, "text": "Maybe"},
        ]
        assert radio["guidance"] == "One only"
        table = form.add(
            field_type="table",
            label="Lines",
            columns=[{"label": "Item"}, {"id": 5, "label": "Qty"}],
        )
        assert table["columns"] == [{"id": 1, "label": "Item"}, {"id": 5, "label": "Qty"}]
        text = form.add(
            field_type="textarea",
            label="Essay",
            use_wysiwyg_editor=True,
            prefix="$",
            field_validation=["max:5"],
            settings={"rows": 4},
            default_value="Once upon a time",
            default_value_enabled=True,
        )
        assert text["settings"] == {
            "rows": 4,
            "use_wysiwyg_editor": True,
            "prefix": "$",
            "field_validation": ["max:5"],
            "default_value": "Once upon a time",
            "default_value_enabled": True,
        }
        assert text["use_wysiwyg_editor"] is True
        assert text["prefix"] == "$"
        assert text["default_value"] == "Once upon a time"

    @pytest.mark.parametrize(
        "field_type",
        [
            "text",
            "textarea",
            "radio",
            "dropdown",
            "multiselect",
            "checklist",
            "date",
            "datetime",
            "time",
            "email",
            "url",
            "number",
            "checkbox",
            "file",
            "image",
            "table",
            "assignees_form",
        ],
    )
    def test_every_field_type_can_be_created(self, form: Form, field_type: str) -> None:
        assert form.add(field_type=field_type)["field_type"] == field_type

    def test_new_captures_are_appended_whatever_position_says(self, form: Form) -> None:
        for label in ("A", "B", "C"):
            assert form.add(label=label, position=1)["position"] == ["A", "B", "C"].index(label) + 1
        form.add(label="D", position=99)
        assert form.labels() == ["A", "B", "C", "D"]
        assert [c["position"] for c in form.captures()] == [1, 2, 3, 4]

    def test_aliases_are_unique_across_the_template(self, world: World, form: Form) -> None:
        world.call(
            "PUT",
            f"/checklists/{form.checklist}",
            json={"prerun": [{"field_type": "text", "label": "Name"}]},
        )
        other_step = form.add_step("Second")
        assert form.add(label="Name")["alias"] == "name-2"
        assert form.add(label="Name", step=other_step)["alias"] == "name-3"
        assert form.add(label="x", alias="custom_one")["alias"] == "custom_one"
        errors = errors_of(
            world.call(
                "POST",
                form.path(),
                json={"field_type": "text", "label": "y", "alias": "custom_one"},
            )
        )
        assert "alias" in errors

    def test_server_owned_keys_are_ignored(self, form: Form) -> None:
        other_step = form.add_step("Other")
        data = form.add(
            id="f" * 32,
            step_id=other_step,
            checklist_id="0" * 32,
            created_at="2000-01-01T00:00:00Z",
        )
        assert data["id"] != "f" * 32
        assert data["step_id"] == form.step
        assert data["checklist_id"] == form.checklist
        assert data["created_at"] != "2000-01-01T00:00:00.000Z"

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"label": "A"}, "field_type"),
            ({"field_type": "text"}, "label"),
            ({"field_type": "text", "label": ""}, "label"),
            ({"field_type": "text", "label": None}, "label"),
            ({"field_type": "text", "label": "x" * 601}, "label"),
            ({"field_type": "photo", "label": "A"}, "field_type"),
            ({"field_type": 3, "label": "A"}, "field_type"),
            ({"field_type": "text", "label": "A", "required": "true"}, "required"),
            ({"field_type": "text", "label": "A", "position": 0}, "position"),
            ({"field_type": "text", "label": "A", "position": "1"}, "position"),
            ({"field_type": "radio", "label": "A", "options": {"a": 1}}, "options"),
            ({"field_type": "radio", "label": "A", "options": [{"value": "x"}]}, "options"),
            ({"field_type": "radio", "label": "A", "options": [5]}, "options"),
            ({"field_type": "table", "label": "A", "columns": "Item,Qty"}, "columns"),
            (
                {"field_type": "table", "label": "A", "columns": [{"id": True, "label": "a"}]},
                "columns",
            ),
            ({"field_type": "text", "label": "A", "settings": ["x"]}, "settings"),
            ({"field_type": "text", "label": "A", "guidance": 5}, "guidance"),
            ({"field_type": "email", "label": "A", "default_value": "nope"}, "default_value"),
            (
                {
                    "field_type": "dropdown",
                    "label": "A",
                    "options": ["x"],
                    "default_value": {"id": 9},
                },
                "default_value",
            ),
            ({"field_type": "text", "label": "A", "alias": "no spaces"}, "alias"),
        ],
    )
    def test_invalid_body_is_refused_naming_the_field(
        self, world: World, form: Form, body: dict[str, Any], field: str
    ) -> None:
        errors = errors_of(world.call("POST", form.path(), json=body))
        assert field in errors, errors
        assert form.captures() == []

    def test_light_member_cannot_add(self, world: World, form: Form) -> None:
        response = world.call(
            "POST", form.path(), world.light, json={"field_type": "text", "label": "A"}
        )
        assert response.status_code == 403

    def test_unknown_step_or_template_is_404(self, world: World, form: Form) -> None:
        stranger = Form(World.create(world.factory, world.client))
        paths = [
            f"/checklists/{form.checklist}/steps/{'0' * 32}/captures",
            f"/checklists/{'0' * 32}/steps/{form.step}/captures",
            f"/checklists/{form.checklist}/steps/{stranger.step}/captures",
            stranger.path(),
        ]
        for path in paths:
            response = world.call("POST", path, json={"field_type": "text", "label": "A"})
            assert response.status_code == 404, path
            assert response.json()["code"] == "RESOURCE_NOT_FOUND"

    def test_capture_moves_the_templates_last_updated(self, world: World, form: Form) -> None:
        before = world.call("GET", f"/checklists/{form.checklist}").json()["data"]
        form.add()
        after = world.call("GET", f"/checklists/{form.checklist}").json()["data"]
        assert after["last_updated"] > before["last_updated"]


class TestUpdate:
    def test_partial_update(self, world: World, form: Form) -> None:
        made = form.add(label="Old", guidance="keep", required=True)
        response = world.call("PUT", form.path(made["id"]), json={"label": "New"})
        assert response.status_code == 200
        data = response.json()["data"]
        assert set(data) == FIELD_KEYS
        assert data["label"] == "New"
        assert data["guidance"] == "keep"
        assert data["required"]
        assert data["alias"] == made["alias"]
        assert data["id"] == made["id"]
        assert data["last_updated"] > made["last_updated"]

    def test_sdk_update_dropdown_options_echo(self, world: World, form: Form) -> None:
        made = form.add(field_type="dropdown", label="Size", options=["S", "M"])
        other_step = form.add_step("Other")
        current = next(c for c in form.captures() if c["id"] == made["id"])
        body = {k: v for k, v in current.items() if k != "id"}
        body |= {
            "options": [{"id": 1, "text": "x"}, {"id": 2, "text": "y"}],
            "alias": "renamed",
            "step_id": other_step,
            "checklist_id": "0" * 32,
            "created_at": "2000-01-01T00:00:00.000Z",
            "timeline_id": "1" * 32,
        }
        response = world.call("PUT", form.path(made["id"]), json=body)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["options"] == [{"id": 1, "text": "x"}, {"id": 2, "text": "y"}]
        assert data["alias"] == made["alias"]
        assert data["step_id"] == form.step
        assert data["created_at"] == made["created_at"]
        assert data["settings"] == {}
        assert form.labels() == ["Size"]
        assert form.labels(other_step) == []

    def test_echo_without_change_keeps_last_updated(self, world: World, form: Form) -> None:
        made = form.add(field_type="number", label="N", prefix="#")
        response = world.call("PUT", form.path(made["id"]), json=made)
        assert response.status_code == 200
        assert response.json()["data"] == made

    def test_settings_can_be_changed_and_cleared(self, world: World, form: Form) -> None:
        made = form.add(collect_time=True, default_value="x")
        data = world.call(
            "PUT",
            form.path(made["id"]),
            json={"collect_time": False, "default_value": None, "settings": {"rows": 2}},
        ).json()
        assert data["data"]["settings"] == {"collect_time": False, "default_value": None, "rows": 2}
        assert data["data"]["collect_time"] is False
        assert data["data"]["default_value"] is None

    def test_field_type_change_revalidates_default(self, world: World, form: Form) -> None:
        made = form.add(field_type="text", label="T", default_value="abc")
        errors = errors_of(
            world.call(
                "PUT", form.path(made["id"]), json={"field_type": "number", "default_value": "abc"}
            )
        )
        assert "default_value" in errors

    def test_position_moves_within_the_step(self, world: World, form: Form) -> None:
        ids = [form.add(label=label)["id"] for label in "ABC"]
        data = world.call("PUT", form.path(ids[2]), json={"position": 1}).json()["data"]
        assert data["position"] == 1
        assert form.labels() == ["C", "A", "B"]

    def test_reorder_one_capture_through_the_collection(self, world: World, form: Form) -> None:
        ids = [form.add(label=label)["id"] for label in "ABC"]
        response = world.call("PUT", form.path(), json={"capture_id": ids[0], "position": 3})
        assert response.status_code == 200
        assert response.json()["data"]["position"] == 3
        assert form.labels() == ["B", "C", "A"]
        assert errors_of(world.call("PUT", form.path(), json={"position": 1})).keys() == {
            "capture_id"
        }
        assert (
            world.call("PUT", form.path(), json={"capture_id": "0" * 32, "position": 1}).status_code
            == 404
        )

    def test_move_to_another_step(self, world: World, form: Form) -> None:
        target = form.add_step("Target")
        existing = form.add(step=target, label="T1")
        ids = [form.add(label=label)["id"] for label in "AB"]
        response = world.call(
            "PUT", form.path(ids[0]) + "/move-out", json={"target_step_id": target, "position": 1}
        )
        assert response.status_code == 200
        data = response.json()["data"]
        assert data["step_id"] == target
        assert data["position"] == 1
        assert form.labels() == ["B"]
        assert form.captures()[0]["position"] == 1
        assert form.labels(target) == ["A", "T1"]
        assert existing["id"] in [c["id"] for c in form.captures(target)]
        errors = errors_of(
            world.call("PUT", form.path(ids[1]) + "/move-out", json={"target_step_id": "0" * 32})
        )
        assert "target_step_id" in errors

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"label": ""}, "label"),
            ({"label": None}, "label"),
            ({"field_type": "bogus"}, "field_type"),
            ({"field_type": None}, "field_type"),
            ({"required": None}, "required"),
            ({"options": "a,b"}, "options"),
            ({"position": 0}, "position"),
        ],
    )
    def test_invalid_update_changes_nothing(
        self, world: World, form: Form, body: dict[str, Any], field: str
    ) -> None:
        made = form.add(label="Keep")
        errors = errors_of(
            world.call("PUT", form.path(made["id"]), json={**body, "guidance": "changed"})
        )
        assert field in errors
        assert form.captures() == [made]

    def test_unknown_capture_or_capture_of_another_step_is_404(
        self, world: World, form: Form
    ) -> None:
        other_step = form.add_step("Other")
        elsewhere = form.add(step=other_step)
        stranger = Form(World.create(world.factory, world.client))
        foreign = stranger.add()
        for path in (form.path("0" * 32), form.path(elsewhere["id"]), stranger.path(foreign["id"])):
            for method in ("PUT", "DELETE"):
                response = world.call(method, path, json={"label": "x"})
                assert response.status_code == 404, (path, method)
                assert response.json()["code"] == "RESOURCE_NOT_FOUND"

    def test_light_member_cannot_change(self, world: World, form: Form) -> None:
        made = form.add()
        for method, path, body in [
            ("PUT", form.path(made["id"]), {"label": "x"}),
            ("DELETE", form.path(made["id"]), None),
            ("PUT", form.path(), {"capture_id": made["id"], "position": 1}),
            ("PUT", form.path(made["id"]) + "/move-out", {"target_step_id": form.step}),
        ]:
            response = world.call(method, path, world.light, json=body)
            assert response.status_code == 403, (method, path)


class TestDelete:
    def test_delete_removes_and_renumbers(self, world: World, form: Form) -> None:
        ids = [form.add(label=label)["id"] for label in "ABC"]
        response = world.call("DELETE", form.path(ids[0]))
        assert response.status_code == 204
        assert response.content == b""
        assert form.labels() == ["B", "C"]
        assert [c["position"] for c in form.captures()] == [1, 2]
        assert world.call("DELETE", form.path(ids[0])).status_code == 404

    def test_deleted_capture_leaves_launched_runs_alone(self, world: World, form: Form) -> None:
        made = form.add(label="Note")
        run = world.launch(form.checklist)
        world.call("DELETE", form.path(made["id"]))
        fields = world.call("GET", f"/runs/{run['id']}?with=form_fields").json()["data"]
        assert [f["id"] for f in fields["form_fields"]["data"]] == [made["id"]]


class TestLaunch:
    def test_capture_values_can_be_filled_on_the_run(self, world: World, form: Form) -> None:
        made = form.add(field_type="dropdown", label="Carrier", options=["UPS", "DHL"])
        run = world.launch(form.checklist)
        response = world.call(
            "PUT", f"/runs/{run['id']}", json={"taskdata": {made["id"]: {"id": 2, "text": "DHL"}}}
        )
        assert response.status_code == 200, response.text
        fields = world.call("GET", f"/runs/{run['id']}?with=form_fields").json()["data"]
        assert fields["form_fields"]["data"][0]["value"] == {"id": 2, "text": "DHL", "value": None}
