"""A name (or guest email) a concurrent request takes between check and write is a 422.

Two requests through two server processes can both pass the service's "is this name
free, ignoring case?" check; the unique index on the folded name then refuses the
second insert. Here the check is made to miss (as it would, running before the other
request committed) so that the index answers, and the client must see exactly the
answer the check gives.
"""

import pytest

from procflow.storage.repositories import groups as group_repo
from procflow.storage.repositories import guests as guest_repo
from procflow.storage.repositories import taxonomy as tag_repo
from tests.factories import World


def taken(field: str, message: str) -> dict[str, object]:
    return {
        "error": True,
        "message": "The given data was invalid.",
        "code": "VALIDATION_FAILED",
        "errors": {field: [message]},
    }


@pytest.fixture
def check_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(group_repo, "name_taken", lambda *_args, **_kw: False)
    monkeypatch.setattr(tag_repo, "title_taken", lambda *_args, **_kw: False)


@pytest.mark.parametrize(
    ("path", "field"), [("/tags", "title"), ("/groups", "name")], ids=["tag", "group"]
)
def test_creating_a_name_the_index_holds_is_a_422(
    world: World, check_misses: None, path: str, field: str
) -> None:
    assert world.call("POST", path, json={field: "Straße"}).status_code == 201
    response = world.call("POST", path, json={field: "STRASSE"})
    assert response.status_code == 422
    assert response.json() == taken(field, f"The {field} has already been taken.")
    assert len(world.call("GET", path).json()["data"]) == 1


@pytest.mark.parametrize(
    ("path", "field"), [("/tags", "title"), ("/groups", "name")], ids=["tag", "group"]
)
def test_renaming_to_a_name_the_index_holds_is_a_422_and_changes_nothing(
    world: World, check_misses: None, path: str, field: str
) -> None:
    world.call("POST", path, json={field: "Billing"})
    other = world.call("POST", path, json={field: "Sales"}).json()["data"]["id"]
    response = world.call("PUT", f"{path}/{other}", json={field: "BILLING"})
    assert response.status_code == 422
    assert response.json() == taken(field, f"The {field} has already been taken.")
    assert world.call("GET", f"{path}/{other}").json()["data"][field] == "Sales"


def test_a_guest_email_added_concurrently_is_a_422(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guest_repo, "by_email", lambda *_args, **_kw: None)
    assert world.call("POST", "/guests", json={"email": "g@x.example"}).status_code == 201
    response = world.call("POST", "/guests", json={"email": "G@x.example"})
    assert response.status_code == 422
    assert response.json() == taken("email", "The email has already been taken.")
