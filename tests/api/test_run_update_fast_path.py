"""`PUT /runs/{id}` answers the same with and without its fast path.

The fast path (`procflow.api.fast_path`) resolves the endpoint's parameters itself and
hands anything unusual to FastAPI. Each case here runs twice on twin runs, once with
the fast path and once without it, and must get the same status, headers that matter,
and body (ids and timestamps aside).
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest

from procflow.api import fast_path
from procflow.api.routes import runs as run_routes
from tests.factories import World

HEX_ID = re.compile(r"[0-9a-f]{32}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def without_fast_path() -> Iterator[Any]:
    def disable() -> Any:
        return fast_path._FAST_PATHS.pop(run_routes.update_run)

    saved: list[Any] = []
    yield lambda: saved.append(disable())
    if saved:
        fast_path._FAST_PATHS[run_routes.update_run] = saved[0]


def _scrub(value: Any) -> Any:
    """The body with what differs between twin runs (ids, times, numbers) blanked."""
    if isinstance(value, dict):
        return {
            HEX_ID.sub("<id>", key): "<n>" if key.endswith("id") else _scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return TIMESTAMP.sub("<time>", HEX_ID.sub("<id>", value))
    return value


def _shape(response: Any) -> tuple[int, Any, bool]:
    body = response.json() if response.content else None
    return response.status_code, _scrub(body), "etag" in response.headers


CASES: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    ("plain", {"name": "Renamed", "summary": "s", "prevent_guest_comment": True}, {}, ""),
    ("no-op", {}, {}, ""),
    ("with includes", {"starred": True}, {}, "?with=tags,folders,ko_form_fields"),
    ("with tasks", {"is_public": True}, {}, "?with=tasks,next_task,form_fields,checklist"),
    ("invalid body", {"name": "", "owner_id": "x"}, {}, ""),
    ("null name", {"name": None}, {}, ""),
    ("strict unknown key", {"name": "x", "bogus": 1}, {"Prefer": "handling=strict"}, ""),
    ("strict and invalid", {"name": 5, "bogus": 1}, {"Prefer": "handling=strict"}, ""),
    ("stale If-Match", {"name": "x"}, {"If-Match": '"0000"'}, ""),
    ("any If-Match", {"name": "x"}, {"If-Match": "*"}, ""),
    ("long If-Match", {"name": "x"}, {"If-Match": '"' + "a" * 5000 + '"'}, ""),
    ("long with", {"name": "x"}, {}, "?with=" + "a" * 600),
    ("bad token", {"name": "x"}, {"Authorization": "Bearer nope"}, ""),
    ("bad token and body", {"name": 5}, {"Authorization": "Bearer nope"}, ""),
    ("unknown tag", {"tags": ["f" * 32]}, {}, ""),
]


@pytest.mark.parametrize(("label", "body", "headers", "query"), CASES, ids=[c[0] for c in CASES])
def test_same_answer_with_and_without_the_fast_path(
    world: World,
    without_fast_path: Any,
    label: str,
    body: dict[str, Any],
    headers: dict[str, str],
    query: str,
) -> None:
    template = world.template()
    fast_run, standard_run = world.launch(template)["id"], world.launch(template)["id"]
    fast = world.call("PUT", f"/runs/{fast_run}{query}", json=body, headers=headers)
    without_fast_path()
    standard = world.call("PUT", f"/runs/{standard_run}{query}", json=body, headers=headers)
    assert _shape(fast) == _shape(standard), label


def test_an_organization_id_too_long_goes_the_standard_way(world: World) -> None:
    response = world.client.put(
        f"/organizations/{'a' * 65}/runs/{'b' * 32}", json={}, headers=world.admin.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "BAD_REQUEST"
