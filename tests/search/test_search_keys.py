"""Equally good matches come newest first, and on SQLite the index keys that give that
order (a range per kind and organization, in date order inside it) stay right when a
date changes and when the migration renumbers an existing index."""

from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from procflow.storage.migrate import alembic_config, downgrade, upgrade
from procflow.storage.search_index import RANGE_BITS
from tests.factories import World

SLUG = "search_keys_in_date_order"


def found(world: World, word: str, kind: str = "process") -> list[str]:
    response = world.call("GET", "/search", params={"search": word, "on": kind})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()[kind]["data"]]


def redate(engine: Engine, table: str, row_id: str, at: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(f"UPDATE {table} SET created_at = '{at}' WHERE id = :id"), {"id": row_id}
        )


def test_equal_matches_come_newest_first_and_follow_a_changed_date(
    world: World, engine: Engine
) -> None:
    checklist = world.template(title="Capybara")
    first, second, third = (world.launch(checklist, name="Capybara run")["id"] for _ in range(3))
    assert found(world, "capybara") == [third, second, first]
    redate(engine, "run", third, "2001-02-03 04:05:06.000007")
    assert found(world, "capybara") == [second, first, third]
    redate(engine, "run", first, "2060-01-01 00:00:00.000000")
    assert found(world, "capybara") == [first, second, third]
    paged = [
        item["id"]
        for page in (1, 2)
        for item in world.call(
            "GET",
            "/search",
            params={"search": "capybara", "on": "process", "per_page": 2, "page": page},
        ).json()["process"]["data"]
    ]
    assert paged == [first, second, third]


def test_a_date_a_moment_before_a_whole_second_keeps_its_place(
    world: World, engine: Engine
) -> None:
    """SQLite rounds 15.9995 s up to 16 s: the key must not count that fraction twice."""
    checklist = world.template(title="Quokka")
    before, after = (world.launch(checklist, name="Quokka run")["id"] for _ in range(2))
    redate(engine, "run", before, "2030-05-06 07:08:15.999985")
    redate(engine, "run", after, "2030-05-06 07:08:16.000500")
    assert found(world, "quokka") == [after, before]


def keys(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT k.doc, k.kind, s.kind AS range_kind, s.org_id, k.created_at, f.rowid"
                    " FROM search_key AS k LEFT JOIN search_fts AS f ON f.rowid = k.doc"
                    f" LEFT JOIN search_scope AS s ON s.id = k.doc >> {RANGE_BITS}"
                    " ORDER BY k.doc"
                )
            )
        )


def test_the_migration_puts_every_key_in_its_range_in_date_order(
    world: World, other_world: World, engine: Engine
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the key ranges exist on SQLite only")
    checklist = world.template(title="Gecko", steps=[{"title": "Gecko step"}])
    runs = [world.launch(checklist, name="Gecko run")["id"] for _ in range(3)]
    other_world.launch(other_world.template(title="Gecko elsewhere"), name="Gecko elsewhere")
    redate(engine, "run", runs[2], "2001-02-03 04:05:06.000007")
    before = {kind: found(world, "gecko", kind) for kind in ("process", "blueprint", "step")}
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    (revision,) = [r for r in script.walk_revisions() if SLUG in (r.path or "")]
    assert isinstance(revision.down_revision, str)
    downgrade(engine, revision.down_revision)
    upgrade(engine)
    after = {kind: found(world, "gecko", kind) for kind in ("process", "blueprint", "step")}
    assert after == before
    assert before["process"] == [runs[1], runs[0], runs[2]]
    rows = keys(engine)
    assert rows
    assert all(row.rowid == row.doc and row.range_kind == row.kind for row in rows)
    by_range: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        # Keys count milliseconds: rows of one millisecond may come in any order.
        millisecond = str(row.created_at).replace("T", " ")[:23]
        by_range.setdefault((row.range_kind, row.org_id), []).append(millisecond)
    assert all(dates == sorted(dates) for dates in by_range.values())
