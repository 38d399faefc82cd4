"""Rate limiting: off by default; per token, per address, per organization; 429 before any work."""

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import ValidationError

from procflow.api.app import create_app
from procflow.api.ratelimit import RateLimitMiddleware
from procflow.rate_policy import Budget, parse_policy
from procflow.settings import Settings
from tests.factories import Member, World

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
ANONYMOUS = {"X-Tallyfy-Client": "APIClient", "Accept": "application/json"}


@contextmanager
def limited(settings: Settings, spec: str, **more: Any) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"rate_limit": spec, **more}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def call(
    client: TestClient,
    world: World,
    method: str,
    path: str,
    member: Member | None = None,
    **kw: Any,
) -> Any:
    headers = (member or world.admin).headers
    return client.request(method, world.url(path), headers=headers, **kw)


def remaining(response: Any) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


def assert_refused(response: Any, limit: int, words: str) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert set(body) == {"error", "message", "code"}
    assert body["error"] is True
    assert body["code"] == "RATE_LIMIT_EXCEEDED"
    assert words in body["message"]
    assert body["message"].startswith(f"Rate limit exceeded: at most {limit} ")
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert response.headers["content-type"] == "application/json"


def test_off_by_default_adds_nothing(settings: Settings, client: TestClient, world: World) -> None:
    assert Settings().rate_limit == "off"
    assert not any(m.cls is RateLimitMiddleware for m in client.app.user_middleware)  # type: ignore[attr-defined]
    for _ in range(120):
        response = world.call("GET", "/runs")
        assert response.status_code == 200
        assert not any(h in response.headers for h in HEADERS)


def test_tallyfy_preset_is_what_the_docs_say() -> None:
    budgets = parse_policy("tallyfy").budgets
    shown = {scope: [str(rate) for rate in rates] for scope, rates in budgets.items()}
    assert shown == {
        Budget.TOKEN: ["600 per 1 minute"],
        Budget.IP: ["600 per 1 minute"],
        Budget.COMMENTS: ["120 per 1 hour"],
        Budget.GUEST_INVITES: ["30 per 1 hour"],
        Budget.AUTH_FAILURES: ["20 per 1 minute"],
    }
    override = parse_policy("tallyfy;token=1000/minute").budgets
    assert [str(r) for r in override[Budget.TOKEN]] == ["1000 per 1 minute"]
    assert [str(r) for r in override[Budget.COMMENTS]] == ["120 per 1 hour"]


def test_tallyfy_preset_headers(settings: Settings, world: World) -> None:
    with limited(settings, "tallyfy") as client:
        first = call(client, world, "GET", "/runs")
        second = call(client, world, "GET", "/runs")
        anonymous = client.get("/openapi.json", headers=ANONYMOUS)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "600"
    assert (remaining(first), remaining(second)) == (599, 598)
    assert 0 < int(first.headers["X-RateLimit-Reset"]) - time.time() <= 61
    assert anonymous.headers["X-RateLimit-Limit"] == "600"
    assert remaining(anonymous) == 599


def test_headers_count_down_then_429_with_retry_after(settings: Settings, world: World) -> None:
    with limited(settings, "token=3/minute") as client:
        answers = [call(client, world, "GET", "/runs") for _ in range(3)]
        refused = call(client, world, "GET", "/runs")
        health = client.get("/health")
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [remaining(a) for a in answers] == [2, 1, 0]
    assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers)
    assert_refused(refused, 3, "requests for this token per minute")
    assert int(refused.headers["Retry-After"]) <= 60
    assert health.status_code == 200
    assert "X-RateLimit-Limit" not in health.headers


def test_waiting_retry_after_is_enough(settings: Settings, world: World) -> None:
    with limited(settings, "token=1/2 seconds") as client:
        assert call(client, world, "GET", "/runs").status_code == 200
        refused = call(client, world, "GET", "/runs")
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 2
        assert refused.json()["message"].endswith(f"per 2 seconds. Retry in {wait} seconds.")
        time.sleep(wait)
        assert call(client, world, "GET", "/runs").status_code == 200


def test_a_refused_write_changes_nothing(settings: Settings, world: World) -> None:
    run = world.launch(world.template())
    before = world.call("GET", f"/runs/{run['id']}").json()["data"]
    with limited(settings, "token=1/minute") as client:
        assert call(client, world, "GET", f"/runs/{run['id']}").status_code == 200
        refused = call(client, world, "PUT", f"/runs/{run['id']}", json={"name": "Renamed"})
    assert_refused(refused, 1, "requests for this token")
    after = world.call("GET", f"/runs/{run['id']}").json()["data"]
    assert after == before
    assert after["name"] != "Renamed"


def test_each_token_has_its_own_budget(settings: Settings, world: World) -> None:
    guest_token = _guest(world)
    with limited(settings, "token=2/minute") as client:
        for _ in range(2):
            assert call(client, world, "GET", "/runs").status_code == 200
        assert call(client, world, "GET", "/runs").status_code == 429
        other = call(client, world, "GET", "/runs", world.standard)
        guest = call(client, world, "GET", "/guest-tasks", guest_token)
        guest_again = call(client, world, "GET", "/guest-tasks", guest_token)
        guest_refused = call(client, world, "GET", "/guest-tasks", guest_token)
    assert other.status_code == 200
    assert remaining(other) == 1
    assert guest.status_code == guest_again.status_code == 200
    assert (remaining(guest), remaining(guest_again)) == (1, 0)
    assert guest_refused.status_code == 429


def test_org_budget_is_shared_by_its_tokens_only(
    settings: Settings, world: World, other_world: World
) -> None:
    with limited(settings, "token=100/minute;org=4/minute") as client:
        answers = [
            call(client, world, "GET", "/runs", member)
            for member in (world.admin, world.standard, world.admin, world.light)
        ]
        refused = call(client, world, "GET", "/runs", world.standard)
        elsewhere = call(client, other_world, "GET", "/runs")
        under_api = client.get(
            f"/api/organizations/{world.org_id}/runs", headers=world.light.headers
        )
    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    assert [remaining(a) for a in answers] == [3, 2, 1, 0]
    assert_refused(refused, 4, "requests for this organization")
    assert elsewhere.status_code == 200
    assert remaining(elsewhere) == 3
    assert under_api.status_code == 429


def test_refused_callers_do_not_drain_an_org(
    settings: Settings, world: World, other_world: World
) -> None:
    with limited(settings, "token=100/minute;org=2/minute") as client:
        for _ in range(5):
            assert call(client, world, "GET", "/runs", other_world.admin).status_code == 403
            response = client.get(world.url("/runs"), headers={"Authorization": "Bearer nope"})
            assert response.status_code == 401
        first = call(client, world, "GET", "/runs")
    assert first.status_code == 200
    assert remaining(first) == 1


def test_requests_without_a_token_count_per_address(settings: Settings, world: World) -> None:
    with limited(settings, "ip=2/minute;token=50/minute") as client:
        answers = [client.get(world.url("/runs"), headers=ANONYMOUS) for _ in range(2)]
        refused = client.get("/openapi.json", headers=ANONYMOUS)
        with_token = call(client, world, "GET", "/runs")
    assert [a.status_code for a in answers] == [401, 401]
    assert [remaining(a) for a in answers] == [1, 0]
    assert_refused(refused, 2, "requests without a token from this address")
    assert with_token.status_code == 200
    assert with_token.headers["X-RateLimit-Limit"] == "50"


def test_failed_authentication_budget_locks_the_address(settings: Settings, world: World) -> None:
    with limited(settings, "token=100/minute;auth_failures=3/minute") as client:
        good = call(client, world, "GET", "/runs")
        for _ in range(3):
            bad = client.get(world.url("/runs"), headers={"Authorization": "Bearer wrong"})
            assert bad.status_code == 401
        refused = call(client, world, "GET", "/runs")
    assert good.status_code == 200
    assert good.headers["X-RateLimit-Limit"] == "100"
    assert_refused(refused, 3, "failed authentications from this address")


def test_comment_cap_counts_posted_comments(settings: Settings, world: World) -> None:
    task_id = _task(world)
    path = f"/tasks/{task_id}/comment"
    with limited(settings, "token=100/minute;comments=2/hour") as client:
        invalid = call(client, world, "POST", path, json={})
        posted = [call(client, world, "POST", path, json={"content": f"c{i}"}) for i in range(2)]
        listed = call(client, world, "GET", f"/tasks/{task_id}/comments")
        refused = call(client, world, "POST", path, json={"content": "one too many"})
    assert invalid.status_code == 422
    assert remaining(invalid) == 2
    assert [p.status_code for p in posted] == [201, 201]
    assert [remaining(p) for p in posted] == [1, 0]
    assert listed.status_code == 200
    assert_refused(refused, 2, "comments in this organization per hour")
    comments = world.call("GET", f"/tasks/{task_id}/comments").json()["data"]
    assert [c["content"] for c in comments] == ["c0", "c1"]


def test_guest_invite_cap(settings: Settings, world: World) -> None:
    with limited(settings, "guest_invites=1/hour") as client:
        first = call(client, world, "POST", "/guests", json={"email": f"{uuid4().hex}@example.com"})
        email = f"{uuid4().hex}@example.com"
        refused = call(client, world, "POST", "/guests", json={"email": email})
    assert first.status_code == 201
    assert remaining(first) == 0
    assert_refused(refused, 1, "guest invites in this organization per hour")
    assert world.call("GET", f"/guests/{email}").status_code == 404


def test_several_windows_for_one_scope(settings: Settings, world: World) -> None:
    with limited(settings, "token=5/minute;token=2/minute") as client:
        answers = [call(client, world, "GET", "/runs") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert_refused(answers[2], 2, "requests for this token per minute")


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("tokens=10/minute", "scope 'tokens' is not one of"),
        ("token=ten per minute", "is not a rate such as"),
        ("token=0/minute", "at least 1 request"),
        ("600/minute", "is not 'off', 'tallyfy' or scope=rate"),
        ("", "rate_limit is empty"),
    ],
)
def test_a_bad_spec_stops_start_up(settings: Settings, spec: str, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        Settings(rate_limit=spec)
    with pytest.raises(ValueError, match=words):
        create_app(settings.model_copy(update={"rate_limit": spec}))


def test_a_bad_storage_stops_start_up(settings: Settings) -> None:
    with pytest.raises(ValidationError, match="rate_limit_storage"):
        Settings(rate_limit_storage="mongodb://localhost")
    assert Settings(rate_limit_storage="redis://127.0.0.1:6379/0").rate_limit == "off"


def test_an_unreachable_store_lets_requests_through(settings: Settings, world: World) -> None:
    with limited(
        settings, "token=1/minute", rate_limit_storage=f"redis://127.0.0.1:{_closed_port()}"
    ) as client:
        answers = [call(client, world, "GET", "/runs") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not any(h in answers[0].headers for h in HEADERS)


def test_redis_budget_is_shared_between_workers(settings: Settings, world: World) -> None:
    if not _reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    store = {"rate_limit_storage": "redis://127.0.0.1:6379/0"}
    with (
        limited(settings, "token=3/minute", **store) as one,
        limited(settings, "token=3/minute", **store) as two,
    ):
        answers = [call(client, world, "GET", "/runs") for client in (one, two, one)]
        refused = call(two, world, "GET", "/runs")
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [remaining(a) for a in answers] == [2, 1, 0]
    assert_refused(refused, 3, "requests for this token")
    with redis.Redis(port=6379) as store:
        keys = [key.decode() for key in store.scan_iter("procflow*")]
    assert keys
    assert not any(world.admin.token in key for key in keys)


def _guest(world: World) -> Member:
    email = f"{uuid4().hex[:12]}@example.com"
    assert world.call("POST", "/guests", json={"email": email}).status_code == 201
    response = world.call("POST", f"/guests/{email}/token")
    assert response.status_code == 201, response.text
    return Member(user_id=0, token=response.json()["data"]["token"])


def _task(world: World) -> str:
    run = world.launch(world.template(steps=[{"title": "Review"}]))
    response = world.call("GET", f"/runs/{run['id']}/tasks")
    assert response.status_code == 200, response.text
    task_id: str = response.json()["data"][0]["id"]
    return task_id


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
