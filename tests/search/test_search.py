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
    assert set(item) >= SDK_RESULT_KEYS
    assert item["organization_id"] == world.org_id
    assert item["folders"] == []
    assert isinstance(item["due_soon"], bool)
    assert isinstance(item["due_date_passed"], bool)


def test_a_template_is_found_by_name_as_the_sdk_looks_it_up(world: World) -> None:
    """`get_template(template_name=...)`: `on=blueprint&per_page=20&search=<name>`, then an
    exact, case-insensitive title among `blueprint.data`."""
    world.template(title="Expense claim")
    wanted = world.template(title="Expense")
    archived = world.template(title="Expense archived")
    assert world.call("DELETE", f"/checklists/{archived}").status_code == 200
    body = search(world, on="blueprint", per_page="20", search="expense")
    titles = names(body, "blueprint", "title")
    assert sorted(titles) == ["Expense", "Expense claim"]
    exact = [t for t in body["blueprint"]["data"] if t["title"].lower() == "expense"]
    assert exact[0]["id"] == wanted
    item = exact[0]
    assert {"steps_count", "is_public", "is_featured", "organization_id", "type"} <= set(item)
    assert item["folders"] == []


def test_every_kind_asked_for_has_a_page_and_snippets_are_empty(world: World) -> None:
    body = search(world, search="anything", on="blueprint,process,task,snippet,capture,step")
    assert list(body) == ["blueprint", "process", "task", "snippet", "capture", "step"]
    for page in body.values():
        assert page["data"] == []
        assert page["meta"]["pagination"]["total"] == 0
    assert list(search(world, search="anything")) == ["blueprint", "process", "task", "snippet"]


@pytest.mark.parametrize("on", ["runs", "process,nope", ""])
def test_an_unknown_kind_is_refused_in_tallyfys_error_shape(world: World, on: str) -> None:
    if not on:
        assert list(search(world, search="x", on=on)) == ["blueprint", "process", "task", "snippet"]
        return
    body = search(world, expect=422, search="x", on=on)
    assert body["error"] is True
    assert body["code"] == "VALIDATION_FAILED"
    assert "on" in body["errors"]


def test_tasks_steps_and_form_fields_are_searchable(world: World) -> None:
    checklist = world.template(
        title="Audit",
        steps=[
            {
                "title": "Reconcile ledgers",
                "captures": [{"field_type": "text", "label": "Ledger id"}],
            }
        ],
    )
    run = world.launch(checklist, name="Audit 2026")
    tasks = search(world, search="reconcile", on="task")["task"]["data"]
    assert [(t["title"], t["run_id"], t["is_oneoff_task"]) for t in tasks] == [
        ("Reconcile ledgers", run["id"], False)
    ]
    assert {"status_label", "position", "owners", "deadline", "starter_id"} <= set(tasks[0])
    steps = search(world, search="ledgers", on="step")["step"]["data"]
    assert [(s["title"], s["checklist_id"], s["checklist_title"]) for s in steps] == [
        ("Reconcile ledgers", checklist, "Audit")
    ]
    captures = search(world, search="ledger", on="capture")["capture"]["data"]
    assert [c["label"] for c in captures] == ["Ledger id"]


def test_paging_is_exact(world: World) -> None:
    checklist = world.template(title="Pager")
    for number in range(5):
        world.launch(checklist, name=f"Quokka {number}")
    first = search(world, search="quokka", on="process", per_page=2, page=1)["process"]
    third = search(world, search="quokka", on="process", per_page=2, page=3)["process"]
    assert first["meta"]["pagination"] | {"links": None} == {
        "total": 5,
        "count": 2,
        "per_page": 2,
        "current_page": 1,
        "total_pages": 3,
        "links": None,
    }
    assert "next" in first["meta"]["pagination"]["links"]
    assert len(third["data"]) == 1
    seen = [
        item["id"]
        for page in (1, 2, 3)
        for item in search(world, search="quokka", on="process", per_page=2, page=page)["process"][
            "data"
        ]
    ]
    assert len(set(seen)) == 5


def test_light_members_find_only_what_they_may_read(world: World) -> None:
    checklist = world.template(title="Walrus template", steps=[{"title": "Walrus step"}])
    hidden = world.launch(checklist, name="Walrus hidden")
    mine = world.launch(checklist, name="Walrus mine", owner_id=world.light.user_id)
    as_light = search(world, world.light, search="walrus", on="process,task,blueprint,step")
    assert [r["id"] for r in as_light["process"]["data"]] == [mine["id"]]
    assert {t["run_id"] for t in as_light["task"]["data"]} <= {mine["id"]}
    assert names(as_light, "blueprint", "title") == ["Walrus template"]
    assert names(as_light, "step", "title") == ["Walrus step"]
    as_standard = search(world, world.standard, search="walrus", on="process")
    assert {r["id"] for r in as_standard["process"]["data"]} == {hidden["id"], mine["id"]}


def test_archived_runs_and_other_organizations_stay_out(world: World, other_world: World) -> None:
    checklist = world.template(title="Narwhal")
    kept = world.launch(checklist, name="Narwhal kept")
    gone = world.launch(checklist, name="Narwhal archived")
    assert world.call("DELETE", f"/runs/{gone['id']}").status_code in (200, 204)
    foreign = other_world.template(title="Narwhal elsewhere")
    other_world.launch(foreign, name="Narwhal elsewhere")
    body = search(world, search="narwhal", on="process,blueprint,task")
    assert [r["id"] for r in body["process"]["data"]] == [kept["id"]]
    assert names(body, "blueprint", "title") == ["Narwhal"]
    assert "elsewhere" not in str(body)


def test_the_index_follows_every_write(world: World) -> None:
    checklist = world.template(title="Pangolin", steps=[{"title": "Pangolin step"}])
    run = world.launch(checklist, name="Pangolin run")
    renamed = world.call("PUT", f"/runs/{run['id']}", json={"name": "Okapi run"})
    assert renamed.status_code == 200, renamed.text
    assert search(world, search="pangolin", on="process")["process"]["data"] == []
    assert names(search(world, search="okapi", on="process"), "process") == ["Okapi run"]
    assert world.call("DELETE", f"/runs/{run['id']}").status_code in (200, 204)
    assert world.call("DELETE", f"/runs/{run['id']}/delete").status_code in (200, 204)
    assert search(world, search="okapi", on="process,task")["process"]["data"] == []
    assert world.call("DELETE", f"/checklists/{checklist}").status_code == 200
    assert world.call("DELETE", f"/checklists/{checklist}/delete").status_code == 200
    assert search(world, search="pangolin", on="blueprint,step,task") == {
        kind: search(world, search="nothing-at-all", on=kind)[kind]
        for kind in ("blueprint", "step", "task")
    }


def test_a_refused_write_leaves_the_index_untouched(world: World) -> None:
    response = world.call(
        "POST",
        "/checklists",
        json={"title": "Axolotl", "steps": [{"title": "Axolotl step", "assignees": [2147483000]}]},
    )
    assert response.status_code == 422
    body = search(world, search="axolotl", on="blueprint,step")
    assert body["blueprint"]["data"] == []
    assert body["step"]["data"] == []


HOSTILE = [
    '"',
    '"unterminated',
    "a* OR b*",
    "NEAR(a b, 2)",
    "title:x",
    "-x +y",
    "(((",
    "AND",
    "' OR 1=1 --",
    "x" * 500,
    "² ³ ¼",
    "🦄 🙂",
    "\u0301\u0301",
    "日本語",
    "%_\\",
    "a & b | !c <-> d:*",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_search_text_breaks_the_query(world: World, text: str) -> None:
    response = world.call(
        "GET", "/search", params={"search": text, "on": "blueprint,process,task,step,capture"}
    )
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"blueprint", "process", "task", "step", "capture"}


def test_q_is_an_alias_of_search(world: World) -> None:
    checklist = world.template(title="Ibis")
    world.launch(checklist, name="Ibis run")
    assert names(search(world, q="ibis", on="process"), "process") == ["Ibis run"]


def test_sqlite_index_rows_match_the_tables(world: World, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("the FTS5 key table exists on SQLite only")
    checklist = world.template(title="Tapir", steps=[{"title": "A"}, {"title": "B"}])
    world.launch(checklist, name="Tapir run")
    with engine.connect() as connection:
        for kind, table in (("blueprint", "checklist"), ("process", "run"), ("step", "step")):
            keys = connection.execute(
                text("SELECT count(*) FROM search_key WHERE kind = :kind"), {"kind": kind}
            ).scalar()
            rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            assert keys == rows, kind
        indexed = connection.execute(text("SELECT count(*) FROM search_fts")).scalar()
        keyed = connection.execute(text("SELECT count(*) FROM search_key")).scalar()
        assert indexed == keyed


def test_postgres_uses_gin_indexes(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%search_vector'")
        ).all()
    assert {row.indexname for row in found} == {
        f"ix_{table}_search_vector" for table in ("checklist", "run", "task", "step", "form_field")
    }
    assert all("gin" in row.indexdef.lower() for row in found)


def test_an_overlong_search_text_is_refused(world: World) -> None:
    body = search(world, expect=400, search="x" * 501)
    assert body["code"] == "BAD_REQUEST"
    assert "search" in body["errors"]


def test_archiving_and_restoring_a_run_or_template_hides_and_shows_what_it_holds(
    world: World,
) -> None:
    checklist = world.template(
        title="Quokka",
        steps=[{"title": "Quokka step", "captures": [{"field_type": "text", "label": "Quokka"}]}],
    )
    run = world.launch(checklist, name="Quokka run")
    kinds = "process,task,blueprint,step,capture"

    def totals() -> dict[str, int]:
        body = search(world, search="quokka", on=kinds)
        return {kind: body[kind]["meta"]["pagination"]["total"] for kind in kinds.split(",")}

    everything = {"process": 1, "task": 1, "blueprint": 1, "step": 1, "capture": 1}
    assert totals() == everything
    assert world.call("DELETE", f"/runs/{run['id']}").status_code in (200, 204)
    assert totals() == everything | {"process": 0, "task": 0}
    assert world.call("PUT", f"/runs/{run['id']}/activate").status_code == 200
    assert totals() == everything
    assert world.call("DELETE", f"/checklists/{checklist}").status_code == 200
    assert totals() == everything | {"blueprint": 0, "step": 0, "capture": 0}
    assert world.call("PUT", f"/checklists/{checklist}/activate").status_code == 200
    assert totals() == everything
