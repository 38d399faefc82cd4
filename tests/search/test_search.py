"""`GET /search`: Tallyfy's parameters and result shape, ranking, paging, permissions, and
the full-text index kept in step with every write (triggers / generated columns)."""

from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.factories import Member, World

SDK_RESULT_KEYS = {"id", "increment_id", "status", "created_at"}


def search(
    world: World, member: Member | None = None, expect: int = 200, **params: Any
) -> dict[str, Any]:
    response = world.call("GET", "/search", member, params=params)
    assert response.status_code == expect, response.text
    body: dict[str, Any] = response.json()
    return body


def names(body: dict[str, Any], kind: str, key: str = "name") -> list[str]:
    return [item[key] for item in body[kind]["data"]]


def test_processes_are_found_by_a_word_prefix_best_match_first(world: World) -> None:
    checklist = world.template(title="Supplier vetting")
    world.launch(checklist, name="Quarterly audit", summary="zeppelin mention in passing")
    world.launch(checklist, name="Zeppelin onboarding")
    world.launch(checklist, name="Unrelated run")
    body = search(world, search="zeppel", on="process")
    assert set(body) == {"process"}
    assert names(body, "process") == ["Zeppelin onboarding", "Quarterly audit"]
    pagination = body["process"]["meta"]["pagination"]
    assert pagination["total"] == 2
    assert pagination["count"] == 2
    item = body["process"]["data"][0]
    assert SDK_RESULT_KEYS <= set(item)
    assert item["organization_id"] == world.org_id
    assert item["folders"] == []
    assert isinstance(item["due_soon"], bool)
    assert isinstance(item["due_date_passed"], bool)
