"""Hostile requests against every route family: never a 5xx, always Tallyfy's error shape,
nothing leaked, nothing changed.

The requests are generated from the app's route table: every route that takes a body gets
every hostile body, every route with path parameters gets hostile ids, every list route
gets hostile query strings, and a read and a write get hostile headers.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import Engine

from procflow.storage.database import make_session_factory
from tests.factories import Objects, World, populate
from tests.security.route_table import Endpoint, served_endpoints

APP_ROUTES = served_endpoints()
LEAKS = re.compile(
    r"Traceback|File \"|sqlalchemy|psycopg|sqlite3|SELECT |INSERT INTO|UPDATE \w+ SET|"
    r"IntegrityError|OperationalError|DataError|\bline \d+, in\b",
    re.IGNORECASE,
)
BIG = 2**64
KEYS = ("name", "title", "summary", "content", "email", "label", "description", "color")
ID_KEYS = ("owner_id", "task_id", "user_id", "tag_id", "folder_id", "group_id", "subject_id")


def _dumps(value: Any) -> bytes:
    """JSON that orjson will not write (integers beyond 64 bits)."""
    return json.dumps(value).encode()


def _every_key(value: Any) -> bytes:
    return _dumps(dict.fromkeys((*KEYS, *ID_KEYS), value))


# Bodies that the JSON reader refuses (400/413/415/422) before any route code runs: safe to
# send to every route that reads a body, including those whose body is ignored.
UNPARSABLE: dict[str, tuple[bytes, str]] = {
    "nan": (b'{"name": NaN}', "application/json"),
    "infinity": (b'{"name": -Infinity}', "application/json"),
    "invalid-utf8": (b'{"name": "\xff\xfe"}', "application/json"),
    "utf8-surrogate-bytes": (b'{"name": "\xed\xa0\x80"}', "application/json"),
    "lone-high-surrogate": (b'{"name": "\\ud800"}', "application/json"),
    "lone-low-surrogate": (b'{"name": "\\udc00x"}', "application/json"),
    "bom": (b'\xef\xbb\xbf{"name": "x"}', "application/json"),
    "overflowing-float": (b'{"name": 1e999999}', "application/json"),
    "5000-digit-int": (b'{"name": ' + b"9" * 5000 + b"}", "application/json"),
    "truncated": (b'{"name": ', "application/json"),
    "top-level-array": (b"[1, 2]", "application/json"),
    "top-level-null": (b"null", "application/json"),
    "top-level-string": (b'"name"', "application/json"),
    "deep-10k-arrays": (b"[" * 10_000 + b"]" * 10_000, "application/json"),
    "deep-100k-objects": (b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "application/json"),
    "deep-40-in-object": (b'{"name": ' + b"[" * 40 + b"]" * 40 + b"}", "application/json"),
    "long-string": (orjson.dumps({"name": "x" * 100_001}), "application/json"),
    "long-key": (orjson.dumps({"k" * 100_001: 1}), "application/json"),
    "long-array": (orjson.dumps({"tags": list(range(1001))}), "application/json"),
    "nul-char": (_every_key("a\u0000b"), "application/json"),
    "nul-in-key": (b'{"prerun": {"a\\u0000": "x"}}', "application/json"),
    "too-big": (b'{"name": "' + b"x" * (1024 * 1024) + b'"}', "application/json"),
    "text-plain": (b'{"name": "x"}', "text/plain"),
    "form": (b"name=x&title=y", "application/x-www-form-urlencoded"),
    "form-nul": (
        b"name=%00&title=a%00b&" + b"x" * 5000 + b"=1",
        "application/x-www-form-urlencoded",
    ),
    "multipart": (
        b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",
        "multipart/form-data; boundary=b",
    ),
    "xml": (b"<name>x</name>", "application/xml"),
    "garbage-content-type": (b"{}{}", "application/json; charset=\x7f"),
}
# Well-formed JSON whose values break the route's schema: only sent to routes that declare
# a body (a route without one ignores it, and would do its work).
INVALID: dict[str, bytes] = {
    "huge-ints": _every_key(BIG),
    "huge-negative-ints": _every_key(-(2**63) - 1),
    "int-2-64-minus-1": _every_key(BIG - 1),
    "float-ids": _every_key(1e308),
    "operator-objects": _every_key({"$gt": "", "$where": "1"}),
    "nested-lists": _every_key([[["x"]]]),
    "booleans": _every_key(True),
    "sql-in-id-lists": orjson.dumps(
        {"tags": ["' OR 1=1 --"], "users": ["1; DROP TABLE users"], "runs": ["x' --"]}
    ),
    "duplicate-keys-last-wins-invalid": b'{"name": "ok", "title": "ok", "name": 7, "title": 7}',
    "prerun-hostile-keys": _dumps(
        {"prerun": {"../../etc": "x", "' OR '1'='1": 1, "\u202e": BIG}, "taskdata": BIG}
    ),
}
HOSTILE_IDS = {
    "long": "a" * 5000,
    "dotdot": "..%2F..%2Fetc%2Fpasswd",
    "nul": "%00",
    "nul-suffixed": "0" * 32 + "%00",
    "unicode": "%C3%BC%F0%9F%98%80%E2%80%AE",
    "bad-percent": "%ff%fe",
    "sql": "1'%20OR%20'1'%3D'1",
    "negative": "-1",
    "huge": str(10**30),
    "int64-plus-one": str(2**63),
}
HOSTILE_QUERIES = {
    "per-page-1e30": "per_page=" + str(10**30),
    "per-page-5000-digits": "per_page=" + "9" * 5000,
    "per-page-zero": "per_page=0",
    "page-negative": "page=-1",
    "page-huge": "page=" + str(10**30),
    "page-text": "page=abc&per_page=1e3",
    "with-10k": "with=" + "tasks," * 2000,
    "with-unknown": "with=__class__,../../x,%00",
    "nul-everywhere": "status=%00&q=%00&search=%00&sort=%00&owners=%00",
    "sql": "status=active'--&sort=name;DROP&owners=1,2,x&search=%27%20OR%201%3D1",
    "array-syntax": "page[]=1&per_page[gt]=5&with[]=tasks",
    "long-value": "q=" + "x" * 10_000 + "&search=" + "y" * 10_000,
    "repeated": "&".join(["page=2"] * 500),
}
HOSTILE_HEADERS: dict[str, dict[str, str | bytes]] = {
    "bearer-empty": {"Authorization": "Bearer "},
    "bearer-only": {"Authorization": "Bearer"},
    "basic": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "bearer-10k": {"Authorization": "Bearer " + "a" * 10_000},
    "bearer-two-tokens": {"Authorization": "Bearer abc def"},
    "bearer-tab": {"Authorization": "Bearer\tabc"},
    "bearer-latin1": {"Authorization": b"Bearer \xe9\xe8"},
    "bearer-sql": {"Authorization": "Bearer ' OR '1'='1"},
    "client-10k": {"X-Tallyfy-Client": "c" * 10_000},
    "prefer-mixed": {"Prefer": "handling=strict, handling=lenient, return=minimal"},
    "prefer-10k": {"Prefer": "handling=" + "x" * 10_000},
    "if-match-garbage": {"If-Match": "garbage"},
    "if-match-quotes": {"If-Match": '"' * 100},
    "if-match-10k": {"If-Match": '"' + "e" * 10_000 + '"'},
    "if-match-weak-list": {"If-Match": 'W/"x", "y", *'},
    "if-none-match-garbage": {"If-None-Match": b"\x01\x02garbage"},
    "idempotency-empty": {"Idempotency-Key": ""},
    "idempotency-256": {"Idempotency-Key": "k" * 256},
    "idempotency-10k": {"Idempotency-Key": "k" * 10_000},
    "idempotency-control": {"Idempotency-Key": b"a\x01b\x7f"},
    "idempotency-latin1": {"Idempotency-Key": b"cl\xe9"},
    "content-length-text": {"Content-Length": "abc"},
    "content-length-huge": {"Content-Length": str(10**30)},
    "accept-xml": {"Accept": "application/xml"},
}


@dataclass(frozen=True)
class Hostile:
    """One hostile request; ids in `path` are filled in from the world's objects."""

    label: str
    endpoint: Endpoint
    content: bytes | None = None
    headers: dict[str, str | bytes] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    query: str = ""
    auth: bool = True


def find(method: str, path: str) -> Endpoint:
    return next(e for e in APP_ROUTES if e.key == (method, path))


# Routes that get every hostile body and id; the others get a rotating share, so that each
# hostile value still reaches many routes while the suite stays quick.
FULL_COVERAGE = {
    ("GET", "/organizations/{org_id}/runs/{run_id}"),
    ("PUT", "/organizations/{org_id}/runs/{run_id}"),
    ("POST", "/organizations/{org_id}/runs"),
    ("POST", "/organizations/{org_id}/checklists/{checklist_id}/clone"),
    ("POST", "/organizations/{org_id}/tasks/{task_id}/comment"),
    ("PUT", "/organizations/{org_id}/runs/{run_id}/tasks/{task_id}"),
}
SHARE = 6


def share(items: dict[str, Any], index: int, endpoint: Endpoint) -> list[tuple[str, Any]]:
    pairs = list(items.items())
    if endpoint.key in FULL_COVERAGE:
        return pairs
    return [pairs[(index * SHARE + offset) % len(pairs)] for offset in range(SHARE)]


def hostile_requests() -> Iterator[Hostile]:
    for index, endpoint in enumerate(APP_ROUTES):
        if endpoint.method in ("POST", "PUT", "PATCH", "DELETE"):
            for label, (content, media) in share(UNPARSABLE, index, endpoint):
                yield Hostile(f"body:{label}", endpoint, content, {"Content-Type": media})
        if endpoint.takes_body:
            for label, content in INVALID.items():
                yield Hostile(f"body:{label}", endpoint, content)
        for param in endpoint.params:
            if param == "org_id" and endpoint.method != "GET":
                continue
            for label, value in share(HOSTILE_IDS, index, endpoint):
                yield Hostile(f"id:{param}:{label}", endpoint, overrides={param: value})
        if endpoint.method == "GET" and not endpoint.path.endswith("}"):
            for label, query in HOSTILE_QUERIES.items():
                yield Hostile(f"query:{label}", endpoint, query=query)
    read = find("GET", "/organizations/{org_id}/runs/{run_id}")
    write = find("PUT", "/organizations/{org_id}/runs/{run_id}")
    launch = find("POST", "/organizations/{org_id}/runs")
    for label, headers in HOSTILE_HEADERS.items():
        for endpoint in (read, write, launch):
            yield Hostile(
                f"header:{label}",
                endpoint,
                b'{"name": 5}' if endpoint.method != "GET" else None,
                {"Content-Type": "application/json", **headers},
                auth="Authorization" not in headers,
            )
    for endpoint in (write, launch):
        yield Hostile("chunked-invalid", endpoint, b"chunked")
    yield Hostile("get-with-body", read, b'{"name": 5}', {"Content-Type": "text/plain"})


CASES = list(hostile_requests())


def test_there_are_at_least_200_distinct_hostile_requests() -> None:
    distinct = {(c.label, c.endpoint.key) for c in CASES}
    assert len(distinct) == len(CASES)
    assert len(CASES) >= 200, len(CASES)


@pytest.fixture(scope="module")
def arena(engine: Engine, client: TestClient) -> tuple[World, Objects]:
    world = World.create(make_session_factory(engine), client)
    return world, populate(world)


def snapshot(world: World, objects: Objects) -> list[Any]:
    """What a client sees of the world's objects (every write target family)."""
    ids = objects.ids
    paths = [
        f"/runs/{ids['run_id']}?with=tasks,tags,folders,form_fields",
        f"/checklists/{ids['checklist_id']}?with=steps",
        f"/tasks/{ids['oneoff_task_id']}",
        f"/tasks/{ids['task_id']}/comments",
        "/tags?per_page=100",
        "/folders?per_page=100",
        "/groups?per_page=100",
        "/guests?per_page=100",
        "/users?per_page=100",
    ]
    return [world.call("GET", path).json() for path in paths]


def send(world: World, objects: Objects, case: Hostile) -> Response:
    headers: dict[str, str | bytes] = {}
    if case.auth:
        headers.update(world.admin.headers)
    headers.update(case.headers)
    url = case.endpoint.url(objects.ids, **case.overrides)
    if case.query:
        url += "?" + case.query
    content: Any = case.content
    if case.label == "chunked-invalid":
        headers["Content-Type"] = "application/json"
        content = iter([b'{"name": ', b"[" * 50, b"1", b"]" * 50, b"}"])
    raw = [
        (name.encode(), value if isinstance(value, bytes) else value.encode("latin-1"))
        for name, value in headers.items()
    ]
    return world.client.request(case.endpoint.method, url, content=content, headers=raw)


def assert_safe(response: Response) -> None:
    assert response.status_code < 500, response.text[:500]
    assert not LEAKS.search(response.text), response.text[:500]
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        assert body["error"] is True
        assert isinstance(body["message"], str)
        assert body["message"]
        assert isinstance(body["code"], str)
        assert body["code"].isupper()
        assert set(body) <= {"error", "message", "code", "errors"}, body


BY_ENDPOINT: dict[tuple[str, str], list[Hostile]] = {}
for _case in CASES:
    BY_ENDPOINT.setdefault(_case.endpoint.key, []).append(_case)


@pytest.mark.parametrize("key", sorted(BY_ENDPOINT), ids=" ".join)
def test_hostile_requests_are_refused_cleanly(
    arena: tuple[World, Objects], key: tuple[str, str]
) -> None:
    """Every hostile request to one route: no 5xx, the error shape, no leak; a batch of
    hostile writes leaves every object exactly as a client saw it before."""
    world, objects = arena
    before = snapshot(world, objects) if key[0] != "GET" else None
    failures = []
    for case in BY_ENDPOINT[key]:
        response = send(world, objects, case)
        try:
            assert_safe(response)
        except AssertionError as failure:
            failures.append(f"{case.label}: {response.status_code} {failure}")
    assert failures == []
    if before is not None:
        assert snapshot(world, objects) == before
