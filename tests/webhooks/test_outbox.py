"""Every change Tallyfy notifies about writes one event in the change's own transaction;
a change that rolls back writes none, and changes that notify nobody write nothing."""

from sqlalchemy import Engine, event, exc

from procflow.api.app import create_app
from procflow.settings import Settings
from tests.factories import World
from tests.webhooks.helpers import complete, events_of, task_ids, types_of


def test_each_notifying_change_writes_one_event(hooks: World) -> None:
    run = hooks.launch(hooks.template(steps=[{"title": "One"}, {"title": "Two"}]))
    first, second = task_ids(hooks, run["id"])
    complete(hooks, run["id"], first)
    comment = hooks.call("POST", f"/tasks/{first}/comment", json={"content": "Hi"})
    problem = hooks.call("POST", f"/tasks/{second}/problem", json={"content": "Stuck"})
    thread = problem.json()["data"]["id"]
    resolved = hooks.call(
        "POST", f"/tasks/{second}/resolved-threads", json={"content": "Ok", "thread_id": thread}
    )
    reopened = hooks.call("DELETE", f"/runs/{run['id']}/completed-tasks/{first}")
    assert (comment.status_code, resolved.status_code, reopened.status_code) == (201, 201, 200)
    complete(hooks, run["id"], first)
    complete(hooks, run["id"], second)
    assert hooks.call("DELETE", f"/runs/{run['id']}/complete-prerun").status_code == 200
    assert hooks.call("POST", f"/runs/{run['id']}/complete-prerun").status_code == 200
    assert types_of(hooks) == [
        "process.launched",
        "task.completed",
        "task.comment_added",
        "task.issue_raised",
        "task.issue_resolved",
        "task.reopened",
        "task.completed",
        "task.completed",
        "process.completed",
        "process.kickoff_completed",
    ]
    stored = events_of(hooks)
    assert all(e.run_id == run["id"] and e.fanned_out_at is None for e in stored)
    assert stored[2].comment_id == comment.json()["data"]["id"]
    assert stored[1].task_id == first
    assert stored[1].actor_id == hooks.admin.user_id


def test_changes_that_notify_nobody_write_no_event(hooks: World) -> None:
    run = hooks.launch(hooks.template())
    before = len(events_of(hooks))
    assert hooks.call("PUT", f"/runs/{run['id']}", json={"name": "Renamed"}).status_code == 200
    tag = hooks.call("POST", "/tags", json={"title": "quiet"})
    assert tag.status_code == 201
    assert len(events_of(hooks)) == before


def test_a_launch_that_rolls_back_leaves_no_event(
    hooks: World, hook_settings: Settings, hook_engine: Engine
) -> None:
    """The last statement of the launch fails: the run and its event go together."""
    from fastapi.testclient import TestClient

    checklist = hooks.template()
    app = create_app(hook_settings)
    statements: list[str] = []

    def fail_at_event_insert(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)
        if statement.lstrip().upper().startswith("INSERT INTO EVENT"):
            raise exc.OperationalError(statement, {}, Exception("injected fault"))

    event.listen(app.state.engine, "before_cursor_execute", fail_at_event_insert)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            hooks.url("/runs"), json={"checklist_id": checklist}, headers=hooks.admin.headers
        )
    assert response.status_code == 503, response.text
    assert any("INSERT INTO event" in s for s in statements)
    runs = hooks.call("GET", "/runs").json()["data"]
    assert runs == []
    assert events_of(hooks) == []
