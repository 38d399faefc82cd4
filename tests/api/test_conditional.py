"""Conditional requests: `ETag` on runs and tasks, `If-Match` (412/428), `If-None-Match` (304)."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from procflow.api.app import create_app
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.models import Activity
from tests.factories import World

KICKOFF: list[dict[str, Any]] = [{"field_type": "text", "label": "Client"}]


def setup(world: World) -> tuple[dict[str, Any], str, str]:
    """A run with a kick-off field and two tasks (the first with a capture)."""
    capture = uuid4().hex
    template = world.template(
        kickoff=[dict(f) for f in KICKOFF],
        steps=[
            {
                "title": "First",
                "captures": [{"id": capture, "field_type": "text", "label": "Note"}],
            },
            {"title": "Second"},
        ],
    )
    run = world.launch(template)
    tasks = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    return run, tasks[0]["id"], capture


def etag_of(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    etag: str = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert len(etag) > 2
    return etag


def run_etag(world: World, run_id: str, query: str = "") -> str:
    return etag_of(world.call("GET", f"/runs/{run_id}{query}"))


def task_etag(world: World, task_id: str, run_id: str | None = None) -> str:
    path = f"/runs/{run_id}/tasks/{task_id}" if run_id else f"/tasks/{task_id}"
    return etag_of(world.call("GET", path))


def put(world: World, run_id: str, body: Any, if_match: str | None = None) -> Any:
    headers = {} if if_match is None else {"If-Match": if_match}
    return world.call("PUT", f"/runs/{run_id}", json=body, headers=headers)


def activity_count(world: World, run_id: str) -> int:
    with UnitOfWork(world.factory, write=False) as uow:
        return int(
            uow.session.scalar(
                select(func.count()).select_from(Activity).where(Activity.run_id == run_id)
            )
            or 0
        )


def assert_precondition_failed(response: Any) -> None:
    assert response.status_code == 412, response.text
    body = response.json()
    assert body["error"] is True
    assert body["code"] == "PRECONDITION_FAILED"
    assert isinstance(body["message"], str)
    assert body["message"]


# ---- runs: ETag ----------------------------------------------------------------------


def test_every_run_response_carries_a_strong_etag(world: World) -> None:
    template = world.template(kickoff=[dict(f) for f in KICKOFF])
    launched = world.call("POST", "/runs", json={"checklist_id": template})
    run_id = launched.json()["data"]["id"]
    assert etag_of(launched) == run_etag(world, run_id)
    assert not launched.headers["etag"].startswith("W/")
    actions = [
        ("PUT", "", {"name": "Renamed"}),
        ("DELETE", "/complete-prerun", None),
        ("POST", "/complete-prerun", None),
        ("DELETE", "", None),
        ("PUT", "/activate", None),
    ]
    seen = {etag_of(launched)}
    for method, path, body in actions:
        response = world.call(method, f"/runs/{run_id}{path}", json=body)
        assert etag_of(response) == run_etag(world, run_id)
        assert response.headers["etag"] not in seen, path
        seen.add(response.headers["etag"])


def test_etag_is_stable_across_reads_and_includes(world: World) -> None:
    run, _task, _capture = setup(world)
    first = run_etag(world, run["id"])
    assert run_etag(world, run["id"]) == first
    for query in (
        "?with=tasks",
        "?with=tags,folders",
        "?with=form_fields,ko_form_fields,checklist",
    ):
        assert run_etag(world, run["id"], query) == first
    assert world.call("GET", f"/api/organizations/{world.org_id}/runs/{run['id']}")
    assert run_etag(world, run["id"]) == first


def test_etags_differ_between_runs(world: World) -> None:
    template = world.template()
    one, two = world.launch(template), world.launch(template)
    assert run_etag(world, one["id"]) != run_etag(world, two["id"])


def test_a_no_op_put_keeps_the_etag(world: World) -> None:
    run, _task, _capture = setup(world)
    before = run_etag(world, run["id"])
    response = put(world, run["id"], {"name": run["name"], "tags": [], "users": []})
    assert etag_of(response) == before
    assert put(world, run["id"], {}).headers["etag"] == before
    assert run_etag(world, run["id"]) == before


CHANGES: dict[str, Any] = {
    "name": lambda w, run, task, capture: put(w, run, {"name": "Another name"}),
    "summary": lambda w, run, task, capture: put(w, run, {"summary": "Notes"}),
    "starred": lambda w, run, task, capture: put(w, run, {"starred": True}),
    "tags": lambda w, run, task, capture: put(w, run, {"tags": [w.tag()]}),
    "folders": lambda w, run, task, capture: put(w, run, {"folders": [w.folder()]}),
    "users": lambda w, run, task, capture: put(w, run, {"users": [w.standard.user_id]}),
    "owner": lambda w, run, task, capture: put(w, run, {"owner_id": w.standard.user_id}),
    "kickoff": lambda w, run, task, capture: put(
        w,
        run,
        {"prerun": dict.fromkeys(w.call("GET", f"/runs/{run}").json()["data"]["prerun"], "A")},
    ),
    "taskdata": lambda w, run, task, capture: put(w, run, {"taskdata": {capture: "filled"}}),
    "task update": lambda w, run, task, capture: w.call(
        "PUT", f"/runs/{run}/tasks/{task}", json={"title": "Retitled"}
    ),
    "completion": lambda w, run, task, capture: w.call(
        "POST", f"/runs/{run}/completed-tasks", json={"task_id": task}
    ),
    "comment": lambda w, run, task, capture: w.call(
        "POST", f"/tasks/{task}/comment", json={"content": "Hello"}
    ),
    "problem": lambda w, run, task, capture: w.call(
        "POST", f"/tasks/{task}/problem", json={"content": "Stuck"}
    ),
    "archive": lambda w, run, task, capture: w.call("DELETE", f"/runs/{run}"),
    "prerun reopening": lambda w, run, task, capture: w.call(
        "DELETE", f"/runs/{run}/complete-prerun"
    ),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_kind_of_change_moves_the_etag(world: World, change: str) -> None:
    run, task, capture = setup(world)
    before = run_etag(world, run["id"])
    task_before = task_etag(world, task, run["id"])
    response = CHANGES[change](world, run["id"], task, capture)
    assert response.status_code in (200, 201), response.text
    after = run_etag(world, run["id"])
    assert after != before
    assert task_etag(world, task, run["id"]) != task_before
    if "etag" in response.headers and response.request.url.path.endswith(f"/runs/{run['id']}"):
        assert response.headers["etag"] == after


def test_changes_to_shown_labels_move_the_etag(world: World) -> None:
    run, _task, _capture = setup(world)
    tag, folder = world.tag(), world.folder()
    assert put(world, run["id"], {"tags": [tag], "folders": [folder]}).status_code == 200
    steps = [
        ("PUT", f"/tags/{tag}", {"title": f"renamed-{uuid4().hex[:6]}"}),
        ("PUT", f"/folders/{folder}", {"name": "Renamed folder"}),
        ("DELETE", f"/folders/{folder}", None),
        ("DELETE", f"/tags/{tag}", None),
    ]
    for method, path, body in steps:
        before = run_etag(world, run["id"])
        response = world.call(method, path, json=body)
        assert response.status_code in (200, 204), response.text
        assert run_etag(world, run["id"]) != before, path


def test_deleting_a_named_group_moves_the_etag(world: World) -> None:
    run, _task, _capture = setup(world)
    created = world.call("POST", "/groups", json={"name": f"g-{uuid4().hex[:6]}"})
    assert created.status_code == 201, created.text
    group_id = created.json()["data"]["id"]
    assert put(world, run["id"], {"groups": [group_id]}).status_code == 200
    before = run_etag(world, run["id"])
    assert world.call("DELETE", f"/groups/{group_id}").status_code in (200, 204)
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["groups"] == []
    assert run_etag(world, run["id"]) != before


def test_template_changes_that_reach_runs_move_the_etag(world: World) -> None:
    run, task, _capture = setup(world)
    template = run["checklist_id"]
    step = world.call("GET", f"/runs/{run['id']}/tasks/{task}").json()["data"]["step_id"]
    before, task_before = run_etag(world, run["id"]), task_etag(world, task)
    assert world.call("DELETE", f"/checklists/{template}/steps/{step}").status_code == 204
    assert world.call("GET", f"/tasks/{task}").json()["data"]["step_id"] is None
    assert run_etag(world, run["id"]) != before
    assert task_etag(world, task) != task_before
    before = run_etag(world, run["id"])
    assert world.call("DELETE", f"/checklists/{template}").status_code == 200
    assert world.call("DELETE", f"/checklists/{template}/delete").status_code in (200, 204)
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["checklist_id"] is None
    assert run_etag(world, run["id"]) != before


def test_filing_a_task_moves_its_run_etag(world: World) -> None:
    run, task, _capture = setup(world)
    before, task_before = run_etag(world, run["id"]), task_etag(world, task)
    body = {"folder_id": world.folder(), "subject_type": "Task", "subject_id": task}
    assert world.call("POST", "/folders/add-object", json=body).status_code == 201
    assert run_etag(world, run["id"]) != before
    assert task_etag(world, task) != task_before


def test_deleting_a_parent_run_moves_its_children_etags(world: World) -> None:
    template = world.template()
    parent = world.launch(template)
    child = world.launch(template, parent_id=parent["id"])
    before = run_etag(world, child["id"])
    assert world.call("DELETE", f"/runs/{parent['id']}").status_code == 200
    assert world.call("DELETE", f"/runs/{parent['id']}/delete").status_code == 200
    assert world.call("GET", f"/runs/{child['id']}").json()["data"]["parent_id"] is None
    assert run_etag(world, child["id"]) != before


# ---- runs: If-Match ------------------------------------------------------------------


def test_if_match_that_matches_writes_and_returns_the_new_etag(world: World) -> None:
    run, _task, _capture = setup(world)
    current = run_etag(world, run["id"])
    response = put(world, run["id"], {"name": "Matched"}, if_match=current)
    assert response.status_code == 200, response.text
    new = etag_of(response)
    assert new != current
    assert new == run_etag(world, run["id"])
    assert response.json()["data"]["name"] == "Matched"


def test_if_match_that_does_not_match_writes_nothing(world: World) -> None:
    run, _task, _capture = setup(world)
    stale = run_etag(world, run["id"])
    assert put(world, run["id"], {"name": "First"}).status_code == 200
    before = world.call("GET", f"/runs/{run['id']}").json()["data"]
    records = activity_count(world, run["id"])
    tag = world.tag()
    response = put(world, run["id"], {"name": "Second", "tags": [tag]}, if_match=stale)
    assert_precondition_failed(response)
    assert "etag" not in response.headers
    assert world.call("GET", f"/runs/{run['id']}").json()["data"] == before
    assert activity_count(world, run["id"]) == records


def test_if_match_is_checked_before_the_body(world: World) -> None:
    run, _task, _capture = setup(world)
    response = put(world, run["id"], {"owner_id": 999_999}, if_match='"stale"')
    assert_precondition_failed(response)


def test_if_match_forms(world: World) -> None:
    run, _task, _capture = setup(world)
    current = run_etag(world, run["id"])
    assert put(world, run["id"], {"name": "Star"}, if_match="*").status_code == 200
    current = run_etag(world, run["id"])
    assert_precondition_failed(put(world, run["id"], {"name": "Weak"}, if_match=f"W/{current}"))
    assert_precondition_failed(put(world, run["id"], {"name": "Bare"}, if_match=current.strip('"')))
    listed = f'"nope", {current} , "other"'
    assert put(world, run["id"], {"name": "Listed"}, if_match=listed).status_code == 200
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["name"] == "Listed"


def test_if_match_on_unknown_run_is_404(world: World) -> None:
    response = put(world, "0" * 32, {"name": "x"}, if_match='"anything"')
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", ""),
        ("POST", "/complete-prerun"),
        ("DELETE", "/complete-prerun"),
    ],
)
def test_if_match_on_run_actions(world: World, method: str, path: str) -> None:
    run, _task, _capture = setup(world)
    url = f"/runs/{run['id']}{path}"
    before = world.call("GET", f"/runs/{run['id']}").json()["data"]
    assert_precondition_failed(world.call(method, url, headers={"If-Match": '"stale"'}))
    assert world.call("GET", f"/runs/{run['id']}").json()["data"] == before
    current = run_etag(world, run["id"])
    response = world.call(method, url, headers={"If-Match": current})
    assert etag_of(response) == run_etag(world, run["id"])


def test_if_match_on_activate_and_permanent_delete(world: World) -> None:
    run, _task, _capture = setup(world)
    archived = etag_of(world.call("DELETE", f"/runs/{run['id']}"))
    assert_precondition_failed(
        world.call("PUT", f"/runs/{run['id']}/activate", headers={"If-Match": '"x"'})
    )
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["status"] == "archived"
    assert_precondition_failed(
        world.call("DELETE", f"/runs/{run['id']}/delete", headers={"If-Match": '"x"'})
    )
    assert world.call("GET", f"/runs/{run['id']}").status_code == 200
    deleted = world.call("DELETE", f"/runs/{run['id']}/delete", headers={"If-Match": archived})
    assert deleted.status_code == 200, deleted.text
    assert world.call("GET", f"/runs/{run['id']}").status_code == 404


# ---- runs: If-None-Match -------------------------------------------------------------


def test_if_none_match_answers_304_until_the_run_changes(world: World) -> None:
    run, _task, _capture = setup(world)
    current = run_etag(world, run["id"])
    for header in (current, f"W/{current}", f'"other", {current}', "*"):
        response = world.call("GET", f"/runs/{run['id']}", headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == current
    with_tasks = world.call(
        "GET", f"/runs/{run['id']}?with=tasks", headers={"If-None-Match": current}
    )
    assert with_tasks.status_code == 304
    assert put(world, run["id"], {"name": "Changed"}).status_code == 200
    response = world.call("GET", f"/runs/{run['id']}", headers={"If-None-Match": current})
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "Changed"
    assert etag_of(response) != current


def test_if_none_match_does_not_hide_errors(world: World) -> None:
    response = world.call("GET", "/runs/" + "0" * 32, headers={"If-None-Match": "*"})
    assert response.status_code == 404


def test_a_passed_deadline_moves_the_etag(world: World) -> None:
    """The ETags are read once before the deadline and once after it, whatever the load:
    a deadline the first reads did not beat is set again, further out."""
    run, task, _capture = setup(world)
    margin = 1.0
    while True:
        deadline = datetime.now(UTC) + timedelta(seconds=margin)
        path = f"/runs/{run['id']}/tasks/{task}"
        assert world.call("PUT", path, json={"deadline": deadline.isoformat()}).status_code == 200
        before = run_etag(world, run["id"])
        task_before = task_etag(world, task, run["id"])
        if datetime.now(UTC) < deadline:
            break
        margin *= 2
        assert margin < 60, "the reads never beat the deadline"
    time.sleep((deadline - datetime.now(UTC)).total_seconds() + 0.1)
    assert run_etag(world, run["id"]) != before
    assert task_etag(world, task, run["id"]) != task_before


# ---- PROCFLOW_REQUIRE_IF_MATCH -------------------------------------------------------


@pytest.fixture
def strict_client(settings: Settings, engine: Any) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"require_if_match": True}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_required_if_match(world: World, strict_client: TestClient) -> None:
    template = world.template()
    headers = world.admin.headers
    launched = strict_client.post(
        world.url("/runs"), json={"checklist_id": template}, headers=headers
    )
    assert launched.status_code == 201, launched.text
    run_id = launched.json()["data"]["id"]
    missing = strict_client.put(world.url(f"/runs/{run_id}"), json={"name": "x"}, headers=headers)
    assert missing.status_code == 428, missing.text
    assert missing.json()["code"] == "PRECONDITION_REQUIRED"
    assert missing.json()["error"] is True
    archive = strict_client.delete(world.url(f"/runs/{run_id}"), headers=headers)
    assert archive.status_code == 428
    assert strict_client.get(world.url(f"/runs/{run_id}"), headers=headers).status_code == 200
    current = etag_of(launched)
    ok = strict_client.put(
        world.url(f"/runs/{run_id}"), json={"name": "x"}, headers={**headers, "If-Match": current}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"]["name"] == "x"
    tasks = strict_client.get(world.url(f"/runs/{run_id}/tasks"), headers=headers).json()["data"]
    task_url = world.url(f"/runs/{run_id}/tasks/{tasks[0]['id']}")
    assert strict_client.put(task_url, json={"title": "t"}, headers=headers).status_code == 428
    created = strict_client.post(
        world.url("/tasks"),
        json={
            "title": "One-off",
            "deadline": "2030-01-01T00:00:00Z",
            "owners": {"users": [world.admin.user_id]},
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text


# ---- tasks ---------------------------------------------------------------------------


def oneoff(world: World) -> dict[str, Any]:
    response = world.call(
        "POST",
        "/tasks",
        json={
            "title": "Call the bank",
            "deadline": "2030-01-01T00:00:00Z",
            "owners": {"users": [world.admin.user_id]},
        },
    )
    assert response.status_code == 201, response.text
    assert etag_of(response) == task_etag(world, response.json()["data"]["id"])
    data: dict[str, Any] = response.json()["data"]
    return data


def test_every_run_task_response_carries_the_current_etag(world: World) -> None:
    run, task, _capture = setup(world)
    base = f"/runs/{run['id']}"
    assert task_etag(world, task, run["id"]) == task_etag(world, task)
    actions = [
        ("PUT", f"{base}/tasks/{task}", {"summary": "Read me"}),
        ("POST", f"{base}/completed-tasks", {"task_id": task}),
        ("DELETE", f"{base}/completed-tasks/{task}", None),
        ("PUT", f"/tasks/{task}", {"title": "Org-level edit"}),
    ]
    seen = {task_etag(world, task)}
    for method, path, body in actions:
        response = world.call(method, path, json=body)
        assert etag_of(response) == task_etag(world, task, run["id"]), path
        assert response.headers["etag"] not in seen, path
        seen.add(response.headers["etag"])


def test_task_etag_is_stable_across_reads_and_includes(world: World) -> None:
    run, task, _capture = setup(world)
    first = task_etag(world, task, run["id"])
    for query in ("?with=form_fields", "?with=step,run", "?with=threads"):
        response = world.call("GET", f"/runs/{run['id']}/tasks/{task}{query}")
        assert etag_of(response) == first, query
    other = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"][1]["id"]
    assert task_etag(world, other, run["id"]) != first


def test_task_if_match(world: World) -> None:
    run, task, capture = setup(world)
    url = f"/runs/{run['id']}/tasks/{task}"
    stale = task_etag(world, task, run["id"])
    assert etag_of(world.call("PUT", url, json={"title": "Changed"})) != stale
    before = world.call("GET", url).json()["data"]
    records = activity_count(world, run["id"])
    for method, path, body in (
        ("PUT", url, {"title": "Second", "taskdata": {capture: "x"}}),
        ("POST", f"/runs/{run['id']}/completed-tasks", {"task_id": task}),
        ("PUT", f"/tasks/{task}", {"title": "Third"}),
    ):
        response = world.call(method, path, json=body, headers={"If-Match": stale})
        assert_precondition_failed(response)
    assert world.call("GET", url).json()["data"] == before
    assert activity_count(world, run["id"]) == records
    current = task_etag(world, task, run["id"])
    response = world.call("PUT", url, json={"title": "Matched"}, headers={"If-Match": current})
    assert response.status_code == 200, response.text
    assert etag_of(response) == task_etag(world, task, run["id"])
    done = world.call(
        "POST",
        f"/runs/{run['id']}/completed-tasks",
        json={"task_id": task},
        headers={"If-Match": response.headers["etag"]},
    )
    assert etag_of(done) == task_etag(world, task, run["id"])
    reopen_url = f"/runs/{run['id']}/completed-tasks/{task}"
    assert_precondition_failed(world.call("DELETE", reopen_url, headers={"If-Match": current}))
    reopened = world.call("DELETE", reopen_url, headers={"If-Match": done.headers["etag"]})
    assert reopened.status_code == 200, reopened.text
    assert_precondition_failed(
        world.call(
            "PUT", url, json={"title": "x"}, headers={"If-Match": f"W/{task_etag(world, task)}"}
        )
    )


def test_task_if_none_match(world: World) -> None:
    run, task, _capture = setup(world)
    url = f"/runs/{run['id']}/tasks/{task}"
    current = task_etag(world, task, run["id"])
    for path in (url, f"/tasks/{task}"):
        response = world.call("GET", path, headers={"If-None-Match": current})
        assert response.status_code == 304
        assert response.content == b""
        assert response.headers["etag"] == current
    assert world.call("POST", f"/tasks/{task}/comment", json={"content": "Hi"}).status_code == 201
    response = world.call("GET", url + "?with=threads", headers={"If-None-Match": current})
    assert response.status_code == 200
    assert [c["content"] for c in response.json()["data"]["threads"]["data"]] == ["Hi"]


def test_oneoff_task_etags(world: World) -> None:
    task = oneoff(world)
    url = f"/tasks/{task['id']}"
    first = task_etag(world, task["id"])
    assert task_etag(world, task["id"]) == first
    assert world.call("GET", url, headers={"If-None-Match": first}).status_code == 304
    commented = task_etag(world, task["id"])
    assert world.call("POST", f"{url}/comment", json={"content": "Noted"}).status_code == 201
    assert task_etag(world, task["id"]) != commented
    changes = [
        ("PUT", url, {"title": "Renamed"}),
        ("POST", "/completed-tasks", {"task_id": task["id"]}),
        ("DELETE", f"/completed-tasks/{task['id']}", None),
    ]
    for method, path, body in changes:
        before = task_etag(world, task["id"])
        assert_precondition_failed(
            world.call(method, path, json=body, headers={"If-Match": '"stale"'})
        )
        assert task_etag(world, task["id"]) == before, path
        response = world.call(method, path, json=body, headers={"If-Match": before})
        after = task_etag(world, task["id"])
        assert etag_of(response) == after != before, path
    assert world.call("PUT", url, json={"title": "Renamed"}).headers["etag"] == after


def test_oneoff_archive_restore_delete_honour_if_match(world: World) -> None:
    task = oneoff(world)
    url = f"/tasks/{task['id']}"
    current = task_etag(world, task["id"])
    assert_precondition_failed(world.call("DELETE", url, headers={"If-Match": '"stale"'}))
    assert world.call("GET", url).json()["data"]["archived_at"] is None
    assert world.call("DELETE", url, headers={"If-Match": current}).status_code == 204
    archived = task_etag(world, task["id"])
    assert archived != current
    assert_precondition_failed(world.call("PUT", f"{url}/restore", headers={"If-Match": current}))
    restored = world.call("PUT", f"{url}/restore", headers={"If-Match": archived})
    assert etag_of(restored) == task_etag(world, task["id"])
    assert_precondition_failed(
        world.call("DELETE", f"{url}/delete", headers={"If-Match": archived})
    )
    assert world.call("GET", url).status_code == 200
    deleted = world.call("DELETE", f"{url}/delete", headers={"If-Match": restored.headers["etag"]})
    assert deleted.status_code == 204
    assert world.call("GET", url).status_code == 404


def test_guest_task_responses_carry_etags(world: World) -> None:
    email = f"guest-{uuid4().hex[:6]}@example.com"
    template = world.template(
        steps=[
            {
                "title": "Sign",
                "guests": [email],
                "captures": [{"id": uuid4().hex, "field_type": "text", "label": "Name"}],
            }
        ]
    )
    run = world.launch(template)
    task = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"][0]
    capture = next(iter(task["taskdata"]))
    assert world.call("POST", "/guests", json={"email": email}).status_code == 201
    token = world.call("POST", f"/guests/{email}/token").json()["data"]["token"]
    guest = {"Authorization": f"Bearer {token}"}
    url = f"/runs/{run['id']}/tasks/{task['id']}"
    read = world.call("GET", url, headers=guest)
    current = etag_of(read)
    assert current == task_etag(world, task["id"], run["id"])
    assert world.call("GET", url, headers={**guest, "If-None-Match": current}).status_code == 304
    body = {"taskdata": {capture: "Pat"}}
    assert_precondition_failed(
        world.call("PUT", url, json=body, headers={**guest, "If-Match": '"stale"'})
    )
    filled = world.call("PUT", url, json=body, headers={**guest, "If-Match": current})
    assert etag_of(filled) == task_etag(world, task["id"], run["id"]) != current
    done = world.call(
        "POST",
        f"/runs/{run['id']}/completed-tasks",
        json={"task_id": task["id"]},
        headers={**guest, "If-Match": filled.headers["etag"]},
    )
    assert etag_of(done) == task_etag(world, task["id"], run["id"])
    reopened = world.call(
        "DELETE",
        f"/runs/{run['id']}/completed-tasks/{task['id']}",
        headers={**guest, "If-Match": done.headers["etag"]},
    )
    assert etag_of(reopened) == task_etag(world, task["id"], run["id"])


def test_openapi_describes_conditional_headers(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    run = paths["/organizations/{org_id}/runs/{run_id}"]
    task = paths["/organizations/{org_id}/runs/{run_id}/tasks/{task_id}"]
    for read in (run["get"], task["get"]):
        assert "If-None-Match" in {p["name"] for p in read["parameters"]}
        assert "304" in read["responses"]
        assert "ETag" in read["responses"]["200"]["headers"]
    for write in (run["put"], run["delete"], task["put"]):
        assert "If-Match" in {p["name"] for p in write["parameters"]}
        assert {"412", "428"} <= set(write["responses"])
        assert "ETag" in write["responses"]["200"]["headers"]


def test_a_read_that_embeds_the_template_or_step_is_never_answered_304(world: World) -> None:
    """The template under `?with=checklist` and the step under `?with=step` are shown as
    they are now and are not part of the tag: a 304 would declare a stale copy fresh."""
    run, task, _capture = setup(world)
    template = run["checklist_id"]
    current = run_etag(world, run["id"])
    assert (
        world.call("PUT", f"/checklists/{template}", json={"title": "Renamed template"}).status_code
        == 200
    )
    embedded = world.call(
        "GET", f"/runs/{run['id']}?with=checklist", headers={"If-None-Match": current}
    )
    assert embedded.status_code == 200
    assert embedded.json()["data"]["checklist"]["data"]["title"] == "Renamed template"
    assert embedded.headers["etag"] == current
    task_tag = task_etag(world, task, run["id"])
    with_step = world.call("GET", f"/tasks/{task}?with=step", headers={"If-None-Match": task_tag})
    assert with_step.status_code == 200
    assert with_step.headers["etag"] == task_tag
    assert "step" in with_step.json()["data"]
    plain = world.call("GET", f"/tasks/{task}", headers={"If-None-Match": task_tag})
    assert plain.status_code == 304
