"""Tallyfy's Python SDK uploads a file to a task's field, attaches it, and downloads it back
(by id and by the `url` the form value carries), against a real procflow server."""

from typing import Any

import pytest

from tests.factories import World
from tests.files.conftest import PDF, make_form
from tests.sdk.conftest import sdk, sdk_for, server_url  # noqa: F401 - fixtures

pytestmark = pytest.mark.conformance


def test_upload_attach_download_with_the_sdk(sdk: Any, world: World) -> None:  # noqa: F811
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
