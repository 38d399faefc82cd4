"""Tallyfy endpoints procflow does not serve answer 501 naming the endpoint, and the list in
`docs/compatibility.md` is the one in the code."""

import re
from pathlib import Path

import pytest

from procflow.api.unserved import UNSERVED
from tests.factories import World

DOC = Path(__file__).resolve().parents[2] / "docs" / "compatibility.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([^|]+) \|$")
SAMPLE_VALUE = {"user": "12345"}


def _documented() -> set[tuple[str, str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Tallyfy endpoints procflow does not serve", 1)[1].split("\n## ")[0]
    return {
        (m.group(1), m.group(2), m.group(3).strip())
        for line in section.splitlines()
        if (m := ROW.match(line))
    }


def _concrete(path: str, org_id: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return org_id if name == "org" else SAMPLE_VALUE.get(name, "0" * 32)

    return re.sub(r"\{([^/]+?)\}", value, path)


def test_the_documented_table_is_the_codes() -> None:
    assert _documented() == set(UNSERVED)
    assert len(UNSERVED) == len(set(UNSERVED))


def test_each_unserved_endpoint_answers_501_and_no_route_serves_it(world: World) -> None:
    for method, path, _area in UNSERVED:
        for prefix in ("", "/api"):
            url = prefix + _concrete(path, world.org_id)
            if prefix and path.startswith("/api/"):
                continue
            response = world.client.request(method, url, headers=world.admin.headers, json={})
            assert response.status_code == 501, (method, url, response.text)
            assert response.json() == {
                "error": True,
                "message": f"procflow does not serve Tallyfy's {method} {path} (yet).",
                "code": "ENDPOINT_NOT_IMPLEMENTED",
            }


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/organizations/x/nothing-here"), ("PATCH", "/organizations/x/custom-field-keys")],
)
def test_other_unknown_routes_stay_404(world: World, method: str, path: str) -> None:
    response = world.client.request(method, path, headers=world.admin.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "ENDPOINT_NOT_FOUND"
