"""Whole-list requests (`without_pagination=true`, `pagination=false`, `/users-list`,
`/guests-list`) read at most `max_unpaged_items` items per request; a longer list is served
in pages of that size that Tallyfy's clients follow (`total`, `total_pages`, `links.next`)."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from procflow.api.app import create_app
from procflow.settings import Settings
from tests.factories import World

CAP = 3


@pytest.fixture(scope="module")
def capped(settings: Settings) -> Iterator[TestClient]:
    """The same database behind an app whose whole lists hold at most CAP items."""
    app = create_app(settings.model_copy(update={"max_unpaged_items": CAP}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def get(world: World, client: TestClient, path: str) -> Any:
    response = client.get(world.url(path), headers=world.admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def follow(world: World, client: TestClient, path: str) -> list[Any]:
    """Every item, walking `links.next` as Tallyfy's CLI does; each page at most CAP."""
    body = get(world, client, path)
    items = list(body["data"])
    while "next" in body["meta"]["pagination"]["links"]:
        assert len(body["data"]) == CAP
        next_url = body["meta"]["pagination"]["links"]["next"]
        response = client.get(next_url, headers=world.admin.headers)
        body = response.json()
        assert len(body["data"]) <= CAP
        items += body["data"]
    return items


def test_a_whole_list_longer_than_the_cap_comes_in_pages(world: World, capped: TestClient) -> None:
    template = world.template()
    launched = {world.launch(template, name=f"Run {i}")["id"] for i in range(CAP + 2)}
    body = get(world, capped, "/runs?without_pagination=true&with=tasks,form_fields,checklist")
    pagination = body["meta"]["pagination"]
    assert len(body["data"]) == CAP
    assert pagination | {"links": {}} == {
        "total": CAP + 2,
        "count": CAP,
        "per_page": CAP,
        "current_page": 1,
        "total_pages": 2,
        "links": {},
    }
    assert "without_pagination=true" in pagination["links"]["next"]
    assert "page=2" in pagination["links"]["next"]
    items = follow(world, capped, "/runs?without_pagination=true")
    assert {item["id"] for item in items} == launched
    assert len(items) == CAP + 2


def test_a_whole_list_within_the_cap_is_one_page_as_before(
    world: World, capped: TestClient
) -> None:
    world.launch(world.template())
    body = get(world, capped, "/runs?without_pagination=true")
    assert body["meta"]["pagination"] == {
        "total": 1,
        "count": 1,
        "per_page": 1,
        "current_page": 1,
        "total_pages": 1,
        "links": {},
    }


@pytest.mark.parametrize(
    "path", ["/tags?without_pagination=true", "/folders?pagination=false&q=Capped"]
)
def test_every_whole_list_is_capped(world: World, capped: TestClient, path: str) -> None:
    for i in range(CAP + 1):
        world.tag(f"Capped tag {i}")
        world.folder(f"Capped folder {i}")
    body = get(world, capped, path)
    assert len(body["data"]) == CAP
    assert body["meta"]["pagination"]["total"] == CAP + 1
    assert len(follow(world, capped, path)) == CAP + 1


@pytest.mark.parametrize("path", ["/users-list", "/guests-list"])
def test_the_unpaged_people_lists_stop_at_the_cap(
    world: World, capped: TestClient, path: str
) -> None:
    for i in range(CAP + 1):
        email = f"capped-{i}-{world.org_id[:8]}@example.com"
        response = world.call("POST", "/guests", json={"email": email})
        assert response.status_code == 201, response.text
    invited = world.call("POST", "/users/invite", json={"email": f"m-{world.org_id}@example.com"})
    assert invited.status_code == 200, invited.text  # four members with the world's three
    assert len(get(world, capped, path)["data"]) == CAP
    assert len(get(world, world.client, path)["data"]) > CAP  # the default cap is larger
