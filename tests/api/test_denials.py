"""A refused request changes nothing and leaves a record of the refusal."""

from typing import Any

from tests.api.feed import flat_all
from tests.factories import Member, World


def denials(world: World) -> list[dict[str, Any]]:
    response = world.call("GET", "/activity-feeds?verb=denied")
    assert response.status_code == 200, response.text
    return flat_all(response.json()["data"])


def test_refused_run_update_is_recorded(world: World) -> None:
    run = world.launch(world.template())
    response = world.call("PUT", f"/runs/{run['id']}", world.standard, json={"name": "nope"})
    assert response.status_code == 403
    assert world.call("GET", f"/runs/{run['id']}").json()["data"]["name"] == run["name"]
    (record,) = denials(world)
    assert record["actor_id"] == world.standard.user_id
    assert record["run_id"] == run["id"]
    assert "PUT" in record["description"]


def test_refused_task_completion_is_recorded(world: World) -> None:
    run = world.launch(world.template(steps=[{"title": "Mine", "assign_run_starter": True}]))
    task = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]["tasks"]["data"][0]
    light: Member = world.light
    response = world.call(
        "POST", f"/runs/{run['id']}/completed-tasks", light, json={"task_id": task["id"]}
    )
    assert response.status_code == 403
    after = world.call("GET", f"/runs/{run['id']}/tasks/{task['id']}").json()["data"]
    assert after["status"] == task["status"]
    assert [r["actor_id"] for r in denials(world)] == [light.user_id]


def test_allowed_requests_record_no_denial(world: World) -> None:
    run = world.launch(world.template())
    assert world.call("PUT", f"/runs/{run['id']}", json={"name": "fine"}).status_code == 200
    assert denials(world) == []
