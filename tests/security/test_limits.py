"""Configurable limits on bodies and pages, and the documented answers to hostile JSON."""

import json
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from procflow.api.app import create_app
from procflow.settings import Settings
from tests.factories import World


@pytest.fixture(scope="module")
def tight(settings: Settings) -> Iterator[TestClient]:
    """The same database behind an app with small limits."""
    limits = {"max_array_items": 3, "max_string_chars": 40, "max_page_size": 2, "max_json_depth": 4}
    with TestClient(
        create_app(settings.model_copy(update=limits)), raise_server_exceptions=False
    ) as client:
        yield client


FIELD = "FIELD"


def run_of(world: World) -> str:
    """A run whose kick-off field is `world.extra["field"]`."""
    field_id = world.extra["field"] = uuid4().hex
    kickoff = [{"id": field_id, "field_type": "text", "label": "Client"}]
    run_id: str = world.launch(world.template(kickoff=kickoff))["id"]
    return run_id


def with_field(world: World, value: Any) -> Any:
    """`value` with the placeholder FIELD replaced by the run's kick-off field id."""
    return json.loads(json.dumps(value).replace(FIELD, world.extra["field"]))


def put_raw(world: World, run_id: str, raw: bytes, client: TestClient | None = None) -> Any:
    headers = {**world.admin.headers, "Content-Type": "application/json"}
    return (client or world.client).put(world.url(f"/runs/{run_id}"), content=raw, headers=headers)


def errors_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["error"], body["code"]) == (True, "VALIDATION_FAILED")
    errors: dict[str, list[str]] = body["errors"]
    return errors


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tags": ["x"] * 4}, "tags"),
        ({"name": "n" * 41}, "name"),
        ({"prerun": {FIELD: "v" * 41}}, "prerun." + FIELD),
        ({"tags": ["ok", "t" * 41]}, "tags.1"),
        ({"prerun": {"k" * 41: "v"}}, "prerun"),
        ({"taskdata": {FIELD: [["x"] * 4]}}, "taskdata." + FIELD + ".0"),
    ],
)
def test_array_and_string_limits_name_the_field(
    world: World, tight: TestClient, body: dict[str, Any], field: str
) -> None:
    run_id = run_of(world)
    before = world.call("GET", f"/runs/{run_id}").json()
    response = put_raw(world, run_id, json.dumps(with_field(world, body)).encode(), tight)
    assert list(errors_of(response)) == [with_field(world, field)]
    assert world.call("GET", f"/runs/{run_id}").json() == before


def test_default_limits_are_generous_but_bounded(world: World) -> None:
    run_id = run_of(world)
    assert list(errors_of(put_raw(world, run_id, json.dumps({"tags": [1] * 1001}).encode()))) == [
        "tags"
    ]
    field = world.extra["field"]
    long = json.dumps({"prerun": {field: "x" * 100_001}}).encode()
    assert list(errors_of(put_raw(world, run_id, long))) == ["prerun." + field]
    fine = json.dumps({"summary": "x" * 10_000}).encode()
    assert put_raw(world, run_id, fine).status_code == 200


def test_depth_limit_is_configurable(world: World, tight: TestClient) -> None:
    run_id = run_of(world)
    at_limit = b'{"prerun": {"x": [[1]]}}'
    assert put_raw(world, run_id, at_limit, tight).status_code in (200, 422)
    too_deep = b'{"prerun": {"x": [[[1]]]}}'
    response = put_raw(world, run_id, too_deep, tight)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("levels", [10_000, 100_000])
def test_very_deep_nesting_is_a_400(world: World, levels: int) -> None:
    run_id = run_of(world)
    raw = b'{"prerun": ' + b"[" * levels + b"]" * levels + b"}"
    assert put_raw(world, run_id, raw).status_code == 400


def test_page_size_is_clamped_to_the_setting(world: World, tight: TestClient) -> None:
    template = world.template()
    for _ in range(3):
        world.launch(template)
    response = tight.get(world.url("/runs?per_page=50"), headers=world.admin.headers)
    assert response.status_code == 200
    assert response.json()["meta"]["pagination"]["per_page"] == 2
    assert len(response.json()["data"]) == 2
    huge = world.call("GET", f"/runs?per_page={10**30}")
    assert huge.json()["meta"]["pagination"]["per_page"] == 100


@pytest.mark.parametrize("query", ["per_page=0", "page=-1", "page=abc", "with=" + "t" * 501])
def test_malformed_paging_is_a_400(world: World, query: str) -> None:
    response = world.call("GET", f"/runs?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


def test_duplicate_keys_last_one_wins(world: World) -> None:
    run_id = run_of(world)
    response = put_raw(world, run_id, b'{"name": "first", "name": "second"}')
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "second"
    assert list(errors_of(put_raw(world, run_id, b'{"name": "ok", "name": 7}'))) == ["name"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"owner_id": 18446744073709551616}',
        b'{"owner_id": 18446744073709551615}',
        b'{"owner_id": 9223372036854775808}',
        b'{"owner_id": -9223372036854775809}',
        b'{"users": [18446744073709551615]}',
    ],
)
def test_huge_integers_are_a_422(world: World, raw: bytes) -> None:
    errors = errors_of(put_raw(world, run_of(world), raw))
    assert next(iter(errors)).split(".")[0] in ("owner_id", "users")


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": 1e999999}',
        b'{"name": NaN}',
        b'{"name": Infinity}',
        b'{"name": "\\ud800"}',
        b'{"name": "\xed\xa0\x80"}',
        b'\xef\xbb\xbf{"name": "x"}',
    ],
)
def test_unreadable_json_is_a_400(world: World, raw: bytes) -> None:
    response = put_raw(world, run_of(world), raw)
    assert response.status_code == 400
    assert response.json()["code"] == "BAD_REQUEST"


def test_nul_is_refused_in_bodies_and_urls(world: World) -> None:
    run_id = run_of(world)
    assert list(errors_of(put_raw(world, run_id, b'{"summary": "a\\u0000b"}'))) == ["summary"]
    for path in ("/runs/%00", f"/runs/{run_id}?with=%00", "/guests/a%00@example.com"):
        response = world.call("GET", path)
        assert response.status_code == 400, path
        assert response.json()["code"] == "BAD_REQUEST"


def test_chunked_bodies_are_capped_too(world: World, settings: Settings) -> None:
    run_id = run_of(world)
    headers = {**world.admin.headers, "Content-Type": "application/json"}
    small = iter([b'{"name": ', b'"chunked"}'])
    response = world.client.put(world.url(f"/runs/{run_id}"), content=small, headers=headers)
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "chunked"
    chunk = b" " * 65536
    big = iter([b'{"name": "x"', *([chunk] * (settings.max_body_bytes // len(chunk) + 1)), b"}"])
    response = world.client.put(world.url(f"/runs/{run_id}"), content=big, headers=headers)
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"


def test_body_on_get_is_ignored(world: World) -> None:
    run_id = run_of(world)
    response = world.client.request(
        "GET", world.url(f"/runs/{run_id}"), content=b"{not json", headers=world.admin.headers
    )
    assert response.status_code == 200
