"""The clock, faults and journal over HTTP, on a sandbox application served in-process."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from procflow.domain.timeutil import CLOCK
from procflow.sandbox import clock, faults, journal
from procflow.sandbox.app import RESET_HOOKS, create_sandbox_app
from procflow.sandbox.boot import prepare
from procflow.sandbox.journal import Journal
from procflow.sandbox.state import People, SandboxState
from procflow.settings import Settings
from procflow.storage.database import make_session_factory
from tests.factories import Member, World


def put_back(app: Any) -> None:
    """The sandbox's reset hooks, without `/_sandbox/reset`: the test database is shared."""
    for hook in RESET_HOOKS:
        hook(app)


@pytest.fixture(scope="module")
def sandbox(settings: Settings, engine: Engine) -> Iterator[tuple[TestClient, People]]:
    people = prepare(settings)
    app = create_sandbox_app(settings, SandboxState(people=people))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {people.admin_token}"
        yield client, people
    put_back(app)


@pytest.fixture
def box(sandbox: tuple[TestClient, People], engine: Engine) -> Iterator[World]:
    """The sandbox's own organization and people; `box.client` sends the admin token."""
    client, people = sandbox
    put_back(client.app)
    yield World(
        make_session_factory(engine),
        client,
        people.org_id,
        Member(people.admin_id, people.admin_token),
        Member(people.member_id, people.member_token),
        Member(people.light_id, people.light_token),
    )
    put_back(client.app)


def test_the_clock_makes_a_deadline_pass(box: World) -> None:
    template = box.template(steps=[{"title": "Reply", "deadline": {"value": 2, "unit": "days"}}])
    run = box.launch(template)
    tasks = box.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    assert tasks[0]["due_date_passed"] is False
    before = box.client.get("/_sandbox/clock").json()["now"]

    moved = box.client.post("/_sandbox/clock", json={"advance": "P3D"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["now"] > before
    assert moved.json()["offset_seconds"] == 3 * 86400
    tasks = box.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    assert tasks[0]["due_date_passed"] is True
    overdue = box.call("GET", "/tasks", params={"status": "overdue"}).json()["data"]
    assert [t["id"] for t in overdue] == [tasks[0]["id"]]
    assert box.call("GET", f"/runs/{run['id']}").json()["data"]["due_date_passed"] is True

    set_to = box.client.post("/_sandbox/clock", json={"now": "2031-05-04T10:00:00+02:00"})
    assert set_to.json()["now"].startswith("2031-05-04T08:00:00")
    clock.reset_clock(box.client.app)  # type: ignore[arg-type]  # TestClient types its app as plain ASGI
    assert CLOCK.offset.total_seconds() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"advance": "-P1D"}, "advance"),
        ({"advance": "P1M"}, "advance"),
        ({"advance": "soon"}, "advance"),
        ({"now": "yesterday"}, "now"),
        ({"now": "1900-01-01T00:00:00Z"}, "now"),
        ({}, "body"),
        ({"now": "2030-01-01T00:00:00Z", "advance": "P1D"}, "body"),
        ({"advance": "P1D", "speed": 2}, "speed"),
    ],
)
def test_the_clock_refuses_nonsense(box: World, body: dict[str, Any], field: str) -> None:
    response = box.client.post("/_sandbox/clock", json=body)
    assert response.status_code == 422, response.text
    answer = response.json()
    assert answer["code"] == "VALIDATION_FAILED"
    assert answer["error"] is True
    assert list(answer["errors"]) == [field]
    assert CLOCK.offset.total_seconds() == 0
    assert box.client.post("/_sandbox/clock", content=b"{nope").status_code == 400


def test_faults_answer_in_tallyfy_shape_then_run_out(box: World) -> None:
    added = box.client.post(
        "/_sandbox/faults",
        json={"method": "get", "path": "/organizations/*/runs", "status": 503, "times": 1},
    )
    assert added.status_code == 201, added.text
    assert added.json()["data"]["times"] == 1
    failed = box.call("GET", "/runs")
    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "1"
    assert failed.headers["X-Request-Id"]
    assert failed.json() == {
        "error": True,
        "message": "The service is unavailable; try again shortly.",
        "code": "SERVICE_UNAVAILABLE",
    }
    assert box.call("GET", "/runs").status_code == 200
    assert box.client.get("/_sandbox/faults").json() == {"data": []}

    limited = {"method": "POST", "path": "/api/organizations/**", "rate_limit": True}
    assert box.client.post("/_sandbox/faults", json=limited).status_code == 201
    everything = {"path": "/**", "status": 500, "delay_ms": 1}
    assert box.client.post("/_sandbox/faults", json=everything).status_code == 201
    refused = box.client.post(
        box.url("/tags").replace("/organizations", "/api/organizations", 1),
        headers=box.admin.headers,
        json={"title": "never made"},
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMIT_EXCEEDED"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert all(
        refused.headers.get(h) for h in ("Retry-After", "X-RateLimit-Limit", "X-RateLimit-Reset")
    )
    assert box.call("GET", "/tags").status_code == 500  # the catch-all answers the rest
    listed = box.client.get("/_sandbox/faults")  # control routes are never faulted
    assert [(f["status"], f["hits"]) for f in listed.json()["data"]] == [(429, 1), (500, 1)]
    assert box.client.delete("/_sandbox/faults").status_code == 204
    titles = [t["title"] for t in box.call("GET", "/tags").json()["data"]]
    assert "never made" not in titles

    slow = {"path": "/organizations/*/tags", "delay_ms": 5, "times": 1}
    assert box.client.post("/_sandbox/faults", json=slow).status_code == 201
    assert box.call("GET", "/tags").status_code == 200  # delayed, then served


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"path": "/runs", "status": 200}, "status"),
        ({"path": "runs", "status": 500}, "path"),
        ({"path": "/runs"}, "body"),
        ({"path": "/runs", "status": 503, "rate_limit": True}, "body"),
        ({"path": "/runs", "status": 503, "times": 0}, "times"),
        ({"path": "/runs", "status": 503, "delay_ms": -1}, "delay_ms"),
        ({"path": "/runs", "status": 503, "method": "G E T"}, "method"),
    ],
)
def test_faults_refuse_nonsense(box: World, body: dict[str, Any], field: str) -> None:
    response = box.client.post("/_sandbox/faults", json=body)
    assert response.status_code == 422, response.text
    assert list(response.json()["errors"]) == [field]
    assert box.client.get("/_sandbox/faults").json() == {"data": []}


def test_the_journal_keeps_requests_and_never_a_token(box: World) -> None:
    guest = "journal-guest@example.com"
    assert box.call("POST", "/guests", json={"email": guest}).status_code == 201
    issued = box.call("POST", f"/guests/{guest}/token")
    guest_token = issued.json()["data"]["token"]
    box.client.get(
        box.url("/guest-tasks"),
        params={"access_token": box.admin.token},
        headers={"Authorization": f"Bearer {guest_token}"},
    )
    box.call(
        "POST",
        "/tags",
        json={"title": "journaled", "note": f"says {box.standard.token}"},
        member=box.standard,
    )
    box.call("GET", "/runs/" + "0" * 32)
    box.client.get("/health")
    box.client.post("/_sandbox/faults", json={"path": "/me", "status": 502, "times": 1})
    named = {**box.light.headers, "X-Request-Id": "sync-42"}
    faulted = box.client.request("GET", "/me", headers=named, json={"sent": "anyway"})
    assert faulted.headers["X-Request-Id"] == "sync-42"  # as a normal answer echoes it
    served = box.client.get("/me", headers=box.light.headers)

    everything = box.client.get("/_sandbox/requests")
    assert everything.status_code == 200
    dump = everything.text
    for token in (box.admin.token, box.standard.token, box.light.token, guest_token):
        assert token not in dump
        assert json.dumps(token)[1:-1] not in dump
    entries = everything.json()["data"]
    shown = [(e["method"], e["path"].rsplit("/", 1)[-1], e["status"]) for e in entries]
    assert shown == [
        ("POST", "guests", 201),
        ("POST", "token", 201),
        ("GET", "guest-tasks", 200),
        ("POST", "tags", 201),
        ("GET", "0" * 32, 404),
        ("GET", "me", 502),
        ("GET", "me", 200),
    ]
    issued_entry, guest_call, tagged = entries[1], entries[2], entries[3]
    assert issued_entry["response"]["body"]["data"]["token"].endswith("****")
    assert issued_entry["caller"] == {
        "user_id": box.admin.user_id, "org_id": box.org_id, "role": "admin",
    }  # fmt: skip
    assert guest_call["caller"]["email"] == guest
    assert guest_call["request"]["headers"]["authorization"].endswith("****")
    assert "access_token=" in guest_call["query"]
    assert tagged["request"]["body"]["note"].startswith("says pf")
    assert tagged["caller"]["user_id"] == box.standard.user_id
    assert entries[5]["fault"] is not None
    assert entries[5]["request"]["body"] == {"sent": "anyway"}
    assert entries[6]["fault"] is None
    assert entries[6]["caller"] == {"user_id": box.light.user_id}
    assert entries[5]["request_id"] == "sync-42"
    assert entries[6]["request_id"] == served.headers["X-Request-Id"]
    assert all(e["request_id"] == e["response"]["headers"]["x-request-id"] for e in entries)
    assert all(e["duration_ms"] >= 0 and e["at"].endswith("Z") for e in entries)

    def statuses(**filters: str) -> list[int]:
        return [
            e["status"] for e in box.client.get("/_sandbox/requests", params=filters).json()["data"]
        ]

    assert statuses(status="4xx") == [404]
    assert statuses(status="201", path="/organizations/*/tags") == [201]
    assert statuses(path="/me", method="get") == [502, 200]
    assert box.client.get("/_sandbox/requests", params={"status": "abc"}).status_code == 400
    assert box.client.get("/_sandbox/requests", params={"path": "me"}).status_code == 400
    assert box.client.delete("/_sandbox/requests").status_code == 204
    assert box.client.get("/_sandbox/requests").json()["data"] == []


def test_the_journal_is_a_ring() -> None:
    ring = Journal(capacity=3)
    for number in range(5):
        ring.add({"n": number})
    assert [e["n"] for e in ring.entries] == [2, 3, 4]
    assert ring.dropped == 2
    assert [e["id"] for e in ring.entries] == [3, 4, 5]


def test_a_normal_server_has_none_of_it(client: TestClient) -> None:
    kinds = {m.cls for m in client.app.user_middleware}  # type: ignore[attr-defined]
    assert not kinds & {faults.FaultMiddleware, journal.JournalMiddleware}
    assert client.get("/_sandbox/clock").status_code == 404
    assert client.get("/_sandbox/requests").status_code == 404
