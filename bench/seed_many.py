"""Seed up to a million runs, spread over statuses, tags and folders, in minutes.

`bench/seed.py` builds every row as a dict and inserts it through SQLAlchemy Core, which is
fine for 100,000 runs and takes ten minutes and more for a million. This seeder writes the
same kind of rows (same organization set-up, template, run and task ids, so the PUT load
script `put_procflow.lua` addresses them the same way) as plain tuples: on SQLite with the
driver's `executemany`, on PostgreSQL with `COPY ... FROM STDIN` in one transaction.

Unlike `seed.py`'s identical runs, these differ the way a list filter cares about (drawn
from a fixed random seed, so two databases of the same size hold the same runs):

- status: 60 % active (first task done), 25 % complete (every task done, `completed_at`
  set), 15 % with a problem on the second task;
- one of `--tags` tags (`tag-0` ... ) and one of `--folders` folders (`Folder 0` ... );
- created one minute apart, newest first (run `i` at `now - i` minutes), so deadlines
  (7, 14 and 21 days after creation) are passed for most old runs, as in a real account.

Every run has three tasks (each assigned to the admin), two kick-off values, its tag and
its folder. The database is PROCFLOW_DATABASE_URL (or --database-url): a SQLite file is
deleted first, a PostgreSQL database dropped and created again, so its name must contain
"bench" or start with "million".

Prints one JSON line: {"org_id", "token", "runs", "user_id", "tags", "folders", "seconds"}.
"""

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed as base  # bench/seed.py: fresh database, template, settling

from procflow.domain.timeutil import utcnow
from procflow.services import organizations
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import is_sqlite, make_engine, make_session_factory
from procflow.storage.migrate import upgrade
from procflow.storage.models import Folder, Organization, Tag

BATCH = 10_000
COLUMNS: dict[str, list[str]] = {  # parents before children
    "run": [
        "id",
        "org_id",
        "increment_id",
        "checklist_id",
        "checklist_title",
        "name",
        "summary",
        "status",
        "type",
        "owner_id",
        "started_by",
        "parent_id",
        "starred",
        "is_public",
        "prevent_guest_comment",
        "prerun_completed_at",
        "prerun_completed_by",
        "created_at",
        "started_at",
        "last_updated",
        "completed_at",
        "archived_at",
        "version",
    ],
    "task": [
        "id",
        "org_id",
        "run_id",
        "step_id",
        "increment_id",
        "title",
        "alias",
        "summary",
        "task_type",
        "status",
        "position",
        "deadline",
        "started_at",
        "completed_at",
        "completer_id",
        "is_approved",
        "has_problem",
        "max_assignable",
        "prevent_guest_comment",
        "flags",
        "created_at",
        "last_updated",
        "archived_at",
    ],
    "task_owner": ["task_id", "user_id"],
    "run_field": [
        "run_id",
        "field_id",
        "task_id",
        "field_type",
        "label",
        "alias",
        "guidance",
        "position",
        "required",
        "options",
        "columns",
        "value",
        "last_updated",
    ],
    "tag_link": ["tag_id", "run_id", "tag_type", "created_at"],
    "folder_link": ["folder_id", "run_id", "created_at"],
}


def stamp(at: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text, which PostgreSQL's COPY reads as a timestamp."""
    return at.strftime("%Y-%m-%d %H:%M:%S.000000")


def tags_and_folders(
    engine: Engine, org_id: str, tags: int, folders: int
) -> tuple[list[str], list[str]]:
    with UnitOfWork(make_session_factory(engine), write=True) as uow:
        tag_rows = [Tag(org_id=org_id, title=f"tag-{n}", color="#3366ff") for n in range(tags)]
        folder_rows = [
            Folder(org_id=org_id, name=f"Folder {n}", folder_type="run", position=n)
            for n in range(folders)
        ]
        uow.session.add_all([*tag_rows, *folder_rows])
        uow.session.flush()
        return [t.id for t in tag_rows], [f.id for f in folder_rows]


def runs_rows(
    count: int,
    org_id: str,
    user_id: int,
    template: dict[str, Any],
    tags: list[str],
    folders: list[str],
) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """Batches of rows, table by table, in COLUMNS' order."""
    rng = random.Random(20261207)
    at = utcnow().replace(second=0, microsecond=0)
    steps, fields = template["steps"], template["fields"]
    for start in range(0, count, BATCH):
        out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in COLUMNS}
        for i in range(start, min(start + BATCH, count)):
            draw = rng.random()
            done_upto = 3 if draw >= 0.60 and draw < 0.85 else 1
            problem = draw >= 0.85
            created_at = at - timedelta(minutes=i)
            created = stamp(created_at)
            status = "problem" if problem else "complete" if done_upto == 3 else "active"
            run_id = f"{i:032x}"
            out["run"].append(
                (run_id, org_id, i + 1, template["id"], template["title"],
                 f"Client onboarding - client {i}", None, status, "procedure", user_id, user_id,
                 None, False, False, False, created, user_id, created, created, created,
                 created if done_upto == 3 else None, None, 1)
            )  # fmt: skip
            for step_id, title, alias, position in steps:
                task_id = f"7{i:027x}{position:04x}"
                done = position <= done_upto
                out["task"].append(
                    (task_id, org_id, run_id, step_id, 3 * i + position, title, alias, None,
                     "task", "completed" if done else "not-started", position,
                     stamp(created_at + timedelta(days=7 * position)), created,
                     created if done else None, user_id if done else None, None,
                     problem and position == 2, 0, False, "{}", created, created, None)
                )  # fmt: skip
                out["task_owner"].append((task_id, user_id))
            for field_id, kind, label, alias, position, required, value in fields:
                out["run_field"].append(
                    (run_id, field_id, None, kind, label, alias, None, position, required,
                     "[]", "[]", json.dumps(value.format(i)), created)
                )  # fmt: skip
            out["tag_link"].append((tags[rng.randrange(len(tags))], run_id, "private", created))
            out["folder_link"].append((folders[rng.randrange(len(folders))], run_id, created))
        yield out


def write_sqlite(engine: Engine, batches: Iterator[dict[str, list[tuple[Any, ...]]]]) -> None:
    """One transaction per 100,000 runs, with a page cache of 1 GB: with the usual 64 MB,
    a transaction that writes gigabytes evicts (and writes out to the WAL) the same index
    pages over and over, and a million runs took over half an hour."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.execute("PRAGMA cache_size=-1000000")
        for n, batch in enumerate(batches):
            if n % (100_000 // BATCH) == 0:
                cursor.execute("COMMIT" if n else "BEGIN IMMEDIATE")
                if n:
                    cursor.execute("BEGIN IMMEDIATE")
            for name, columns in COLUMNS.items():
                marks = ", ".join("?" * len(columns))
                cursor.executemany(
                    f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", batch[name]
                )
        cursor.execute("COMMIT")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        raw.close()


def write_postgresql(engine: Engine, batches: Iterator[dict[str, list[tuple[Any, ...]]]]) -> None:
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:  # type: ignore[union-attr]  # psycopg
            cursor.execute("SET synchronous_commit = off")
            for batch in batches:
                for name, columns in COLUMNS.items():
                    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in batch[name]:
                            copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def settle(engine: Engine) -> None:
    base.settle(engine)
    if not is_sqlite(str(engine.url)):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for name in ("folder_link", "tag", "folder"):
                connection.exec_driver_sql(f"VACUUM ANALYZE {name}")
    else:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("ANALYZE")
        finally:
            raw.close()


def seed(url: str, count: int, tags: int, folders: int) -> dict[str, Any]:
    started = time.perf_counter()
    base.fresh_database(url)
    engine = make_engine(Settings(database_url=url))
    upgrade(engine)
    with UnitOfWork(make_session_factory(engine), write=True) as uow:
        creds = organizations.create_organization(
            uow, name="Benchmark Inc", admin_email="bench-admin@example.com"
        )
    template = base.create_template(engine, creds.org_id, creds.user_id)
    tag_ids, folder_ids = tags_and_folders(engine, creds.org_id, tags, folders)
    batches = runs_rows(count, creds.org_id, creds.user_id, template, tag_ids, folder_ids)
    (write_sqlite if is_sqlite(url) else write_postgresql)(engine, batches)
    with engine.begin() as connection:
        connection.execute(
            update(Organization)
            .where(Organization.id == creds.org_id)
            .values(run_seq=count, task_seq=3 * count)
        )
    settle(engine)
    engine.dispose()
    return {
        "org_id": creds.org_id,
        "token": creds.token,
        "runs": count,
        "user_id": creds.user_id,
        "tags": tag_ids,
        "folders": folder_ids,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--tags", type=int, default=10)
    parser.add_argument("--folders", type=int, default=20)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PROCFLOW_DATABASE_URL"),
        help="default: PROCFLOW_DATABASE_URL",
    )
    args = parser.parse_args()
    if not args.database_url:
        sys.exit("seed_many: set PROCFLOW_DATABASE_URL or pass --database-url")
    print(json.dumps(seed(args.database_url, args.runs, args.tags, args.folders)))


if __name__ == "__main__":
    main()
