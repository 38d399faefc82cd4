"""The run reader (`run_read`) gives what the ORM gives for the same rows: the same
values of the same types, in the same order, on SQLite and on PostgreSQL."""

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy import select

from procflow.domain.runs import TaskFacts
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Folder, FolderLink, Run, RunField, Tag, TagLink, Task
from procflow.storage.repositories import run_read
from procflow.storage.repositories.run_read_sql import FIELD_COLUMNS, RUN_COLUMNS
from procflow.storage.repositories.run_rows import FieldRow, RunRow
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
CAPTURE = {"field_type": "text", "label": "Notes"}


def test_the_rows_name_the_table_columns_in_order() -> None:
    assert [f.name for f in fields(RunRow)] == [c.name for c in RUN_COLUMNS]
    assert [f.name for f in fields(FieldRow)] == [c.name for c in FIELD_COLUMNS]


def _typed(value: Any) -> Any:
    """Values as (type, value) pairs, so that types are compared too."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def _columns(orm: Any, names: list[str]) -> dict[str, Any]:
    return {name: getattr(orm, name) for name in names}


def _populated(world: World) -> str:
    template = world.template(
        kickoff=[dict(f) for f in KICKOFF],
        steps=[
            {"title": "First", "deadline": {"value": 2, "unit": "days"}, "captures": [CAPTURE]},
            {"title": "Second"},
        ],
    )
    run = world.launch(template)
    group = world.call("POST", "/groups", json={"name": "Reviewers"}).json()["data"]["id"]
    listed = world.call("GET", f"/runs/{run['id']}?with=ko_form_fields").json()["data"]
    ids = {f["label"]: f["id"] for f in listed["ko_form_fields"]["data"]}
    body = {
        "tags": [world.tag(), world.tag()],
        "folders": [world.folder()],
        "users": [world.standard.user_id, world.admin.user_id],
        "groups": [group],
        "prerun": {
            ids["Client"]: 'Ünïcode \\ "quoted"',
            ids["Start"]: "2026-12-01T09:30:00.120Z",
            ids["Extras"]: [{"id": 2, "text": 'Late "q"'}],
        },
    }
    updated = world.call("PUT", f"/runs/{run['id']}", json=body)
    assert updated.status_code == 200, updated.text
    return str(run["id"])


def test_the_reader_gives_what_the_orm_gives(world: World) -> None:
    run_id = _populated(world)
    with UnitOfWork(world.factory, write=True) as uow:
        found = run_read.read_locked(uow.connection, world.org_id, run_id, with_captures=True)
        assert found is not None
        run, lists = found
        session = uow.session
        orm_run = session.get(Run, run_id)
        tag_rows = session.execute(
            select(TagLink.id, Tag).join(Tag).where(TagLink.run_id == run_id).order_by(TagLink.id)
        ).all()
        folder_rows = session.execute(
            select(FolderLink.id, Folder)
            .join(Folder)
            .where(FolderLink.run_id == run_id)
            .order_by(FolderLink.id)
        ).all()
        orm_fields = session.scalars(
            select(RunField)
            .where(RunField.run_id == run_id)
            .order_by(RunField.position, RunField.field_id)
        ).all()
        tasks = session.scalars(
            select(Task).where(Task.run_id == run_id, Task.archived_at.is_(None))
        ).all()
        names = [c.name for c in RUN_COLUMNS]
        assert _typed(asdict(run)) == _typed(_columns(orm_run, names))
        tag_names, folder_names = ["id", "title", "color", "auto_generated"], ["id", "name"]
        assert _typed([(link, asdict(tag)) for link, tag in lists.tags]) == _typed(
            [(link, _columns(tag, tag_names)) for link, tag in tag_rows]
        )
        assert _typed([(link, asdict(f)) for link, f in lists.folders]) == _typed(
            [(link, _columns(f, [*folder_names, "parent_id"])) for link, f in folder_rows]
        )
        field_names = [c.name for c in FIELD_COLUMNS]
        assert _typed([asdict(f) for f in lists.fields]) == _typed(
            [_columns(f, field_names) for f in orm_fields]
        )
        assert lists.users == [world.standard.user_id, world.admin.user_id]
        assert len(lists.groups) == 1
        assert sorted(map(repr, lists.facts)) == sorted(
            repr(TaskFacts(t.status, t.deadline, t.has_problem)) for t in tasks
        )
    assert len(lists.tags) == 2
    assert len(lists.fields) == len(KICKOFF) + 1
    assert any(fact.deadline is not None for fact in lists.facts)


def test_without_captures_only_kickoff_fields_and_lists_alone_agree(world: World) -> None:
    run_id = _populated(world)
    with UnitOfWork(world.factory, write=False) as uow:
        found = run_read.read_locked(uow.connection, world.org_id, run_id)
        assert found is not None
        _, lists = found
        alone = run_read.read_lists(uow.connection, run_id)
    assert [f.task_id for f in lists.fields] == [None] * len(KICKOFF)
    assert alone == lists


def test_no_run_outside_its_organization(world: World, other_world: World) -> None:
    run_id = world.launch(world.template())["id"]
    with UnitOfWork(world.factory, write=False) as uow:
        assert run_read.read_locked(uow.connection, other_world.org_id, run_id) is None
        assert run_read.read_locked(uow.connection, world.org_id, "f" * 32) is None
        assert run_read.read_locked(uow.connection, world.org_id, run_id) is not None
