"""The three watcher endpoints, called as n8n's Tallyfy trigger calls them: it looks for
its URL among `GET /watchers?notification=webhook`, subscribes with `POST
/users/{me}/add-watcher` and unsubscribes with `DELETE /remove-watcher/{id}`; meanwhile
every event of the organization reaches its URL."""

from collections import Counter

from procflow.services import delivery
from tests.factories import World
from tests.webhooks.conftest import drain
from tests.webhooks.helpers import complete, task_ids
from tests.webhooks.receiver import Receiver


def n8n_subscribes(world: World, url: str) -> int:
    listed = world.call("GET", "/watchers", params={"notification": "webhook"})
    assert listed.status_code == 200, listed.text
    assert not [w for w in listed.json()["data"] if w["webhook"] == url]
    me = world.client.get("/me", headers=world.admin.headers).json()["data"]["id"]
    created = world.call(
        "POST",
        f"/users/{me}/add-watcher",
        json={
            "object_type": "organization",
            "object_id": world.org_id,
            "notification_type": "webhook",
            "frequency": "electric",
            "webhook": url,
        },
    )
    assert created.status_code == 201, created.text
    watcher = created.json()["data"]
    assert watcher["webhook"] == url
    assert watcher["user_id"] == me
    watcher_id: int = watcher["id"]
    return watcher_id


def test_the_n8n_trigger_lifecycle(
    hooks: World, receiver: Receiver, worker: delivery.Worker
) -> None:
    url = receiver.url("/n8n")
    watcher_id = n8n_subscribes(hooks, url)
    found = hooks.call("GET", "/watchers", params={"notification": "webhook"}).json()["data"]
    assert [w["id"] for w in found if w["webhook"] == url] == [watcher_id]
    assert hooks.call("GET", "/watchers", params={"notification": "email"}).json()["data"] == []

    run = hooks.launch(hooks.template())
    (task,) = task_ids(hooks, run["id"])
    drain(worker)
    hooks.call("POST", f"/tasks/{task}/comment", json={"content": "Looks good"})
    complete(hooks, run["id"], task)
    drain(worker)
    events = Counter(r.json["event"] for r in receiver.at("/n8n"))
    assert events == {
        "process.launched": 1,
        "task.comment_added": 1,
        "task.completed": 1,
        "process.completed": 1,
    }
    comment = next(r.json for r in receiver.at("/n8n") if r.json["event"] == "task.comment_added")
    assert comment["comment"]["content"] == "Looks good"

    removed = hooks.call("DELETE", f"/remove-watcher/{watcher_id}")
    assert removed.status_code == 200, removed.text
    assert hooks.call("GET", "/watchers").json()["data"] == []
    hooks.launch(hooks.template())
    drain(worker)
    assert len(receiver.at("/n8n")) == 4
    again = hooks.call("DELETE", f"/remove-watcher/{watcher_id}")
    assert again.status_code == 404


def test_subscribing_twice_is_one_subscription(hooks: World, receiver: Receiver) -> None:
    first = n8n_subscribes(hooks, receiver.url("/twice"))
    body = {"notification_type": "webhook", "webhook": receiver.url("/twice")}
    again = hooks.call("POST", f"/users/{hooks.admin.user_id}/add-watcher", json=body)
    assert again.json()["data"]["id"] == first
    assert len(hooks.call("GET", "/watchers").json()["data"]) == 1


def test_a_watcher_on_one_process_hears_only_that_process(
    hooks: World, receiver: Receiver, worker: delivery.Worker
) -> None:
    checklist = hooks.template()
    watched, other = hooks.launch(checklist), hooks.launch(checklist)
    body = {
        "object_type": "run",
        "object_id": watched["id"],
        "notification_type": "webhook",
        "webhook": receiver.url("/one"),
    }
    created = hooks.call("POST", f"/users/{hooks.admin.user_id}/add-watcher", json=body)
    assert created.status_code == 201, created.text
    for run in (watched, other):
        (task,) = task_ids(hooks, run["id"])
        complete(hooks, run["id"], task)
    drain(worker)
    assert {r.json["process"]["id"] for r in receiver.at("/one") if "process" in r.json} == {
        watched["id"]
    }


def test_who_may_watch(hooks: World) -> None:
    standard = hooks.standard
    webhook = {"notification_type": "webhook", "webhook": "https://hooks.example.com/x"}
    refused = hooks.call("POST", f"/users/{standard.user_id}/add-watcher", standard, json=webhook)
    assert refused.status_code == 403
    mail = hooks.call(
        "POST", f"/users/{standard.user_id}/add-watcher", standard, json={"frequency": "daily"}
    )
    assert mail.status_code == 201, mail.text
    assert mail.json()["data"]["notification_type"] == "email"
    for_other = hooks.call("POST", f"/users/{hooks.admin.user_id}/add-watcher", standard, json={})
    assert for_other.status_code == 403
    assert [w["user_id"] for w in hooks.call("GET", "/watchers", standard).json()["data"]] == [
        standard.user_id
    ]
    admins = hooks.call("POST", f"/users/{hooks.admin.user_id}/add-watcher", json=webhook)
    assert admins.status_code == 201
    mine = hooks.call("DELETE", f"/remove-watcher/{admins.json()['data']['id']}", standard)
    assert mine.status_code == 403


def test_bad_watchers_are_refused(hooks: World) -> None:
    me = hooks.admin.user_id
    cases = [
        ({"notification_type": "sms"}, "notification_type"),
        ({"notification_type": "webhook"}, "webhook"),
        ({"notification_type": "webhook", "webhook": "ftp://x.example.com"}, "webhook"),
        ({"object_type": "galaxy"}, "object_type"),
        ({"object_type": "run", "object_id": "f" * 32}, "object_id"),
        ({"frequency": "hourly"}, "frequency"),
    ]
    for body, field in cases:
        response = hooks.call("POST", f"/users/{me}/add-watcher", json=body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["errors"], (body, response.text)
    unknown = hooks.call("POST", "/users/2147483000/add-watcher", json={})
    assert unknown.status_code == 404
    assert hooks.call("DELETE", "/remove-watcher/abc").status_code == 404
