"""Three families of input that once reached a 500, generated over every operation of the
OpenAPI document, on whichever database the suite runs on:

- integers beyond 32 and 64 bits (every integer column is 32-bit on PostgreSQL) in every
  path parameter, every query parameter and every integer field of a body;
- dates and date-times at the ends of the calendar with an offset (`0001-01-01T00:00:00+01:00`
  is in year 0 once in UTC), in every query parameter and every date-like body field, and
  in kick-off and task form values of date fields;
- digits that are not ASCII (superscript, Arabic-Indic, full-width) in every path parameter.

Each answer must be below 500 and, when it is a refusal, in Tallyfy's error shape; a
refusal of a value in a named query parameter or body field names that field.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from procflow.storage.database import make_session_factory
from tests.factories import Objects, World, populate
from tests.security.route_table import served_document
from tests.security.test_adversarial import assert_safe

DOCUMENT: dict[str, Any] = served_document()
BIG_INTS = {"int32+1": 2**31, "int64+1": 2**63, "int64-min-1": -(2**63) - 1, "uint64+1": 2**64}
EDGE_STAMPS = {
    "year-1-plus-offset": "0001-01-01T00:00:00+01:00",
    "year-9999-minus-offset": "9999-12-31T23:59:59-01:00",
    "year-9999-utc": "9999-12-31T23:59:59Z",
    "year-1-utc": "0001-01-01T00:00:00Z",
    "year-9999-date": "9999-12-31",
    "year-1-date": "0001-01-01",
}
ODD_DIGITS = {
    "superscript-2": "\u00b2",
    "arabic-indic-1": "\u0661",
    "fullwidth-1": "\uff11",
    "mixed": "1\u00b2",
}
DATE_WORDS = ("deadline", "date", "_at", "after", "before", "time", "created")
MUTATING_QUERY = ("DELETE", "PUT", "POST")


@dataclass(frozen=True)
class Case:
    label: str
    method: str
    path: str
    field: str | None = None  # the parameter or body field that holds the hostile value
    path_value: str | None = None
    query: dict[str, str] | None = None
    body: dict[str, Any] | None = None


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = DOCUMENT["components"]["schemas"][name]
    if "anyOf" in schema:
        options = [_resolve(s) for s in schema["anyOf"] if s.get("type") != "null"]
        if options:
            return options[0]
    return schema


def _kind(schema: dict[str, Any]) -> str:
    schema = _resolve(schema)
    if schema.get("type") == "array":
        return "array-of-" + _kind(schema.get("items", {}))
    return str(schema.get("type", "any"))


def _body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    return _resolve(media["schema"]) if media else None


def _is_date_like(name: str) -> bool:
    return any(word in name.lower() for word in DATE_WORDS)


def cases() -> Iterator[Case]:
    for path, item in sorted(DOCUMENT["paths"].items()):
        for method, operation in sorted(item.items()):
            method = method.upper()
            params = operation.get("parameters", [])
            for param in params:
                name, where = param["name"], param["in"]
                if where == "path" and name != "org_id":
                    values = {**{k: str(v) for k, v in BIG_INTS.items()}, **ODD_DIGITS}
                    for label, value in values.items():
                        yield Case(f"path:{name}:{label}", method, path, name, path_value=value)
                if where == "query" and method not in MUTATING_QUERY:
                    values = {k: str(v) for k, v in BIG_INTS.items()}
                    if _kind(param.get("schema", {})) == "string":
                        values |= EDGE_STAMPS
                    for label, value in values.items():
                        yield Case(f"query:{name}:{label}", method, path, name, query={name: value})
            body = _body_schema(operation)
            if body is None:
                continue
            for name, prop in body.get("properties", {}).items():
                kind = _kind(prop)
                if kind in ("integer", "array-of-integer"):
                    for label, number in BIG_INTS.items():
                        sent: Any = [number] if kind.startswith("array") else number
                        yield Case(f"body:{name}:{label}", method, path, name, body={name: sent})
                elif kind == "string" and _is_date_like(name):
                    for label, stamp in EDGE_STAMPS.items():
                        yield Case(f"body:{name}:{label}", method, path, name, body={name: stamp})
                elif kind == "object":
                    for nested, nested_prop in _resolve(prop).get("properties", {}).items():
                        if _kind(nested_prop) == "integer":
                            for label, number in BIG_INTS.items():
                                yield Case(
                                    f"body:{name}.{nested}:{label}",
                                    method,
                                    path,
                                    f"{name}.{nested}",
                                    body={name: {nested: number}},
                                )


CASES = list(cases())


def test_every_operation_is_covered() -> None:
    operations = {(m.upper(), p) for p, item in DOCUMENT["paths"].items() for m in item}
    with_parameters = {
        (m.upper(), p)
        for p, item in DOCUMENT["paths"].items()
        for m, op in item.items()
        if any(x["name"] != "org_id" for x in op.get("parameters", []) if x["in"] == "path")
    }
    covered = {(c.method, c.path) for c in CASES}
    assert with_parameters <= covered
    assert len(covered) >= len(operations) * 3 // 4, sorted(operations - covered)


def _value_for(name: str, schema: dict[str, Any], objects: Objects, user_id: int) -> Any:
    """A valid value for a required body field, so that the hostile one is reached."""
    schema = _resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if name in objects.ids and kind == "string":
        return objects.ids[name]
    if kind == "integer":
        return user_id
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    if "email" in name:
        return f"families-{uuid4().hex[:12]}@example.com"
    if name == "subject_type":
        return "Run"
    return f"Families {uuid4().hex[:12]}"


def _base_body(case: Case, objects: Objects, user_id: int) -> dict[str, Any]:
    operation = DOCUMENT["paths"][case.path][case.method.lower()]
    schema = _body_schema(operation) or {}
    properties = schema.get("properties", {})
    return {
        name: _value_for(name, properties.get(name, {}), objects, user_id)
        for name in schema.get("required", [])
    }


def _url(case: Case, objects: Objects) -> str:
    def fill(name: str) -> str:
        if case.path_value is not None and name == case.field:
            return quote(case.path_value, safe="")
        return objects.ids.get(name, name)

    url = case.path
    for name in [p["name"] for p in _params(case) if p["in"] == "path"]:
        url = url.replace("{" + name + "}", fill(name))
    return url


def _params(case: Case) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = DOCUMENT["paths"][case.path][case.method.lower()].get(
        "parameters", []
    )
    return params


def _names_the_field(case: Case, body: dict[str, Any]) -> bool:
    errors = body.get("errors") or {}
    field = case.field or ""
    # `deadline.value` may be reported on `deadline`, `sort_by` on its alias `sort`
    return any(key.startswith(field) or field.startswith(key) for key in errors)


@pytest.fixture(scope="module")
def arena(engine: Engine, client: TestClient) -> tuple[World, Objects]:
    world = World.create(make_session_factory(engine), client)
    return world, populate(world)


def send(world: World, objects: Objects, case: Case) -> Any:
    headers = {**world.admin.headers, "Content-Type": "application/json"}
    content = None
    if case.body is not None:
        body = {**_base_body(case, objects, world.admin.user_id), **case.body}
        content = json.dumps(body).encode()  # json, not orjson: integers beyond 64 bits
    return world.client.request(
        case.method, _url(case, objects), params=case.query, content=content, headers=headers
    )


BY_OPERATION: dict[tuple[str, str], list[Case]] = {}
for _case in CASES:
    BY_OPERATION.setdefault((_case.method, _case.path), []).append(_case)


@pytest.mark.parametrize("key", sorted(BY_OPERATION), ids=" ".join)
def test_input_families_never_reach_a_500(
    arena: tuple[World, Objects], key: tuple[str, str]
) -> None:
    world, objects = arena
    failures = []
    for case in BY_OPERATION[key]:
        response = send(world, objects, case)
        try:
            assert_safe(response)
            if response.status_code in (400, 422) and case.path_value is None:
                assert _names_the_field(case, response.json()), response.text[:300]
        except AssertionError as failure:
            failures.append(f"{case.label}: {response.status_code} {failure}")
    assert failures == []


def _run_with_date_fields(world: World) -> tuple[str, str, str, str]:
    """A run whose kick-off has a date field and whose first task a date capture."""
    kickoff_id, capture_id = uuid4().hex, uuid4().hex
    template = world.template(
        kickoff=[{"id": kickoff_id, "field_type": "date", "label": "Start"}],
        steps=[
            {
                "title": "Dated",
                "captures": [{"id": capture_id, "field_type": "datetime", "label": "When"}],
            }
        ],
    )
    run = world.launch(template)
    tasks = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    return run["id"], tasks[0]["id"], kickoff_id, capture_id


@pytest.mark.parametrize("stamp", sorted(EDGE_STAMPS.values()))
def test_form_values_and_deadlines_at_the_ends_of_the_calendar(world: World, stamp: str) -> None:
    """Kick-off and task form values, task and launch deadlines: answered, never a 500; a
    time that UTC cannot hold is a 422 naming the field."""
    run_id, task_id, kickoff_id, capture_id = _run_with_date_fields(world)
    template = world.call("GET", f"/runs/{run_id}").json()["data"]["checklist_id"]
    step_id = world.call("GET", f"/runs/{run_id}/tasks/{task_id}").json()["data"]["step_id"]
    writes = [
        ("PUT", f"/runs/{run_id}", {"prerun": {kickoff_id: stamp}}, f"prerun.{kickoff_id}"),
        ("PUT", f"/runs/{run_id}", {"taskdata": {capture_id: stamp}}, f"taskdata.{capture_id}"),
        ("PUT", f"/runs/{run_id}/tasks/{task_id}", {"deadline": stamp}, "deadline"),
        (
            "PUT",
            f"/runs/{run_id}/tasks/{task_id}",
            {"taskdata": {capture_id: stamp}},
            f"taskdata.{capture_id}",
        ),
        (
            "POST",
            "/tasks",
            {"title": "Dated", "deadline": stamp, "owners": {"users": [world.admin.user_id]}},
            "deadline",
        ),
        (
            "POST",
            "/runs",
            {"checklist_id": template, "name": "Dated", "prerun": {kickoff_id: stamp}},
            f"prerun.{kickoff_id}",
        ),
        (
            "POST",
            "/runs",
            {"checklist_id": template, "name": "Dated", "tasks": {step_id: {"deadline": stamp}}},
            f"tasks.{step_id}.deadline",
        ),
    ]
    unrepresentable = "+01:00" in stamp or "-01:00" in stamp
    for method, path, body, field in writes:
        response = world.call(method, path, json=body)
        assert_safe(response)
        if unrepresentable:
            assert response.status_code == 422, (path, body, response.text)
            assert field in response.json()["errors"], response.text
        else:
            assert response.status_code in (200, 201), (path, body, response.text)
    for name in ("deadline_before", "deadline_after"):
        for path in ("/tasks", f"/runs/{run_id}/tasks"):
            response = world.call("GET", path, params={name: stamp})
            assert_safe(response)
            assert response.status_code == (400 if unrepresentable else 200), response.text
