"""Deliveries to a real local receiver, driven one worker step at a time on a test clock:
exactly one delivery per event id with a valid signature, retries that outlast a receiver
that is down, no retry of what a retry cannot mend, the delivery log, redelivery, and two
workers that never send the same attempt."""

import threading
from collections import Counter

from procflow.domain.timeutil import utcnow
from procflow.domain.webhooks import verify
from procflow.services import delivery
from tests.factories import World
from tests.webhooks.conftest import Clock, MakeWorker, drain
from tests.webhooks.helpers import complete, task_ids, with_template_webhook
from tests.webhooks.receiver import Receiver


def secret_of(world: World) -> str:
    response = world.call("GET", "/webhook-secret")
    assert response.status_code == 200, response.text
    secret: str = response.json()["data"]["secret"]
    return secret


def test_launch_completion_and_process_completion_arrive_once_each_signed(
    hooks: World, receiver: Receiver, worker: delivery.Worker, clock: Clock
) -> None:
    path = "/t1"
    run = hooks.launch(with_template_webhook(hooks, receiver.url(path)))
    first, second = task_ids(hooks, run["id"])
    drain(worker)
    complete(hooks, run["id"], first)
    drain(worker)  # each payload shows the run as the worker reads it: send it promptly
    complete(hooks, run["id"], second)
    drain(worker)
    got = sorted(receiver.at(path), key=lambda r: (r.json["occurred_at"], r.json["event"]))
    assert Counter(r.json["event"] for r in got) == {
        "process.launched": 1,
        "task.completed": 2,
        "process.completed": 1,
    }
    assert len({r.event_id for r in got}) == 4
    secret = secret_of(hooks)
    now = int(clock.now.timestamp())
    for request in got:
        assert verify(secret, request.headers["x-procflow-signature"], request.body, now)
        assert not verify("whsec_wrong", request.headers["x-procflow-signature"], request.body, now)
        assert request.headers["x-tallyfy-orgid"] == hooks.org_id
        assert request.json["event_id"] == request.event_id
    launched = next(r.json for r in got if r.json["event"] == "process.launched")
    done = next(r.json for r in got if r.json.get("this_task", {}).get("id") == first)
    assert launched["id"] == run["id"]
    assert launched["launcher"]["id"] == hooks.admin.user_id
    assert set(launched) >= {"process-tasks", "ko-form-fields", "guest-links", "prerun"}
    assert done["this_task"]["id"] == first
    assert done["process"]["id"] == run["id"]
    assert done["next_task"]["id"] == second
    assert done["completer"]["id"] == hooks.admin.user_id
    drain(worker)
    clock.advance(days=1)
    drain(worker)
    assert len(receiver.at(path)) == 4  # nothing is sent twice


def test_a_step_webhook_gets_its_tasks_completion(
    hooks: World, receiver: Receiver, worker: delivery.Worker
) -> None:
    checklist = hooks.template(steps=[{"title": "Hooked", "webhook": receiver.url("/step")}])
    run = hooks.launch(checklist)
    (task,) = task_ids(hooks, run["id"])
    complete(hooks, run["id"], task)
    drain(worker)
    assert [r.json["event"] for r in receiver.at("/step")] == ["task.completed"]


def test_every_event_arrives_after_the_receiver_was_down(
    hooks: World, receiver: Receiver, worker: delivery.Worker, clock: Clock
) -> None:
    receiver.stop()
    run = hooks.launch(with_template_webhook(hooks, receiver.url("/down"), steps=1))
    (task,) = task_ids(hooks, run["id"])
    complete(hooks, run["id"], task)
    drain(worker)
    clock.advance(seconds=2)
    drain(worker)  # still down: second attempts fail too
    receiver.start()
    clock.advance(minutes=1)
    drain(worker)
    got = receiver.at("/down")
    assert Counter(r.json["event"] for r in got) == {
        "process.launched": 1,
        "task.completed": 1,
        "process.completed": 1,
    }
    assert {r.headers["x-procflow-delivery-attempt"] for r in got} == {"3"}
    log = hooks.call("GET", "/webhook-events").json()["data"]
    for item in log:
        (sent,) = item["deliveries"]
        assert sent["state"] == "delivered"
        assert sent["attempts_made"] == 3
        assert [a["outcome"] for a in sent["attempts"]] == ["retry", "retry", "delivered"]
        assert sent["attempts"][0]["error"]
        assert sent["attempts"][2]["status_code"] == 200
        assert all(a["latency_ms"] >= 0 for a in sent["attempts"])


def test_5xx_408_and_429_are_retried_other_4xx_are_not(
    hooks: World, receiver: Receiver, worker: delivery.Worker, clock: Clock
) -> None:
    answers = {"/500": [500, 200], "/408": [408, 200], "/429": [429, 200], "/404": [404, 200]}

    def status(request: object) -> int:
        return answers[request.path].pop(0)  # type: ignore[attr-defined]

    receiver.status = status
    for path in answers:
        hooks.call(
            "POST", f"/users/{hooks.admin.user_id}/add-watcher", json=watching(receiver, path)
        )
    hooks.launch(hooks.template())
    drain(worker)
    clock.advance(minutes=5)
    drain(worker)
    assert {path: len(receiver.at(path)) for path in answers} == {
        "/500": 1,
        "/408": 1,
        "/429": 1,
        "/404": 0,
    }
    (launch,) = hooks.call("GET", "/webhook-events").json()["data"]
    states = {d["url"].rsplit("/", 1)[1]: d for d in launch["deliveries"]}
    assert states["404"]["state"] == "failed"
    assert states["404"]["last_status"] == 404
    assert states["500"]["state"] == "delivered"


def test_attempts_stop_at_the_limit(
    hooks: World, receiver: Receiver, make_worker: MakeWorker, clock: Clock
) -> None:
    worker = make_worker(max_attempts=3)
    receiver.status = lambda _r: 503
    hooks.launch(with_template_webhook(hooks, receiver.url("/busy")))
    for _ in range(5):
        drain(worker)
        clock.advance(hours=1)
    (launch,) = hooks.call("GET", "/webhook-events").json()["data"]
    (sent,) = launch["deliveries"]
    assert (sent["state"], sent["attempts_made"], sent["next_attempt_at"]) == ("failed", 3, None)


def watching(receiver: Receiver, path: str) -> dict[str, str]:
    return {
        "object_type": "organization",
        "notification_type": "webhook",
        "webhook": receiver.url(path),
    }


def test_redelivery_sends_the_same_event_again(
    hooks: World, receiver: Receiver, worker: delivery.Worker, clock: Clock
) -> None:
    hooks.launch(with_template_webhook(hooks, receiver.url("/again")))
    drain(worker)
    (event,) = hooks.call("GET", "/webhook-events").json()["data"]
    response = hooks.call("POST", f"/webhook-events/{event['id']}/redeliver")
    assert response.status_code == 200, response.text
    assert [d["state"] for d in response.json()["data"]["deliveries"]] == ["delivered", "pending"]
    clock.catch_up()  # the redelivery is due from the real time it was asked for
    drain(worker)
    first, second = receiver.at("/again")
    assert first.event_id == second.event_id == event["id"]
    assert first.body == second.body
    detail = hooks.call("GET", f"/webhook-events/{event['id']}").json()["data"]
    assert detail["payload"]["event_id"] == event["id"]
    assert [d["state"] for d in detail["deliveries"]] == ["delivered", "delivered"]


def test_a_rotated_secret_signs_alongside_the_old_one_for_a_while(
    hooks: World, receiver: Receiver, worker: delivery.Worker, clock: Clock
) -> None:
    old = secret_of(hooks)
    rotated = hooks.call("POST", "/webhook-secret/rotate")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["data"]["secret"]
    assert new != old
    assert new == secret_of(hooks)
    hooks.launch(with_template_webhook(hooks, receiver.url("/rotated")))
    drain(worker)
    (got,) = receiver.at("/rotated")
    header, now = got.headers["x-procflow-signature"], int(clock.now.timestamp())
    assert header.count("v1=") == 2
    assert verify(new, header, got.body, now)
    assert verify(old, header, got.body, now)
    assert not verify(new, header, got.body, now + 3600)  # a stale timestamp is refused


def test_two_workers_never_send_the_same_attempt(
    hooks: World, receiver: Receiver, make_worker: MakeWorker
) -> None:
    checklist = with_template_webhook(hooks, receiver.url("/pair"), steps=1)
    runs = [hooks.launch(checklist)["id"] for _ in range(30)]
    one, two = make_worker(), make_worker()
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def work(worker: delivery.Worker) -> None:
        try:
            start.wait()
            drain(worker)
        except BaseException as error:  # surfaced below
            failures.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    drain(one)
    got = receiver.at("/pair")
    assert sorted(r.json["id"] for r in got) == sorted(runs)
    assert len({r.event_id for r in got}) == len(got) == 30


def test_claims_of_two_workers_are_disjoint(
    hooks: World, receiver: Receiver, make_worker: MakeWorker, clock: Clock
) -> None:
    checklist = with_template_webhook(hooks, receiver.url("/claims"), steps=1)
    for _ in range(4):
        hooks.launch(checklist)
    one, two = make_worker(), make_worker()
    one.fan_out(clock.now)
    first = [job for job in one.claim(clock.now) if job.url.endswith("/claims")]
    second = two.claim(clock.now)
    assert len(first) == 4
    assert second == []
    clock.advance(hours=1)  # the first worker's lease has run out: another may retake them
    retaken = {j.delivery_id for j in two.claim(clock.now)}
    assert retaken >= {j.delivery_id for j in first}
    assert utcnow() < clock.now
