"""File and image form fields take uploaded assets as Tallyfy does, show them in its shape,
and follow their run: deleting a run, template or one-off task says what becomes of them."""

from pathlib import Path
from typing import Any

from procflow.settings import Settings
from tests.factories import World
from tests.files.conftest import PDF, PNG, Form, make_form


def stored(settings: Settings) -> set[str]:
    root = Path(settings.files_dir)
    return {p.name for p in root.rglob("*") if p.is_file() and p.parent.name != ".incoming"}


def put_taskdata(form: Form, values: dict[str, Any], member: Any = None) -> Any:
    return form.world.call(
        "PUT", f"/runs/{form.run_id}/tasks/{form.task_id}", member, json={"taskdata": values}
    )


def test_taskdata_takes_the_uploaded_asset_and_shows_it_as_tallyfy_does(form: Form) -> None:
    asset = form.uploaded()
    response = put_taskdata(form, {form.task_file: [asset]})
    assert response.status_code == 200, response.text
    value = response.json()["data"]["taskdata"][form.task_file]
    assert value == [{**asset, "url": f"organizations/{form.world.org_id}/file/{asset['id']}/dl"}]
    # A client that sends only the id gets the whole object stored.
    again = put_taskdata(form, {form.task_file: [{"id": asset["id"]}]})
    assert again.json()["data"]["taskdata"][form.task_file] == value
    run = form.world.call("GET", f"/runs/{form.run_id}?with=form_fields").text
    assert asset["id"] in run


def test_unknown_foreign_or_misfiled_assets_are_refused(form: Form, other_world: World) -> None:
    other = make_form(other_world)
    foreign = other.uploaded()
    kickoff_elsewhere = form.world.launch(form.checklist_id)
    misfiled = form.uploaded(subject_id=kickoff_elsewhere["id"])
    for bad in ({"id": "0" * 32}, foreign, misfiled):
        response = put_taskdata(form, {form.task_file: [bad]})
        assert response.status_code == 422, response.text
        assert list(response.json()["errors"]) == [f"taskdata.{form.task_file}"]


def test_values_of_the_wrong_shape_are_refused(form: Form) -> None:
    for bad in ("a.pdf", [{"filename": "no id"}], {"id": "x"}, [["nested"]]):
        response = put_taskdata(form, {form.task_file: bad})
        assert response.status_code == 422, (bad, response.text)
        assert list(response.json()["errors"]) == [f"taskdata.{form.task_file}"]


def test_image_fields_take_images_only(form: Form) -> None:
    pdf, png = form.uploaded(PDF), form.uploaded(PNG, "p.png")
    assert put_taskdata(form, {form.task_image: [pdf]}).status_code == 422
    assert put_taskdata(form, {form.task_image: [png]}).status_code == 200


def test_a_held_file_belongs_to_its_run_and_no_other(form: Form) -> None:
    asset = form.uploaded()
    assert put_taskdata(form, {form.task_file: [asset]}).status_code == 200
    second = form.world.launch(form.checklist_id)
    tasks = form.world.call("GET", f"/runs/{second['id']}/tasks").json()["data"]
    response = form.world.call(
        "PUT",
        f"/runs/{second['id']}/tasks/{tasks[0]['id']}",
        json={"taskdata": {form.task_file: [asset]}},
    )
    assert response.status_code == 422


def test_kickoff_files_on_launch_and_on_the_run_put(form: Form) -> None:
    world = form.world
    data = {
        "uploaded_from": "ko_field",
        "subject_type": "Checklist",
        "subject_id": form.checklist_id,
    }
    first, second = (
        world.call("POST", "/file", data=data, files={"name": ("k.pdf", PDF)}).json()["data"]
        for _ in range(2)
    )
    launched = world.launch(form.checklist_id, prerun={form.kickoff_file: [first]})
    assert launched["prerun"][form.kickoff_file][0]["id"] == first["id"]
    updated = world.call(
        "PUT", f"/runs/{form.run_id}", json={"prerun": {form.kickoff_file: [second]}}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["prerun"][form.kickoff_file][0]["url"].endswith(
        f"/file/{second['id']}/dl"
    )
    # Once held by a run, a kick-off file is that run's: no second run may take it.
    body = {"checklist_id": form.checklist_id, "prerun": {form.kickoff_file: [first]}}
    refused = world.call("POST", "/runs", json=body)
    assert refused.status_code == 422


def test_deleting_a_run_for_good_deletes_its_files(form: Form, settings: Settings) -> None:
    world = form.world
    held, loose = form.uploaded(), form.uploaded()
    assert put_taskdata(form, {form.task_file: [held]}).status_code == 200
    assert {held["id"], loose["id"]} <= stored(settings)
    assert world.call("DELETE", f"/runs/{form.run_id}").status_code == 200
    assert world.call("GET", f"/file/{held['id']}").status_code == 200  # archived: kept
    assert world.call("DELETE", f"/runs/{form.run_id}/delete").status_code == 200
    for asset in (held, loose):
        assert world.call("GET", f"/assets/{asset['id']}").status_code == 404
    assert not {held["id"], loose["id"]} & stored(settings)


def test_deleting_a_template_keeps_files_its_runs_hold(form: Form, settings: Settings) -> None:
    world = form.world
    data = {
        "uploaded_from": "ko_field",
        "subject_type": "Checklist",
        "subject_id": form.checklist_id,
    }
    held, loose = (
        world.call("POST", "/file", data=data, files={"name": ("k.pdf", PDF)}).json()["data"]
        for _ in range(2)
    )
    run = world.launch(form.checklist_id, prerun={form.kickoff_file: [held]})
    assert world.call("DELETE", f"/checklists/{form.checklist_id}").status_code == 200
    assert world.call("DELETE", f"/checklists/{form.checklist_id}/delete").status_code in (200, 204)
    assert world.call("GET", f"/file/{held['id']}").content == PDF
    assert world.call("GET", f"/assets/{loose['id']}").status_code == 404
    assert held["id"] in stored(settings)
    assert loose["id"] not in stored(settings)
    assert run["id"]
