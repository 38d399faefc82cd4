"""On PostgreSQL a run's lists are read in one statement (`run_lists_pg`); they must be
exactly what the one-statement-per-list reads give: same order, same values, same types."""

from typing import Any

import pytest
from sqlalchemy import Engine

from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.repositories import run_lists_pg
from procflow.storage.repositories import runs as repo
from tests.factories import World

KICKOFF: list[dict[str, Any]] = [
    {"field_type": "text", "label": "Client"},
    {"field_type": "date", "label": "Start"},
    {
        "field_type": "multiselect",
        "label": "Extras",
        "options": [{"id": 1, "text": "Früh"}, {"id": 2, "text": 'Late "q"'}],
    },
]


def _plain(value: Any) -> Any:
    """Rows and namespaces as (type, value) pairs, so that types are compared too."""
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "_mapping"):
        value = dict(value._mapping)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        value = dict(vars(value))
    if isinstance(value, dict):  # a per-list row repeats its pair's link_id: not compared
        return {k: _plain(v) for k, v in sorted(value.items()) if k != "link_id"}
    return (type(value).__name__, value)


def test_one_statement_reads_what_one_statement_per_list_reads(
    engine: Engine, world: World
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the one-statement read is PostgreSQL's")
    template = world.template(
        kickoff=[dict(f) for f in KICKOFF],
        steps=[{"title": "First", "deadline": {"value": 2, "unit": "days"}}, {"title": "Second"}],
    )
    run = world.launch(template)
    group = world.call("POST", "/groups", json={"name": "Reviewers"}).json()["data"]["id"]
    fields = {
        f["label"]: f["id"]
        for f in world.call("GET", f"/runs/{run['id']}?with=ko_form_fields").json()["data"][
            "ko_form_fields"
        ]["data"]
    }
    body = {
        "tags": [world.tag(), world.tag()],
        "folders": [world.folder()],
        "users": [world.standard.user_id, world.admin.user_id],
        "groups": [group],
        "prerun": {
            fields["Client"]: 'Ünïcode \\ "quoted"',
            fields["Start"]: "2026-12-01T09:30:00.120Z",
            fields["Extras"]: [{"id": 2, "text": 'Late "q"'}],
        },
    }
    updated = world.call("PUT", f"/runs/{run['id']}", json=body)
    assert updated.status_code == 200, updated.text
    with UnitOfWork(world.factory, write=False) as uow:
        stored = repo.get(uow.session, world.org_id, run["id"])
        assert stored is not None
        one = run_lists_pg.read(uow.session, run["id"])
        per_list = {
            "tags": repo._tags(uow.session, run["id"]),
            "folders": repo._folders(uow.session, run["id"]),
            "users": repo._users(uow.session, run["id"]),
            "groups": repo._groups(uow.session, run["id"]),
            "fields": repo._rows(uow.session, repo._FIELDS, run["id"]),
            "facts": sorted(repo.facts_of(uow.session, run["id"]), key=repr),
        }
    one["facts"] = sorted(one["facts"], key=repr)
    for name, expected in per_list.items():
        assert _plain(one[name]) == _plain(expected), name
    assert len(one["tags"]) == 2
    assert len(one["fields"]) == len(KICKOFF)
    assert any(fact.deadline is not None for fact in one["facts"])
