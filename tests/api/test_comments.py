"""Comments, problems and resolutions on tasks, for members and for guests."""

from typing import Any

from sqlalchemy import select

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Activity, Comment, Run, Task
from tests.factories import Member, World

GUEST = "pat@example.com"
COMMENT_KEYS = {
    "id",
    "content",
    "author_id",
    "author_type",
    "task_id",
    "label",
    "state",
    "created_at",
    "updated_at",
    "archived_at",
    "resolve_id",
    "sent_to",
}


def setup(world: World, **steps: Any) -> tuple[dict[str, Any], list[str]]:
    """A run with a guest's task and an internal one; returns the run and its task ids."""
    checklist = world.template(
        steps=[
            {"title": "Sign", "guests": [GUEST], **steps},
            {"title": "Internal", "assignees": [world.light.user_id]},
        ]
    )
    run = world.launch(checklist)
    with UnitOfWork(world.factory, write=False) as uow:
        ids = list(
            uow.session.scalars(
                select(Task.id).where(Task.run_id == run["id"]).order_by(Task.position)
            )
        )
    return run, ids


def guest(world: World) -> Member:
    assert world.call("POST", "/guests", json={"email": GUEST}).status_code == 201
    response = world.call("POST", f"/guests/{GUEST}/token")
    return Member(user_id=0, token=response.json()["data"]["token"])


def comment(world: World, task_id: str, member: Member | None = None, **body: Any) -> Any:
    return world.call("POST", f"/tasks/{task_id}/comment", member, json={"content": "Hi", **body})


def run_of(world: World, run_id: str) -> dict[str, Any]:
    data: dict[str, Any] = world.call("GET", f"/runs/{run_id}").json()["data"]
    return data


def run_row(world: World, run_id: str) -> tuple[Any, int]:
    with UnitOfWork(world.factory, write=False) as uow:
        run = uow.session.get(Run, run_id)
        assert run is not None
        return run.last_updated, run.version


def verbs(world: World, run_id: str) -> list[str]:
    with UnitOfWork(world.factory, write=False) as uow:
        return list(
            uow.session.scalars(
                select(Activity.verb)
                .where(Activity.run_id == run_id, Activity.object_type.in_(("comment", "task")))
                .order_by(Activity.id)
            )
        )


def test_comment_shape_and_run_bump(world: World) -> None:
    run, (task_id, _) = setup(world)
    before = run_row(world, run["id"])
    response = comment(world, task_id, sent_to=[world.standard.user_id], state="collapsed")
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert set(data) == COMMENT_KEYS
    assert len(data["id"]) == 32
    assert data["author_id"] == world.admin.user_id
    assert data["author_type"] == "member"
    assert (data["task_id"], data["label"], data["state"]) == (task_id, "comment", "collapsed")
    assert data["sent_to"] == [world.standard.user_id]
    assert data["resolve_id"] is None
    assert data["archived_at"] is None
    assert data["created_at"].endswith("Z")
    after = run_row(world, run["id"])
    assert after[0] > before[0]
    assert after[1] == before[1] + 1
    assert verbs(world, run["id"]) == ["commented"]


def test_validation(world: World) -> None:
    run, (task_id, _) = setup(world)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": None}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * 30_001}, "content"),
        ({"content": 5}, "content"),
        ({"state": "secret"}, "state"),
        ({"label": "thread"}, "label"),
        ({"sent_to": [999_999_999]}, "sent_to.0"),
        ({"sent_to": "1"}, "sent_to"),
    ]
    for body, field in cases:
        response = world.call("POST", f"/tasks/{task_id}/comment", json={"content": "Hi", **body})
        assert response.status_code == 422, body
        assert response.json()["code"] == "VALIDATION_FAILED"
        assert field in response.json()["errors"], (body, response.json())
    assert world.call("POST", f"/tasks/{task_id}/comment", json={}).status_code == 422
    assert comment(world, task_id, content="x" * 30_000).status_code == 201
    assert verbs(world, run["id"]) == ["commented"]


def test_unknown_and_other_org_tasks_and_comments(world: World, other_world: World) -> None:
    _, (task_id, _) = setup(world)
    _, (far_task, _) = setup(other_world)
    far_comment = comment(other_world, far_task).json()["data"]["id"]
    for path in (f"/tasks/{far_task}/comment", "/tasks/" + "0" * 32 + "/comment"):
        response = world.call("POST", path, json={"content": "x"})
        assert response.status_code == 404
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    assert world.call("GET", f"/tasks/{far_task}/comments").status_code == 404
    for method in ("PUT", "DELETE"):
        path = f"/tasks/{task_id}/comment/{far_comment}"
        assert world.call(method, path, json={"content": "x"}).status_code == 404


def test_edit_and_delete_by_author_or_admin(world: World) -> None:
    run, (task_id, _) = setup(world)
    mine = comment(world, task_id, world.standard).json()["data"]["id"]
    path = f"/tasks/{task_id}/comment/{mine}"
    assert world.call("PUT", path, world.light, json={"content": "x"}).status_code == 403
    edited = world.call("PUT", path, world.standard, json={"content": "Edited", "label": "advice"})
    assert edited.status_code == 200
    assert (edited.json()["data"]["content"], edited.json()["data"]["label"]) == (
        "Edited",
        "advice",
    )
    unchanged = run_row(world, run["id"])
    assert world.call("PUT", path, world.standard, json={"content": "Edited"}).status_code == 200
    assert run_row(world, run["id"]) == unchanged
    assert world.call("PUT", path, json={"state": "hide-for-guests"}).status_code == 200
    assert world.call("DELETE", path, world.light).status_code == 403
    deleted = world.call("DELETE", path)
    assert deleted.status_code == 200
    assert deleted.json()["data"]["archived_at"] is not None
    assert world.call("DELETE", path).status_code == 404
    assert world.call("GET", f"/tasks/{task_id}/comments").json()["data"] == []
    assert verbs(world, run["id"]) == [
        "commented",
        "updated",
        "updated",
        "updated",
        "comment-deleted",
    ]


def test_list_is_paginated_and_light_needs_a_stake(world: World) -> None:
    run, (task_id, internal) = setup(world)
    for index in range(3):
        comment(world, task_id, content=f"c{index}")
    listing = world.call("GET", f"/tasks/{task_id}/comments?per_page=2&page=2")
    assert listing.status_code == 200
    body = listing.json()
    assert [c["content"] for c in body["data"]] == ["c2"]
    assert body["meta"]["pagination"]["total"] == 3
    # the light member holds a task in this run, so it may read and comment
    assert world.call("GET", f"/tasks/{task_id}/comments", world.light).status_code == 200
    assert comment(world, internal, world.light).status_code == 201
    lone_run = world.launch(world.template(steps=[{"title": "Solo"}]))
    with UnitOfWork(world.factory, write=False) as uow:
        solo = uow.session.scalar(select(Task.id).where(Task.run_id == lone_run["id"]))
    assert comment(world, str(solo), world.light).status_code == 403
    assert world.call("GET", f"/tasks/{solo}/comments", world.light).status_code == 403
    assert run["id"] != lone_run["id"]


def test_problem_then_resolve_moves_the_run_status(world: World) -> None:
    run, (task_id, _) = setup(world)
    problem = world.call("POST", f"/tasks/{task_id}/problem", json={"content": "Broken"})
    assert problem.status_code == 201, problem.text
    thread = problem.json()["data"]
    assert thread["label"] == "problem"
    second = world.call(
        "POST", f"/tasks/{task_id}/comment", json={"content": "2", "label": "problem"}
    )
    assert second.status_code == 201
    shown = run_of(world, run["id"])
    assert (shown["status"], shown["has_open_issue"]) == ("problem", True)
    bad = world.call(
        "POST", f"/tasks/{task_id}/resolved-threads", json={"thread_id": "0" * 32, "content": "x"}
    )
    assert bad.status_code == 422
    assert "thread_id" in bad.json()["errors"]
    resolve = world.call(
        "POST",
        f"/tasks/{task_id}/resolved-threads",
        json={"thread_id": thread["id"], "content": "Ok"},
    )
    assert resolve.status_code == 201, resolve.text
    assert resolve.json()["data"]["label"] == "resolve"
    assert resolve.json()["data"]["resolve_id"] == thread["id"]
    assert run_of(world, run["id"])["status"] == "problem"
    again = world.call(
        "POST",
        f"/tasks/{task_id}/resolved-threads",
        json={"thread_id": thread["id"], "content": "Ok"},
    )
    assert again.status_code == 422
    assert (
        world.call("DELETE", f"/tasks/{task_id}/comment/{second.json()['data']['id']}").status_code
        == 200
    )
    shown = run_of(world, run["id"])
    assert (shown["status"], shown["has_open_issue"]) == ("active", False)
    assert verbs(world, run["id"]) == [
        "issue-reported",
        "issue-reported",
        "issue-resolved",
        "comment-deleted",
    ]


def test_guest_comments_only_on_its_own_tasks(world: World) -> None:
    run, (own, internal) = setup(world)
    me = guest(world)
    posted = comment(world, own, me, content="From guest")
    assert posted.status_code == 201, posted.text
    data = posted.json()["data"]
    assert (data["author_type"], isinstance(data["author_id"], int)) == ("guest", True)
    assert comment(world, internal, me).status_code == 404
    assert world.call("GET", f"/tasks/{internal}/comments", me).status_code == 404
    member_comment = comment(world, own).json()["data"]["id"]
    edit = world.call("PUT", f"/tasks/{own}/comment/{member_comment}", me, json={"content": "x"})
    assert edit.status_code == 403
    own_edit = world.call("PUT", f"/tasks/{own}/comment/{data['id']}", me, json={"content": "Edit"})
    assert own_edit.status_code == 200
    with UnitOfWork(world.factory, write=False) as uow:
        actors = set(
            uow.session.execute(
                select(Activity.actor_type, Activity.verb).where(Activity.run_id == run["id"])
            ).all()
        )
    assert ("guest", "commented") in actors
    assert ("guest", "updated") in actors


def test_hidden_comments_are_invisible_to_guests(world: World) -> None:
    _, (own, _) = setup(world)
    me = guest(world)
    comment(world, own, content="Visible")
    hidden = comment(world, own, content="Staff only", state="hide-for-guests").json()["data"]
    seen = world.call("GET", f"/tasks/{own}/comments", me)
    assert seen.status_code == 200
    assert [c["content"] for c in seen.json()["data"]] == ["Visible"]
    assert seen.json()["meta"]["pagination"]["total"] == 1
    assert world.call("GET", f"/tasks/{own}/comments").json()["meta"]["pagination"]["total"] == 2
    path = f"/tasks/{own}/comment/{hidden['id']}"
    assert world.call("PUT", path, me, json={"content": "x"}).status_code == 404


def _refused(world: World, run_id: str, task_id: str, me: Member) -> None:
    with UnitOfWork(world.factory, write=False) as uow:
        before = uow.session.scalar(select(Comment.id).where(Comment.task_id == task_id))
    response = comment(world, task_id, me)
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    problem = world.call("POST", f"/tasks/{task_id}/problem", me, json={"content": "x"})
    assert problem.status_code == 403
    with UnitOfWork(world.factory, write=False) as uow:
        assert uow.session.scalar(select(Comment.id).where(Comment.task_id == task_id)) == before
        denied = list(
            uow.session.scalars(
                select(Activity).where(Activity.object_id == task_id, Activity.verb == "denied")
            )
        )
    assert len(denied) == 2
    assert {(a.actor_type, a.run_id) for a in denied} == {("guest", run_id)}
    assert comment(world, task_id).status_code == 201


def test_prevent_guest_comment_on_the_run(world: World) -> None:
    run, (own, _) = setup(world)
    me = guest(world)
    put = world.call("PUT", f"/runs/{run['id']}", json={"prevent_guest_comment": True})
    assert put.status_code == 200
    _refused(world, run["id"], own, me)


def test_prevent_guest_comment_on_the_task(world: World) -> None:
    run, (own, _) = setup(world, flags={"prevent_guest_comment": True})
    me = guest(world)
    _refused(world, run["id"], own, me)


def test_every_sdk_label_is_accepted_on_comment(world: World) -> None:
    run, (task_id, _) = setup(world)
    for label in ("comment", "improvement", "advice", "resolve"):
        response = comment(world, task_id, label=label)
        assert response.status_code == 201, label
        assert response.json()["data"]["label"] == label
        assert response.json()["data"]["resolve_id"] is None
    assert run_of(world, run["id"])["status"] == "active"


def test_a_deleted_guests_comments_stay_without_an_author(world: World) -> None:
    run, (own, _) = setup(world)
    me = guest(world)
    assert comment(world, own, me).status_code == 201
    tags = [
        world.call("GET", path).headers["etag"] for path in (f"/runs/{run['id']}", f"/tasks/{own}")
    ]
    assert world.call("DELETE", f"/guests/{GUEST}").status_code == 200
    moved = [
        world.call("GET", path).headers["etag"] for path in (f"/runs/{run['id']}", f"/tasks/{own}")
    ]
    assert all(before != after for before, after in zip(tags, moved, strict=True))
    assert comment(world, own, me).status_code == 401
    (kept,) = world.call("GET", f"/tasks/{own}/comments").json()["data"]
    assert (kept["author_id"], kept["author_type"]) == (None, None)


def test_threads_include_on_task_reads(world: World) -> None:
    run = world.launch(world.template(steps=[{"title": "Discuss"}]))
    task_id = world.call("GET", f"/runs/{run['id']}?with=tasks").json()["data"]["tasks"]["data"][0][
        "id"
    ]
    posted = world.call("POST", f"/tasks/{task_id}/comment", json={"content": "Hello"})
    assert posted.status_code == 201, posted.text
    for path in (
        f"/tasks/{task_id}?with=threads",
        f"/runs/{run['id']}/tasks/{task_id}?with=threads",
    ):
        threads = world.call("GET", path).json()["data"]["threads"]["data"]
        assert [t["content"] for t in threads] == ["Hello"]
