"""Seed a fresh procflow database for the run-update benchmark.

Creates the schema, one organization with an admin and a token (through the services, as
`procflow init` does), one template (two kick-off fields, three steps), a tag, and N runs
launched from that template: each with three tasks (each assigned to the admin), two
kick-off values and the tag. Runs are bulk-inserted with SQLAlchemy Core so that 100,000
of them take seconds, and run `i` has the id `f"{i:032x}"` so the load script can address
any of them without a lookup.

The database is PROCFLOW_DATABASE_URL (or --database-url). A SQLite file is deleted
first; a PostgreSQL database is dropped and created again, which is why its name must
contain "bench" (or start with "million", as `bench/million.py`'s do).

Prints one JSON line: {"org_id", "token", "runs", "user_id", "seconds"}.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, insert, text, update
from sqlalchemy.engine import make_url

from procflow.domain.timeutil import utcnow
from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import is_sqlite, make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from procflow.storage.models import (
    Checklist,
    FormField,
    Organization,
    Run,
    RunField,
    Step,
    Tag,
    TagLink,
    Task,
    TaskOwner,
)

BATCH = 5_000
STEPS = ("Collect documents", "Set up accounts", "Kick-off call")
KICKOFF = (("Client name", "text", "Globex Corp {}"), ("Contract size", "number", "{}"))


def fresh_database(url: str) -> None:
    """Start from nothing: delete the SQLite file, or drop and recreate the PG database."""
    parsed = make_url(url)
    if is_sqlite(url):
        name = parsed.database or ""
        if not name or name == ":memory:":
            raise SystemExit("seed: give a SQLite file, not an in-memory database")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(name + suffix).unlink(missing_ok=True)
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        return
    database = parsed.database or ""
    if "bench" not in database and not database.startswith("million"):
        raise SystemExit(
            f"seed: refusing to drop database {database!r}: its name must contain 'bench'"
            " or start with 'million'"
        )
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()


def create_template(engine: Engine, org_id: str, user_id: int) -> dict[str, Any]:
    """The template every seeded run was launched from, stored through the ORM."""
    with UnitOfWork(make_session_factory(engine), write=True) as uow:
        session = uow.session
        seq = organizations.next_sequence(uow, org_id, "checklist_seq")
        checklist = Checklist(
            org_id=org_id,
            increment_id=seq,
            title="Client onboarding",
            summary="Everything a new client goes through.",
            owner_id=user_id,
            created_by=user_id,
        )
        session.add(checklist)
        session.flush()
        fields = [
            FormField(
                checklist_id=checklist.id,
                field_type=kind,
                label=label,
                alias=f"kickoff-{n}",
                position=n,
                required=n == 1,
            )
            for n, (label, kind, _) in enumerate(KICKOFF, start=1)
        ]
        steps = [
            Step(checklist_id=checklist.id, title=title, alias=f"step-{n}", position=n)
            for n, title in enumerate(STEPS, start=1)
        ]
        session.add_all([*fields, *steps])
        tag = Tag(org_id=org_id, title="benchmark", color="#3366ff")
        session.add(tag)
        session.flush()
        return {
            "id": checklist.id,
            "title": checklist.title,
            "tag_id": tag.id,
            "fields": [
                (f.id, f.field_type, f.label, f.alias, f.position, f.required, value)
                for f, (_, _, value) in zip(fields, KICKOFF, strict=True)
            ],
            "steps": [(s.id, s.title, s.alias, s.position) for s in steps],
        }


def rows_for(
    i: int, org_id: str, user_id: int, template: dict[str, Any], at: datetime
) -> dict[str, list[dict[str, Any]]]:
    """Every row one launched run owns."""
    run_id = f"{i:032x}"
    created = at - timedelta(seconds=i)
    run = {
        "id": run_id,
        "org_id": org_id,
        "increment_id": i + 1,
        "checklist_id": template["id"],
        "checklist_title": template["title"],
        "name": f"Client onboarding - client {i}",
        "summary": None,
        "status": "active",
        "type": "procedure",
        "owner_id": user_id,
        "started_by": user_id,
        "parent_id": None,
        "starred": False,
        "is_public": False,
        "prevent_guest_comment": False,
        "prerun_completed_at": created,
        "prerun_completed_by": user_id,
        "created_at": created,
        "started_at": created,
        "last_updated": created,
        "completed_at": None,
        "archived_at": None,
        "version": 1,
    }
    tasks, owners = [], []
    for step_id, title, alias, position in template["steps"]:
        task_id = f"7{i:027x}{position:04x}"
        tasks.append(
            {
                "id": task_id,
                "org_id": org_id,
                "run_id": run_id,
                "step_id": step_id,
                "increment_id": 3 * i + position,
                "title": title,
                "alias": alias,
                "summary": None,
                "task_type": "task",
                "status": "completed" if position == 1 else "not-started",
                "position": position,
                "deadline": created + timedelta(days=7 * position),
                "started_at": created,
                "completed_at": created if position == 1 else None,
                "completer_id": user_id if position == 1 else None,
                "is_approved": None,
                "has_problem": False,
                "max_assignable": 0,
                "prevent_guest_comment": False,
                "flags": {},
                "created_at": created,
                "last_updated": created,
                "archived_at": None,
            }
        )
        owners.append(
            {"task_id": task_id, "user_id": user_id, "guest_email": None, "group_id": None}
        )
    fields = [
        {
            "run_id": run_id,
            "field_id": field_id,
            "task_id": None,
            "field_type": kind,
            "label": label,
            "alias": alias,
            "guidance": None,
            "position": position,
            "required": required,
            "options": [],
            "columns": [],
            "value": value.format(i),
            "last_updated": created,
        }
        for field_id, kind, label, alias, position, required, value in template["fields"]
    ]
    tag = {
        "tag_id": template["tag_id"],
        "run_id": run_id,
        "checklist_id": None,
        "tag_type": "private",
        "created_at": created,
    }
    return {
        "run": [run],
        "task": tasks,
        "task_owner": owners,
        "run_field": fields,
        "tag_link": [tag],
    }


# A mapped class's `__table__` is typed as a FromClause; these are Tables.
TABLES: dict[str, Table] = {
    "run": Run.__table__,  # type: ignore[dict-item]  # a Table
    "task": Task.__table__,  # type: ignore[dict-item]  # a Table
    "task_owner": TaskOwner.__table__,  # type: ignore[dict-item]  # a Table
    "run_field": RunField.__table__,  # type: ignore[dict-item]  # a Table
    "tag_link": TagLink.__table__,  # type: ignore[dict-item]  # a Table
}


def batches(
    count: int, make: Callable[[int], dict[str, list[dict[str, Any]]]]
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    for start in range(0, count, BATCH):
        batch: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        for i in range(start, min(start + BATCH, count)):
            for name, rows in make(i).items():
                batch[name].extend(rows)
        yield batch


def bulk_insert_runs(
    engine: Engine, count: int, org_id: str, user_id: int, template: dict[str, Any]
) -> None:
    """Insert `count` runs and their rows with Core executemany, one transaction."""
    at = utcnow().replace(microsecond=0)
    with engine.begin() as connection:
        for batch in batches(count, lambda i: rows_for(i, org_id, user_id, template, at)):
            for name, table in TABLES.items():  # parents before children
                connection.execute(insert(table), batch[name])
        connection.execute(
            update(Organization)
            .where(Organization.id == org_id)
            .values(run_seq=count, task_seq=3 * count)
        )


def settle(engine: Engine) -> None:
    """Leave no bulk-load debt for the measured requests to pay.

    Without this, the first SQLite checkpoint under load fsyncs the whole freshly written
    file, and PostgreSQL's autovacuum and checkpointer start on the new tables mid-run.
    """
    if is_sqlite(str(engine.url)):
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in ("organization", "membership", "access_token", *TABLES):
                connection.exec_driver_sql(f"VACUUM ANALYZE {name}")
            connection.exec_driver_sql("CHECKPOINT")
    os.sync()


def seed(url: str, count: int) -> dict[str, Any]:
    started = time.perf_counter()
    fresh_database(url)
    engine = make_engine(Settings(database_url=url))
    upgrade(engine)
    with UnitOfWork(make_session_factory(engine), write=True) as uow:
        creds = organizations.create_organization(
            uow, name="Benchmark Inc", admin_email="bench-admin@example.com"
        )
    template = create_template(engine, creds.org_id, creds.user_id)
    bulk_insert_runs(engine, count, creds.org_id, creds.user_id, template)
    settle(engine)
    engine.dispose()
    return {
        "org_id": creds.org_id,
        "token": creds.token,
        "runs": count,
        "user_id": creds.user_id,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=100_000, help="how many runs (100,000)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PROCFLOW_DATABASE_URL"),
        help="default: PROCFLOW_DATABASE_URL",
    )
    args = parser.parse_args()
    if not args.database_url:
        sys.exit("seed: set PROCFLOW_DATABASE_URL or pass --database-url")
    print(json.dumps(seed(args.database_url, args.runs)))


if __name__ == "__main__":
    main()
