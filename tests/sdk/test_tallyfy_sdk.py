"""Tallyfy's official Python SDK (`tallyfy` on PyPI) against a live procflow server."""

from collections.abc import Callable
from typing import Any

import pytest
from tallyfy import TallyfyError

from tests.factories import World
from tests.files.conftest import PDF, make_form


def _template_with_kickoff(sdk: Any, org: str) -> tuple[str, dict[str, str]]:
    """A template with a text and a dropdown kick-off field; returns its id and field ids."""
    template = sdk.create_template(org, "Client onboarding", summary="New accounts")
    template = sdk.update_template_metadata(
        org,
        template.id,
        prerun=[
            {"label": "Client name", "field_type": "text", "required": True},
            {
                "label": "Plan",
                "field_type": "dropdown",
                "required": False,
                "options": [{"id": 1, "text": "Basic"}, {"id": 2, "text": "Pro"}],
            },
        ],
    )
    sdk.add_step_to_template(org, template.id, {"title": "Send welcome pack"})
    fields = {field.extra["label"]: field.id for field in template.prerun}
    return template.id, fields


def test_templates_steps_kickoff_fields_and_captures(sdk: Any, world: World) -> None:
    org = world.org_id
    created = sdk.create_template(org, "Client onboarding", summary="New accounts")
    assert len(created.id) == 32
    assert (created.title, created.summary, created.type) == (
        "Client onboarding",
        "New accounts",
        "procedure",
    )
    tpl = created.id

    updated = sdk.update_template_metadata(
        org, tpl, title="Client onboarding v2", guidance="Read before launching", starred=True
    )
    assert (updated.id, updated.title, updated.summary) == (
        tpl,
        "Client onboarding v2",
        "New accounts",
    )
    assert (updated.guidance, updated.starred) == ("Read before launching", True)

    with_kickoff = sdk.update_template_metadata(
        org,
        tpl,
        prerun=[
            {"label": "Client name", "field_type": "text", "required": True},
            {
                "label": "Region",
                "field_type": "dropdown",
                "required": False,
                "options": [{"text": "EMEA"}, {"text": "APAC"}],
            },
        ],
    )
    assert [(f.extra["label"], f.field_type, f.required) for f in with_kickoff.prerun] == [
        ("Client name", "text", True),
        ("Region", "dropdown", False),
    ]
    assert [f.position for f in with_kickoff.prerun] == [1, 2]
    region = with_kickoff.prerun[1]
    assert [o["text"] for o in region.options] == ["EMEA", "APAC"]

    first = sdk.add_step_to_template(
        org, tpl, {"title": "Collect documents", "summary": "Passport and contract"}
    )
    second = sdk.add_step_to_template(
        org, tpl, {"title": "Set up account", "step_type": "approval"}
    )
    assert (first["title"], first["summary"], first["position"]) == (
        "Collect documents",
        "Passport and contract",
        1,
    )
    assert (second["title"], second["step_type"], second["position"]) == (
        "Set up account",
        "approval",
        2,
    )
    assert first["checklist_id"] == tpl

    plan = sdk.add_form_field_to_step(
        org,
        tpl,
        first["id"],
        {
            "field_type": "dropdown",
            "label": "Plan",
            "required": False,
            "options": [{"id": 1, "text": "Basic"}, {"id": 2, "text": "Pro"}],
        },
    )
    notes = sdk.add_form_field_to_step(
        org, tpl, first["id"], {"field_type": "textarea", "label": "Notes", "position": 2}
    )
    assert (plan.label, plan.field_type, plan.required, plan.step_id) == (
        "Plan",
        "dropdown",
        False,
        first["id"],
    )
    assert (notes.label, notes.required, notes.position) == ("Notes", True, 2)

    renamed = sdk.update_form_field(
        org, tpl, first["id"], notes.id, label="Internal notes", guidance="Visible to the team only"
    )
    assert (renamed.id, renamed.label, renamed.guidance) == (
        notes.id,
        "Internal notes",
        "Visible to the team only",
    )

    assert (
        sdk.update_dropdown_options(org, tpl, first["id"], plan.id, ["Basic", "Pro", "Enterprise"])
        is True
    )
    assert sdk.get_dropdown_options(org, tpl, first["id"], plan.id) == [
        "Basic",
        "Pro",
        "Enterprise",
    ]

    described = sdk.edit_description_on_step(org, tpl, second["id"], "Ask IT for access")
    assert (described["title"], described["summary"]) == ("Set up account", "Ask IT for access")

    template = sdk.get_template(org, tpl)
    assert (template.id, template.title) == (tpl, "Client onboarding v2")
    assert [s.title for s in template.steps] == ["Collect documents", "Set up account"]
    assert [s.position for s in template.steps] == [1, 2]
    assert [c.label for c in template.steps[0].captures] == ["Plan", "Internal notes"]
    assert [o["text"] for o in template.steps[0].captures[0].options] == [
        "Basic",
        "Pro",
        "Enterprise",
    ]
    assert [f.extra["label"] for f in template.prerun] == ["Client name", "Region"]

    # Included steps come wrapped as {"data": [...]}, so the SDK's own "step_count" counts
    # the wrapper's keys; the parsed template is the reliable view.
    summary = sdk.get_template_with_steps(org, tpl)
    assert [s.id for s in summary["template"].steps] == [first["id"], second["id"]]
    assert (summary["prerun_field_count"], summary["automation_count"]) == (2, 0)

    steps = sdk.get_template_steps(org, tpl)
    assert [(s.id, s.title) for s in steps] == [
        (first["id"], "Collect documents"),
        (second["id"], "Set up account"),
    ]
    assert sdk.form_fields.get_step(org, tpl, second["id"]).summary == "Ask IT for access"

    kickoff = sdk.get_kickoff_form_fields(org, tpl)
    assert [f["label"] for f in kickoff] == ["Client name", "Region"]

    # Replacing the kick-off array keeps fields sent with their id and drops the others.
    kept = {
        "id": region.id,
        "label": "Sales region",
        "field_type": "dropdown",
        "options": region.options,
    }
    trimmed = sdk.update_template_metadata(org, tpl, prerun=[kept])
    assert [(f.id, f.extra["label"]) for f in trimmed.prerun] == [(region.id, "Sales region")]

    assert sdk.delete_form_field(org, tpl, first["id"], notes.id) is True
    assert sdk.delete_step(org, tpl, second["id"]) is True
    final = world.call("GET", f"/checklists/{tpl}?with=steps").json()["data"]
    assert [s["title"] for s in final["steps"]["data"]] == ["Collect documents"]
    assert [c["label"] for c in final["steps"]["data"][0]["captures"]] == ["Plan"]
    assert [f["label"] for f in final["prerun"]] == ["Sales region"]

    listed = sdk.get_all_templates(org)
    assert [t.id for t in listed.data] == [tpl]
    assert listed.meta.total == 1
    assert sdk.delete_template(org, tpl) is True
    assert world.call("GET", f"/checklists/{tpl}").json()["data"]["status"] == "archived"
    assert sdk.get_all_templates(org).data == []


def test_tags(sdk: Any, world: World) -> None:
    org = world.org_id
    tpl, fields = _template_with_kickoff(sdk, org)
    run = sdk.launch_process(org, tpl, "Acme onboarding", prerun={fields["Client name"]: "Acme"})

    urgent = sdk.create_tag(org, "urgent", color="#ff0000")
    vip = sdk.create_tag(org, "vip")
    assert (len(urgent.id), urgent.title, urgent.color) == (32, "urgent", "#ff0000")
    assert sorted(t.title for t in sdk.get_tags(org)) == ["urgent", "vip"]
    assert sdk.get_tag(org, vip.id).title == "vip"

    renamed = sdk.update_tag(org, vip.id, title="key-account", color="#00aa00")
    assert (renamed.id, renamed.title, renamed.color) == (vip.id, "key-account", "#00aa00")

    assert sdk.tag_process(org, run.id, urgent.id) is True
    assert sdk.tag_process(org, run.id, vip.id) is True
    assert sdk.tag_template(org, tpl, urgent.id) is True
    tagged = sdk.get_process(org, run.id, with_="tags")
    assert sorted(t["tag_id"] for t in tagged.tags["data"]) == sorted([urgent.id, vip.id])
    template = sdk.get_template(org, tpl)
    assert [t.extra["tag_id"] for t in template.tags] == [urgent.id]
    assert [t.title for t in template.tags] == ["urgent"]

    assert sdk.untag_process(org, run.id, urgent.id) is True
    assert sdk.untag_template(org, urgent.id, tpl) is True
    assert world.call("GET", f"/runs/{run.id}").json()["data"]["tags"] == [vip.id]
    assert sdk.get_template(org, tpl).tags == []

    assert sdk.delete_tag(org, vip.id) is True
    assert [t.title for t in sdk.get_tags(org)] == ["urgent"]
    assert world.call("GET", f"/runs/{run.id}").json()["data"]["tags"] == []
    with pytest.raises(TallyfyError) as missing:
        sdk.get_tag(org, vip.id)
    assert missing.value.status_code == 404


def test_folders(sdk: Any, world: World) -> None:
    org = world.org_id
    tpl, fields = _template_with_kickoff(sdk, org)
    run = sdk.launch_process(org, tpl, "Acme onboarding", prerun={fields["Client name"]: "Acme"})

    clients = sdk.create_folder(org, "Clients")
    europe = sdk.create_folder(org, "Europe", parent_id=clients.id)
    assert (len(clients.id), clients.name) == (32, "Clients")
    assert (europe.name, europe.parent_id) == ("Europe", clients.id)
    assert sdk.get_folder(org, europe.id).name == "Europe"

    renamed = sdk.update_folder(org, europe.id, name="EMEA")
    assert (renamed.id, renamed.name, renamed.parent_id) == (europe.id, "EMEA", clients.id)
    tree = sdk.get_folders(org)
    assert [(f.id, f.name) for f in tree] == [(clients.id, "Clients")]
    assert [(f.id, f.name) for f in tree[0].children] == [(europe.id, "EMEA")]

    relation = sdk.add_object_to_folder(org, europe.id, run.id, "run")
    assert isinstance(relation, dict)
    assert isinstance(relation["id"], int)
    filed = world.call("GET", f"/runs/{run.id}").json()["data"]
    assert filed["folders"] == [europe.id]
    in_folder = sdk.get_organization_runs(org, folder=europe.id)
    assert [r.id for r in in_folder.data] == [run.id]

    assert sdk.remove_object_from_folder(org, relation["id"]) is True
    assert world.call("GET", f"/runs/{run.id}").json()["data"]["folders"] == []

    assert sdk.add_object_to_folder(org, clients.id, tpl, "checklist") is True
    assert sdk.get_template(org, tpl).extra["folder_id"] == clients.id
    assert [t.id for t in sdk.get_all_templates(org, folder=clients.id).data] == [tpl]

    assert sdk.delete_folder(org, europe.id) is True
    assert [(f.name, f.children) for f in sdk.get_folders(org)] == [("Clients", [])]


def test_process_lifecycle(sdk: Any, world: World) -> None:
    org = world.org_id
    tpl, fields = _template_with_kickoff(sdk, org)
    other_tpl, other_fields = _template_with_kickoff(sdk, org)
    tag = sdk.create_tag(org, "q3")

    run = sdk.launch_process(
        org,
        tpl,
        "Acme onboarding",
        summary="Signed in March",
        prerun={fields["Client name"]: "Acme Ltd", fields["Plan"]: {"id": 2, "text": "Pro"}},
        tags=[tag.id],
    )
    assert (len(run.id), run.name, run.summary, run.status) == (
        32,
        "Acme onboarding",
        "Signed in March",
        "active",
    )
    assert (run.checklist_id, run.checklist_title) == (tpl, "Client onboarding")
    assert run.tags == [tag.id]
    assert (run.progress.complete, run.progress.total) == (0, 1)
    sdk.launch_process(
        org, other_tpl, "Globex onboarding", prerun={other_fields["Client name"]: "Globex"}
    )

    fetched = sdk.get_process(org, run.id)
    assert (fetched.id, fetched.name, fetched.starred) == (run.id, "Acme onboarding", False)
    assert fetched.prerun[fields["Client name"]] == "Acme Ltd"
    assert fetched.prerun[fields["Plan"]]["text"] == "Pro"
    with_tasks = sdk.get_process(org, run.id, with_="tasks")
    assert [t["title"] for t in with_tasks.extra["tasks"]["data"]] == ["Send welcome pack"]

    everything = sdk.get_organization_runs(org)
    assert sorted(r.name for r in everything.data) == ["Acme onboarding", "Globex onboarding"]
    assert everything.meta.total == 2
    only_tpl = sdk.get_organization_runs(org, checklist_id=tpl, status="active")
    assert [r.id for r in only_tpl.data] == [run.id]
    assert only_tpl.meta.total == 1
    assert [r.id for r in sdk.get_organization_runs(org, tag=tag.id).data] == [run.id]

    updated = sdk.update_process(
        org, run.id, name="Acme Ltd onboarding", summary="Signed in April", starred=True
    )
    assert (updated.id, updated.name, updated.summary, updated.starred) == (
        run.id,
        "Acme Ltd onboarding",
        "Signed in April",
        True,
    )
    assert [r.id for r in sdk.get_organization_runs(org, starred=True).data] == [run.id]
    unstarred = sdk.update_process(org, run.id, starred=False)
    assert (unstarred.name, unstarred.starred) == ("Acme Ltd onboarding", False)

    assert sdk.archive_process(org, run.id) is True
    archived = sdk.get_process(org, run.id)
    assert archived.status == "archived"
    assert archived.archived_at
    active = sdk.get_organization_runs(org, status="active")
    assert [r.name for r in active.data] == ["Globex onboarding"]
    assert [r.id for r in sdk.get_organization_runs(org, status="archived").data] == [run.id]
    assert sdk.get_organization_runs(org, archived=True).meta.total == 2

    restored = sdk.reactivate_process(org, run.id)
    assert (restored.status, restored.archived_at) == ("active", None)


def test_errors_surface_status_and_message(sdk: Any, world: World) -> None:
    org = world.org_id
    with pytest.raises(TallyfyError) as missing:
        sdk.get_process(org, "0" * 32)
    assert missing.value.status_code == 404
    assert missing.value.response_data["code"] == "RESOURCE_NOT_FOUND"

    tpl, fields = _template_with_kickoff(sdk, org)
    with pytest.raises(TallyfyError) as invalid:
        sdk.launch_process(org, tpl, "No client name", prerun={fields["Plan"]: "Gold"})
    assert invalid.value.status_code == 422
    assert set(invalid.value.response_data["errors"]) == {
        f"prerun.{fields['Client name']}",
        f"prerun.{fields['Plan']}",
    }
    assert world.call("GET", "/runs").json()["meta"]["pagination"]["total"] == 0


def test_page_walks_collect_every_item(sdk: Any, world: World) -> None:
    titles = [f"tag-{i:03d}" for i in range(130)]
    for title in titles:
        world.tag(title)
    tpl = world.template(steps=[{"title": f"Step {i}"} for i in range(1, 102)])

    assert sorted(t.title for t in sdk.get_tags(world.org_id)) == titles
    steps = sdk.get_template_steps(world.org_id, tpl)
    assert [s.position for s in steps] == list(range(1, 102))
    assert len(sdk.get_template(world.org_id, tpl).steps) == 101


def test_roles_and_tokens_are_enforced(sdk_for: Callable[[str], Any], world: World) -> None:
    light = sdk_for(world.light.token)
    with pytest.raises(TallyfyError) as forbidden:
        light.create_tag(world.org_id, "not-allowed")
    assert forbidden.value.status_code == 403
    assert light.get_tags(world.org_id) == []

    with pytest.raises(TallyfyError) as unauthenticated:
        sdk_for("not-a-token").get_tags(world.org_id)
    assert unauthenticated.value.status_code == 401
    assert str(unauthenticated.value).endswith(": Unauthenticated.")


def test_step_and_field_housekeeping(sdk: Any, world: World) -> None:
    org = world.org_id
    tpl, fields = _template_with_kickoff(sdk, org)
    review = sdk.add_step_to_template(
        org,
        tpl,
        {
            "title": "Review",
            "assignees": [world.standard.user_id],
            "deadline": {"value": 2, "unit": "days", "option": "from", "step": "start_run"},
        },
    )
    first = sdk.get_template_steps(org, tpl)[0].id
    size = sdk.add_form_field_to_step(org, tpl, first, {"field_type": "text", "label": "Size"})
    city = sdk.add_form_field_to_step(
        org, tpl, first, {"field_type": "text", "label": "City", "position": 2}
    )

    assert sdk.reorder_step(org, tpl, review["id"], 1)["position"] == 1
    staffed = sdk.add_assignees_to_step(
        org, tpl, review["id"], [world.admin.user_id], guests=["auditor@example.com"]
    )
    assert sorted(staffed["assignees"]) == sorted([world.admin.user_id, world.standard.user_id])
    assert staffed["guests"] == ["auditor@example.com"]
    assert sdk.reorder_form_fields(org, tpl, first, [{"id": city.id, "position": 1}]) is True
    assert sdk.move_form_field(org, tpl, first, size.id, review["id"]) is True
    copy = sdk.clone_step(org, tpl, review["id"])
    assert (copy["title"], copy["position"]) == ("Review", 2)
    assert [c["label"] for c in copy["captures"]] == ["Size"]
    assert [s.title for s in sdk.get_template_steps(org, tpl)] == [
        "Review",
        "Review",
        "Send welcome pack",
    ]
    assert [c.label for c in sdk.form_fields.get_step(org, tpl, first).captures] == ["City"]

    duplicate = sdk.duplicate_template(org, tpl, "Client onboarding (copy)", org)
    assert (duplicate.title, len(duplicate.prerun)) == ("Client onboarding (copy)", 2)

    run = sdk.launch_process(org, tpl, "Acme", prerun={fields["Client name"]: "Acme"})
    assert sdk.complete_kickoff_form(org, run.id) is True
    assert sdk.get_process(org, run.id).prerun_completed_at
    assert sdk.reopen_kickoff_form(org, run.id) is True
    assert sdk.get_process(org, run.id).prerun_completed_at is None

    assert sdk.get_current_user_info(org).id == world.admin.user_id
    assert sdk.get_organization(org).id == org


def test_members_listed_paged_and_unpaged(sdk: Any, world: World) -> None:
    paged = sdk.get_organization_users(world.org_id)
    unpaged = sdk.get_organization_users_list(world.org_id)
    expected = {world.admin.user_id, world.standard.user_id, world.light.user_id}
    assert {user.id for user in paged.data} == expected
    assert {user.id for user in unpaged.data} == expected
    assert unpaged.count == 3
    one = sdk.get_user(world.org_id, world.standard.user_id)
    assert one is not None
    assert one.id == world.standard.user_id
    assert sdk.approve_user(world.org_id, world.light.user_id) is True
    tasks_of_standard = sdk.get_user_tasks(world.org_id, world.standard.user_id)
    assert tasks_of_standard.data == []


def test_upload_attach_download_with_the_sdk(sdk: Any, world: World) -> None:
    form = make_form(world)
    asset = sdk.upload_file(
        world.org_id,
        PDF,
        "invoice.pdf",
        uploaded_from=form.task_file,
        subject_type="Run",
        subject_id=form.run_id,
        step_id="0" * 32,
        checklist_id=form.checklist_id,
    )
    assert asset.filename == "invoice.pdf"
    assert asset.subject == {"id": form.run_id, "type": "Run"}
    assert sdk.download_file(world.org_id, asset.id) == PDF
    response = world.call(
        "PUT",
        f"/runs/{form.run_id}/tasks/{form.task_id}",
        json={"taskdata": {form.task_file: [{"id": asset.id}]}},
    )
    assert response.status_code == 200, response.text
    (value,) = response.json()["data"]["taskdata"][form.task_file]
    assert sdk.download_file_from_url(value["url"]) == PDF
    with pytest.raises(Exception, match=r"404|not found"):
        sdk.download_file(world.org_id, "0" * 32)
