"""What an operator's tools see: probes, request ids, metrics and log lines."""

import logging
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from procflow.api.app import create_app
from procflow.logs import REQUEST_ID, JsonFormatter, RequestIdFilter, TextFormatter
from procflow.settings import Settings
from tests.factories import World

RUN_ROUTE = "/organizations/{org_id}/runs/{run_id}"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_liveness_and_readiness(client: TestClient) -> None:
    for path in ("/health", "/healthz"):
        assert client.get(path).json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok"}


def test_not_ready_while_migrations_are_pending(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(settings)) as fresh:
        answer = fresh.get("/readyz")
        assert fresh.get("/healthz").status_code == 200
    assert answer.status_code == 503
    assert answer.json()["database"] == "migrations pending"


def test_not_ready_without_a_database() -> None:
    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:9/none")
    with TestClient(create_app(settings)) as unreachable:
        answer = unreachable.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["database"] == "unreachable"


def test_a_request_id_is_returned_or_made(client: TestClient) -> None:
    given = "trace-7f3a:01=ab/cd@e.f+g;h"
    assert client.get("/healthz", headers={"X-Request-Id": given}).headers["x-request-id"] == given
    made = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(made) == 3
    for hostile in (b"a" * 129, b"two words", "évènement".encode(), b"<script>", b""):
        returned = client.get("/healthz", headers={b"X-Request-Id": hostile}).headers
        assert returned["x-request-id"] not in (hostile.decode(errors="replace"), "")
        assert returned["x-request-id"].isascii()


def test_errors_carry_a_request_id_too(client: TestClient, world: World) -> None:
    answer = world.call("GET", "/runs/" + "0" * 32)
    assert answer.status_code == 404
    assert answer.headers["x-request-id"]


def test_requests_are_counted_by_route_template(client: TestClient, world: World) -> None:
    labels = {"method": "GET", "route": RUN_ROUTE, "status": "404"}
    before = sample("procflow_http_requests_total", **labels)
    latency = sample("procflow_http_request_duration_seconds_count", method="GET", route=RUN_ROUTE)
    for _ in range(2):
        world.call("GET", "/runs/" + "0" * 32)
    assert sample("procflow_http_requests_total", **labels) == before + 2
    assert (
        sample("procflow_http_request_duration_seconds_count", method="GET", route=RUN_ROUTE)
        == latency + 2
    )
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    counted = sample("procflow_http_requests_total", **unmatched)
    client.get("/no/such/path/" + "x" * 40)
    assert sample("procflow_http_requests_total", **unmatched) == counted + 1


def test_metrics_are_exposed_for_prometheus(client: TestClient) -> None:
    client.get("/healthz")
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    for name in (
        "procflow_http_requests_total",
        "procflow_http_request_duration_seconds_bucket",
        "procflow_db_pool_connections_in_use",
        "procflow_db_pool_capacity",
    ):
        assert name in answer.text


def test_metrics_can_be_turned_off(settings: Settings) -> None:
    with TestClient(create_app(settings.model_copy(update={"metrics": False}))) as quiet:
        assert quiet.get("/metrics").status_code == 404


def test_rate_limit_refusals_are_counted(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit": "ip=1/minute"})
    before = sample("procflow_rate_limit_refusals_total", budget="ip")
    with TestClient(create_app(limited)) as client:
        statuses = [client.get("/me").status_code for _ in range(3)]
        assert client.get("/metrics").status_code == 200  # probes and metrics are not limited
    assert statuses[1:] == [429, 429]
    assert sample("procflow_rate_limit_refusals_total", budget="ip") == before + 2


def test_the_access_log_names_the_request(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    logged = settings.model_copy(update={"access_log": True})
    with TestClient(create_app(logged)) as client, caplog.at_level(logging.INFO, "procflow"):
        client.get("/healthz", headers={"X-Request-Id": "probe-1"})
    [record] = [r for r in caplog.records if r.name == "procflow.access"]
    assert (record.status, record.route, record.method) == (200, "/healthz", "GET")  # type: ignore[attr-defined]
    assert record.request_id == "probe-1"  # type: ignore[attr-defined]


def test_json_and_text_lines_carry_the_request_id() -> None:
    token = REQUEST_ID.set("req-42")
    try:
        record = logging.makeLogRecord(
            {"name": "procflow.x", "levelname": "WARNING", "msg": "odd %s", "args": ("thing",)}
        )
        record.status = 503
        RequestIdFilter().filter(record)
        entry = orjson.loads(JsonFormatter().format(record))
        text = TextFormatter().format(record)
    finally:
        REQUEST_ID.reset(token)
    assert entry["message"] == "odd thing"
    assert entry["request_id"] == "req-42"
    assert entry["level"] == "warning"
    assert entry["status"] == 503
    assert "[req-42] odd thing" in text
