"""Upload, metadata, download and delete round trips, as Tallyfy's clients call them, and
every hostile upload: oversized, wrong type, traversal names, other organizations' ids,
and what a guest and a light member may do."""

from pathlib import Path
from urllib.parse import quote

from fastapi.testclient import TestClient

from procflow.api.routes.files import content_disposition
from procflow.settings import Settings
from tests.factories import World
from tests.files.conftest import EXE, PDF, PNG, Form


def blob_files(settings: Settings) -> list[Path]:
    root = Path(settings.files_dir)
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_upload_answers_tallyfys_asset_object(form: Form) -> None:
    response = form.upload(step_id="a" * 32)
    assert response.status_code == 200, response.text
    asset = response.json()["data"]
    assert set(asset) == {
        "id", "filename", "version", "uploaded_from", "uploaded_at", "step_id", "source",
        "system", "uploaded_to_s3", "subject",
    }  # fmt: skip
    assert asset["filename"] == "report.pdf"
    assert asset["version"] == 1
    assert asset["uploaded_from"] == form.task_file
    assert asset["step_id"] == "a" * 32
    assert asset["source"] == "local"
    assert asset["subject"] == {"id": form.run_id, "type": "Run"}
    assert asset["uploaded_at"].endswith("Z")
    metadata = form.world.call("GET", f"/assets/{asset['id']}")
    assert metadata.status_code == 200
    assert metadata.json()["data"] == asset


def test_both_upload_paths_and_the_api_prefix_take_the_same_body(form: Form) -> None:
    data = {
        "uploaded_from": "ko_field",
        "subject_type": "Checklist",
        "subject_id": form.checklist_id,
    }
    for path in (form.world.url("/assets"), "/api" + form.world.url("/file")):
        response = form.world.client.post(
            path, headers=form.world.admin.headers, data=data, files={"name": ("a.pdf", PDF)}
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["subject"]["type"] == "Checklist"


def test_download_inline_and_as_attachment(form: Form) -> None:
    asset = form.uploaded(PNG, "photo.png")
    inline = form.world.call("GET", f"/file/{asset['id']}")
    assert inline.status_code == 200
    assert inline.content == PNG
    assert inline.headers["content-type"] == "image/png"
    assert inline.headers["x-content-type-options"] == "nosniff"
    assert inline.headers["content-disposition"].startswith("inline;")
    attachment = form.world.call("GET", f"/file/{asset['id']}/dl")
    assert attachment.status_code == 200
    assert attachment.content == PNG
    assert attachment.headers["content-type"] == "application/octet-stream"
    assert attachment.headers["x-content-type-options"] == "nosniff"
    assert attachment.headers["content-disposition"] == (
        "attachment; filename=\"photo.png\"; filename*=UTF-8''photo.png"
    )


def test_type_comes_from_the_bytes_not_the_name(form: Form) -> None:
    disguised = form.uploaded(PNG, "notes.txt")
    served = form.world.call("GET", f"/file/{disguised['id']}")
    assert served.headers["content-type"] == "image/png"
    html = form.uploaded(b"<html><script>alert(1)</script></html>", "page.html")
    served = form.world.call("GET", f"/file/{html['id']}")
    assert served.headers["content-type"] == "text/plain; charset=utf-8"
    assert "sandbox" in served.headers["content-security-policy"]


def test_wrong_types_are_refused_and_store_nothing(form: Form, settings: Settings) -> None:
    before = blob_files(settings)
    for content, name in (
        (EXE, "invoice.pdf"),
        (b"\x00\x01\x02binary", "data.csv"),
        (b"", "a.txt"),
    ):
        response = form.upload(content, name)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "VALIDATION_FAILED"
        assert "name" in response.json()["errors"]
    assert blob_files(settings) == before


def test_names_never_reach_a_path(form: Form, settings: Settings) -> None:
    hostile = ["../../etc/passwd", "..\\..\\boot.ini", "/abs/olute.pdf", "a\x00b.pdf", ".."]
    for name in hostile:
        response = form.upload(PDF, name)
        assert response.status_code == 200, (name, response.text)
        stored = response.json()["data"]["filename"]
        assert "/" not in stored
        assert "\\" not in stored
        assert "\x00" not in stored
        assert stored not in ("", ".", "..")
    root = Path(settings.files_dir).resolve()
    for path in blob_files(settings):
        assert path.resolve().is_relative_to(root)
        assert path.parent.name == form.world.org_id or path.parent.parent == root


def test_unicode_names_are_safe_in_content_disposition(form: Form) -> None:
    name = "Résumé; 2026 €.pdf"
    asset = form.uploaded(PDF, name)
    assert asset["filename"] == name
    header = form.world.call("GET", f"/file/{asset['id']}/dl").headers["content-disposition"]
    assert header.isascii()
    assert 'filename="R_sum__ 2026 _.pdf"' in header
    assert "filename*=UTF-8''" + quote(name, safe="") in header


def test_quotes_backslashes_and_controls_cannot_break_the_header() -> None:
    header = content_disposition("attachment", 'a"b\\c\r\nSet-Cookie: x=1%.pdf')
    assert header.isascii()
    assert "\r" not in header
    assert "\n" not in header
    fallback = header.split(";")[1]
    assert fallback == ' filename="a_b_c__Set-Cookie: x=1_.pdf"'


def test_oversized_uploads_are_413_and_store_nothing(
    small_client: TestClient, world: World, settings: Settings
) -> None:
    world.client = small_client
    from tests.files.conftest import make_form

    form = make_form(world)
    assert form.upload(b"a" * 1000, "ok.txt").status_code == 200
    for size in (1025, 10_000):
        response = form.upload(b"a" * size, "big.txt")
        assert response.status_code == 413, response.text
        assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    del settings


def test_bad_forms_are_refused(form: Form) -> None:
    world = form.world
    response = world.call("POST", "/file", json={"subject_type": "Run"})
    assert response.status_code == 415
    response = world.call("POST", "/file", data={"subject_type": "Run"}, files={"x": ("a", b"a")})
    assert response.status_code == 422
    assert set(response.json()["errors"]) >= {"subject_id", "uploaded_from", "name"}
    response = form.upload(subject_type="Organization")
    assert response.status_code == 422
    assert response.json()["errors"] == {"subject_type": ["The selected subject type is invalid."]}
    response = form.upload(subject_id="f" * 32)
    assert response.status_code == 422
    assert response.json()["errors"] == {"subject_id": ["The selected subject id is invalid."]}
    response = world.call(
        "POST",
        "/file",
        headers={"content-type": "multipart/form-data; boundary=x"},
        content=b"junk",
    )
    assert response.status_code in (400, 422), response.text


def test_another_organizations_files_and_subjects_are_invisible(
    form: Form, other_world: World
) -> None:
    theirs = form.uploaded()
    for method, path in (
        ("GET", f"/assets/{theirs['id']}"),
        ("GET", f"/file/{theirs['id']}"),
        ("GET", f"/file/{theirs['id']}/dl"),
        ("DELETE", f"/file/{theirs['id']}"),
        ("DELETE", f"/assets/{theirs['id']}"),
    ):
        response = other_world.call(method, path)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    into_theirs = other_world.call(
        "POST",
        "/file",
        data={"uploaded_from": "ko_field", "subject_type": "Run", "subject_id": form.run_id},
        files={"name": ("a.pdf", PDF)},
    )
    assert into_theirs.status_code == 422
    assert form.world.call("GET", f"/file/{theirs['id']}").content == PDF


def test_a_light_member_sees_files_of_runs_it_may_read_and_uploads_to_its_own_task(
    form: Form, world: World
) -> None:
    mine = form.upload(member=world.light)
    assert mine.status_code == 200, mine.text
    assert world.call("GET", f"/file/{mine.json()['data']['id']}", world.light).status_code == 200
    elsewhere = world.launch(world.template(title="Not the light member's"))
    response = form.upload(subject_id=elsewhere["id"])
    assert response.status_code == 200
    hidden = response.json()["data"]["id"]
    # The light member holds no task in the other run: its files are not theirs to see.
    for path in (f"/assets/{hidden}", f"/file/{hidden}", f"/file/{hidden}/dl"):
        assert world.call("GET", path, world.light).status_code == 403
    refused = form.upload(member=world.light, subject_id=elsewhere["id"])
    assert refused.status_code in (403, 422)
    assert world.call("DELETE", f"/file/{hidden}", world.light).status_code == 403
    kickoff = world.call(
        "POST",
        "/file",
        world.light,
        data={
            "uploaded_from": "ko_field",
            "subject_type": "Checklist",
            "subject_id": form.checklist_id,
        },
        files={"name": ("a.pdf", PDF)},
    )
    assert kickoff.status_code == 403


def test_a_guest_uploads_and_reads_only_its_own_tasks_files(form: Form) -> None:
    world, guest = form.world, form.guest
    own = form.upload(member=guest, uploaded_from=form.guest_file)
    assert own.status_code == 200, own.text
    own_id = own.json()["data"]["id"]
    assert world.call("GET", f"/file/{own_id}/dl", guest).content == PDF
    assert world.call("GET", f"/assets/{own_id}").status_code == 200
    members_file = form.uploaded()  # the light member's task field
    for path in (f"/assets/{members_file['id']}", f"/file/{members_file['id']}"):
        assert world.call("GET", path, guest).status_code == 403
    assert form.upload(member=guest).status_code == 403  # another task's field
    assert world.call("DELETE", f"/file/{own_id}", guest).status_code == 403


def test_archive_keeps_bytes_delete_removes_them(form: Form, settings: Settings) -> None:
    archived, deleted = form.uploaded(), form.uploaded()
    before = blob_files(settings)
    response = form.world.call("DELETE", f"/assets/{archived['id']}")
    assert response.status_code == 200
    assert response.json()["data"]["id"] == archived["id"]
    assert form.world.call("GET", f"/assets/{archived['id']}").status_code == 404
    assert blob_files(settings) == before
    response = form.world.call("DELETE", f"/file/{deleted['id']}")
    assert response.status_code == 200
    assert response.content == b""
    assert form.world.call("GET", f"/file/{deleted['id']}/dl").status_code == 404
    assert len(blob_files(settings)) == len(before) - 1
    assert form.world.call("DELETE", f"/file/{deleted['id']}").status_code == 404
