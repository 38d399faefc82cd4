"""`Idempotency-Key` on POST: one effect per key, the first answer for every retry."""

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx2
import orjson
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from procflow.api.app import create_app
from procflow.domain.timeutil import utcnow
from procflow.errors import Conflict
from procflow.services import idempotency
from procflow.services.auth import hash_token
from procflow.services.idempotency import Scope, StoredResponse
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.models import AccessToken, Comment, IdempotencyKey, Run, Tag, Task
from procflow.storage.repositories.idempotency import Lease
from tests.factories import Member, World

HEADER = "Idempotency-Key"
TTL = timedelta(hours=24)


def launch(
    world: World, key: str | None, member: Member | None = None, prefix: str = "", **body: Any
) -> httpx2.Response:
    headers = {HEADER: key} if key is not None else {}
    member = member or world.admin
    return world.client.post(
        prefix + world.url("/runs"),
        headers={**member.headers, **headers},
        json={"checklist_id": world.extra["checklist"], **body},
    )


def run_count(world: World) -> int:
    with UnitOfWork(world.factory, write=False) as uow:
        query = select(func.count()).select_from(Run).where(Run.org_id == world.org_id)
        return int(uow.session.scalar(query) or 0)


def keys_of(world: World) -> list[IdempotencyKey]:
    with UnitOfWork(world.factory, write=False) as uow:
        query = select(IdempotencyKey).where(IdempotencyKey.org_id == world.org_id)
        return list(uow.session.scalars(query))


def set_key_times(world: World, **values: Any) -> None:
    with UnitOfWork(world.factory, write=True) as uow:
        uow.session.execute(
            update(IdempotencyKey).where(IdempotencyKey.org_id == world.org_id).values(**values)
        )


@pytest.fixture
def org(world: World) -> World:
    world.extra["checklist"] = world.template(title="Keyed")
    return world


def test_sequential_duplicates_make_one_run_and_answer_identically(org: World) -> None:
    answers = [launch(org, "launch-1", name="Once") for _ in range(10)]
    first = answers[0]
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    for again in answers[1:]:
        assert again.status_code == 201
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers.get("etag") == first.headers.get("etag")
        assert again.headers["idempotent-replayed"] == "true"
    assert run_count(org) == 1
    (row,) = keys_of(org)
    assert row.state == "done"
    assert row.client == hash_token(org.admin.token)
    assert org.admin.token.encode() not in (row.response_body or b"")
    assert row.expires_at - row.created_at >= TTL - timedelta(seconds=5)


def test_the_api_prefix_names_the_same_request(org: World) -> None:
    first = launch(org, "prefixed")
    again = launch(org, "prefixed", prefix="/api")
    assert again.status_code == 201
    assert again.content == first.content
    assert run_count(org) == 1


def test_same_key_with_another_body_is_422_and_changes_nothing(org: World) -> None:
    assert launch(org, "k", name="First").status_code == 201
    response = launch(org, "k", name="Second")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED"
    assert body["error"] is True
    assert list(body["errors"]) == [HEADER]
    assert run_count(org) == 1


def test_the_same_json_in_another_key_order_or_spacing_is_the_same_request(org: World) -> None:
    """Bodies compare as canonical JSON: key order (at every level) and whitespace between
    tokens do not matter; a different value, a missing key or a nested change does."""
    checklist = org.extra["checklist"]
    url = org.url("/runs")

    def post(raw: bytes) -> httpx2.Response:
        headers = {**org.admin.headers, HEADER: "canonical", "Content-Type": "application/json"}
        return org.client.post(url, content=raw, headers=headers)

    first = post(orjson.dumps({"checklist_id": checklist, "name": "Same", "prerun": {}}))
    assert first.status_code == 201, first.text
    reordered = (
        b'{ "prerun" : { } ,\n  "name":"Same",\t"checklist_id" : "' + checklist.encode() + b'" }'
    )
    again = post(reordered)
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    for other in (
        {"checklist_id": checklist, "name": "Other", "prerun": {}},
        {"checklist_id": checklist, "name": "Same"},
        {"checklist_id": checklist, "name": "Same", "prerun": {"x": 1}},
    ):
        assert post(orjson.dumps(other)).status_code == 422
    assert run_count(org) == 1


def test_keys_are_private_to_a_token_and_to_an_organization(org: World, other_world: World) -> None:
    other_world.extra["checklist"] = other_world.template(title="Elsewhere")
    mine = launch(org, "shared", name="Mine")
    theirs = launch(org, "shared", member=org.standard, name="Theirs")
    elsewhere = launch(other_world, "shared", name="Elsewhere")
    assert [r.status_code for r in (mine, theirs, elsewhere)] == [201, 201, 201]
    assert "idempotent-replayed" not in theirs.headers
    assert "idempotent-replayed" not in elsewhere.headers
    assert mine.json()["data"]["id"] != theirs.json()["data"]["id"]
    assert run_count(org) == 2
    assert run_count(other_world) == 1


@pytest.mark.parametrize("key", ["x" * 256, "", "   ", "two words", "caf\u00e9", "tab\there"])
def test_malformed_keys_are_400(org: World, key: str) -> None:
    headers = {name.encode(): value.encode() for name, value in org.admin.headers.items()}
    headers[HEADER.encode()] = key.encode()
    response = org.client.post(
        org.url("/runs"),
        headers=headers,
        content=f'{{"checklist_id": "{org.extra["checklist"]}"}}'.encode(),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"
    assert HEADER in response.json()["message"]
    assert run_count(org) == 0


def test_a_key_of_255_characters_is_taken_and_quotes_are_part_of_a_key(org: World) -> None:
    assert launch(org, "k" * 255).status_code == 201
    quoted = launch(org, '"uuid-1"')
    assert quoted.status_code == 201
    assert launch(org, '"uuid-1"').headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in launch(org, "uuid-1").headers
    assert run_count(org) == 3


def test_two_key_headers_are_400(org: World) -> None:
    headers = [*org.admin.headers.items(), (HEADER, "a"), (HEADER, "b")]
    response = org.client.post(
        org.url("/runs"), headers=headers, json={"checklist_id": org.extra["checklist"]}
    )
    assert response.status_code == 400
    assert run_count(org) == 0


def test_a_rejected_request_gives_its_key_back_for_a_corrected_retry(org: World) -> None:
    invalid = launch(org, "fix-me", checklist_id="0" * 32)
    assert invalid.status_code in (404, 422)
    again = launch(org, "fix-me", checklist_id="0" * 32)
    assert again.status_code == invalid.status_code
    assert "idempotent-replayed" not in again.headers
    assert keys_of(org) == []
    fixed = launch(org, "fix-me", name="Fixed")
    assert fixed.status_code == 201
    replay = launch(org, "fix-me", name="Fixed")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.content == fixed.content
    assert run_count(org) == 1


def test_a_validation_failure_is_not_stored(org: World) -> None:
    bad = launch(org, "bad-name", name="")
    assert bad.status_code == 422
    assert "idempotent-replayed" not in launch(org, "bad-name", name="").headers
    assert keys_of(org) == []
    assert run_count(org) == 0


def test_without_a_key_nothing_changes(org: World) -> None:
    first, second = launch(org, None), launch(org, None)
    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in second.headers
    assert run_count(org) == 2
    assert keys_of(org) == []


def test_the_key_is_ignored_on_other_methods(org: World) -> None:
    run = launch(org, None).json()["data"]
    headers = {HEADER: "put-key"}
    for name in ("A", "B"):
        response = org.call("PUT", f"/runs/{run['id']}", headers=headers, json={"name": name})
        assert response.status_code == 200
        assert response.json()["data"]["name"] == name
    assert org.call("GET", "/runs", headers={HEADER: "x" * 300}).status_code == 200
    assert keys_of(org) == []


def test_unauthenticated_and_revoked_tokens_get_401_not_a_replay(org: World) -> None:
    nobody = Member(user_id=0, token="pf" + "0" * 64)
    assert launch(org, "k", member=nobody).status_code == 401
    assert launch(org, "k").status_code == 201
    with UnitOfWork(org.factory, write=True) as uow:
        uow.session.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == hash_token(org.admin.token))
            .values(revoked_at=utcnow())
        )
    response = launch(org, "k")
    assert response.status_code == 401
    assert "idempotent-replayed" not in response.headers


def test_other_posts_replay_too(org: World) -> None:
    tags = [
        org.call("POST", "/tags", headers={HEADER: "tag"}, json={"title": "Urgent"})
        for _ in range(3)
    ]
    assert [t.status_code for t in tags] == [201, 201, 201]
    assert tags[1].content == tags[0].content == tags[2].content
    run = launch(org, None).json()["data"]
    with UnitOfWork(org.factory, write=False) as uow:
        task_id = uow.session.scalar(select(Task.id).where(Task.run_id == run["id"]))
        tag_count = uow.session.scalar(
            select(func.count()).select_from(Tag).where(Tag.org_id == org.org_id)
        )
    assert tag_count == 1
    comments = [
        org.call(
            "POST", f"/tasks/{task_id}/comment", headers={HEADER: "c"}, json={"content": "Hello"}
        )
        for _ in range(3)
    ]
    assert [c.status_code for c in comments] == [201, 201, 201]
    assert comments[2].content == comments[0].content
    with UnitOfWork(org.factory, write=False) as uow:
        count = uow.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.task_id == task_id)
        )
    assert count == 1


def test_expired_keys_can_be_used_again(org: World) -> None:
    first = launch(org, "old", name="Then")
    set_key_times(org, expires_at=utcnow() + timedelta(minutes=1))
    assert launch(org, "old", name="Then").content == first.content
    set_key_times(org, expires_at=utcnow() - timedelta(seconds=1))
    again = launch(org, "old", name="Now")
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert again.json()["data"]["id"] != first.json()["data"]["id"]
    assert run_count(org) == 2
    replay = launch(org, "old", name="Now")
    assert replay.content == again.content


def test_expired_keys_are_purged(org: World) -> None:
    for key in ("a", "b", "c"):
        launch(org, key)
    set_key_times(org, expires_at=utcnow() - timedelta(seconds=1))
    launch(org, "d")
    assert [row.key for row in keys_of(org)] == ["d"]


def claim_directly(world: World, key: str, body: dict[str, Any]) -> Lease | StoredResponse:
    """Claim a key as a request served by another server process would."""
    identity = idempotency.fingerprint("POST", world.url("/runs"), b"", orjson.dumps(body))
    scope = Scope(world.org_id, hash_token(world.admin.token), key, identity)
    with UnitOfWork(world.factory, write=True) as uow:
        return idempotency.claim(uow, scope, TTL)


def test_a_key_in_use_is_409_until_its_lease_runs_out(org: World) -> None:
    body = {"checklist_id": org.extra["checklist"]}
    assert isinstance(claim_directly(org, "busy", body), Lease)
    busy = launch(org, "busy")
    assert busy.status_code == 409
    assert busy.json() == {
        "error": True,
        "message": "An identical request is still being processed.",
        "code": "CONFLICT",
    }
    assert run_count(org) == 0
    (row,) = keys_of(org)
    assert row.state == "running"
    set_key_times(org, locked_until=utcnow() - timedelta(seconds=1))
    taken_over = launch(org, "busy")
    assert taken_over.status_code == 201
    assert run_count(org) == 1


def test_a_request_that_lost_its_lease_is_rolled_back(org: World) -> None:
    body = {"checklist_id": org.extra["checklist"]}
    lease = claim_directly(org, "slow", body)
    assert isinstance(lease, Lease)
    set_key_times(org, locked_until=utcnow() - timedelta(seconds=1))
    newer = claim_directly(org, "slow", body)
    assert isinstance(newer, Lease)
    with pytest.raises(Conflict), UnitOfWork(org.factory, write=True) as uow:
        idempotency.complete(uow, lease, StoredResponse(201, {}, b"{}"), TTL)
    with UnitOfWork(org.factory, write=True) as uow:
        idempotency.release(uow, lease)
    (row,) = keys_of(org)
    assert row.state == "running"
    assert row.locked_until == newer.until


def test_concurrent_claims_of_one_key_yield_one_lease(org: World) -> None:
    body = {"checklist_id": org.extra["checklist"]}
    barrier = threading.Barrier(10)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            return type(claim_directly(org, "race", body)).__name__
        except Conflict:
            return "Conflict"

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count("Lease") == 1
    assert set(outcomes) <= {"Lease", "Conflict"}


@pytest.fixture(scope="module")
def servers(settings: Settings, engine: Engine) -> Iterator[list[str]]:
    """Two live servers on one database, as two worker processes would be."""
    started: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []
    try:
        for _ in range(2):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            config = uvicorn.Config(create_app(settings), log_level="warning", ws="none")
            server = uvicorn.Server(config)
            thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
            thread.start()
            started.append((server, thread, sock))
        deadline = time.monotonic() + 10
        while not all(server.started for server, _, _ in started):
            assert time.monotonic() < deadline, "servers did not start"
            time.sleep(0.01)
        urls = [f"http://127.0.0.1:{sock.getsockname()[1]}" for _, _, sock in started]
        # FastAPI builds its route tables on first use; two apps doing that at once in
        # one process can trip over shared parameter objects. Workers are processes.
        for url in urls:
            assert httpx2.post(f"{url}/organizations/{'0' * 32}/runs").status_code == 401
        yield urls
    finally:
        for server, thread, sock in started:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


def test_parallel_duplicates_make_one_run(org: World, servers: list[str]) -> None:
    barrier = threading.Barrier(10)
    body = {"checklist_id": org.extra["checklist"], "name": "Parallel"}

    def send(index: int) -> httpx2.Response:
        with httpx2.Client(base_url=servers[index % 2], timeout=30) as http:
            barrier.wait()
            return http.post(
                org.url("/runs"), headers={**org.admin.headers, HEADER: "par"}, json=body
            )

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(send, range(10)))
    assert run_count(org) == 1
    created = [a for a in answers if a.status_code == 201]
    assert created, [a.status_code for a in answers]
    odd = [(a.status_code, a.text) for a in answers if a.status_code not in (201, 409)]
    assert odd == []
    assert all(a.content == created[0].content for a in created)
    assert all(a.json()["code"] == "CONFLICT" for a in answers if a.status_code == 409)
    assert sum("idempotent-replayed" not in a.headers for a in created) == 1
    later = launch(org, "par", name="Parallel")
    assert later.status_code == 201
    assert later.content == created[0].content


def test_credentials_are_never_kept(org: World) -> None:
    assert org.call("POST", "/guests", json={"email": "g@example.com"}).status_code == 201
    answers = [
        org.call("POST", "/guests/g@example.com/token", headers={HEADER: "tok"}) for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["data"]["token"] != answers[1].json()["data"]["token"]
    assert "idempotent-replayed" not in answers[1].headers
    assert keys_of(org) == []


def test_openapi_declares_the_header_on_keyed_posts(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    launch_op = paths["/organizations/{org_id}/runs"]["post"]
    assert HEADER in [p["name"] for p in launch_op["parameters"] if p["in"] == "header"]
    token = paths["/organizations/{org_id}/guests/{email}/token"]["post"]
    assert HEADER not in [p["name"] for p in token.get("parameters", [])]
    listing = paths["/organizations/{org_id}/runs"]["get"]
    assert HEADER not in [p["name"] for p in listing.get("parameters", [])]
