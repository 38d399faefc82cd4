"""Instructions (or CPU time) per `PUT /runs/{id}`: figures that load on a shared machine
cannot blur.

Runs PUTs through the ASGI app (as `bench/profile_put.py` does) under
`valgrind --tool=callgrind`, with instrumentation switched on only after a warm-up and
off again after the measured series, on a copy of a seeded database: a SQLite file, or a
PostgreSQL database (`--database-url`, seeded by `bench/seed.py`) copied with
`CREATE DATABASE ... TEMPLATE`. Needs valgrind.

On PostgreSQL each request's transaction runs on the server's database threads
(`storage.threads`, `--threads`, 0 for none), as `procflow serve` does. `--cpu` skips
valgrind and prints instead, per PUT, the CPU time of this process (all its threads) and
of the PostgreSQL backends serving it (from /proc), and the statements sent: two CPU
figures that other work on the machine disturbs far less than wall time.

    .venv/bin/python bench/count_put.py --db bench/results/procflow-bench.db \\
        --seed-json bench/results/seed-sqlite.json [--n 200]
    .venv/bin/python bench/count_put.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/procflow_bench \\
        --seed-json bench/results/seed-pg.json [--n 200] [--threads 16] [--cpu]
"""

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def callgrind(switch: str) -> None:
    subprocess.run(
        ["callgrind_control", "-i", switch, str(os.getpid())], capture_output=True, check=True
    )


def cpu_seconds() -> tuple[float, float]:
    """User and system CPU time of this process, all its threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def backend_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of PostgreSQL backends, from /proc/<pid>/stat."""
    ticks = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


async def series(url: str, args: argparse.Namespace, org: str, token: str) -> None:
    os.environ["PROCFLOW_DATABASE_URL"] = url
    sys.path.insert(0, str(BENCH))
    from profile_put import call
    from sqlalchemy import event

    from procflow.api.app import create_app
    from procflow.settings import Settings
    from procflow.storage.threads import DatabaseThreads

    app = create_app(Settings())
    factory = app.state.session_factory
    factory.keep_connection()  # as the server's lifespan does
    if not url.startswith("sqlite") and args.threads:
        factory.threads = DatabaseThreads(args.threads)  # as the server's lifespan does
    backends: list[int] = []
    statements = [0]

    def connected(dbapi_connection: Any, _record: Any) -> None:
        backends.append(dbapi_connection.info.backend_pid)

    if args.cpu and not url.startswith("sqlite"):
        import psycopg

        event.listen(app.state.engine, "connect", connected)
        execute, executemany = psycopg.Cursor.execute, psycopg.Cursor.executemany

        def counted(cursor: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            statements[0] += 1
            if os.environ.get("COUNT_PUT_SHOW"):
                print(" ".join(str(query).split())[:100])
            return execute(cursor, query, params, **kwargs)

        def counted_many(cursor: Any, query: Any, params_seq: Any, **kwargs: Any) -> Any:
            params_seq = list(params_seq)
            statements[0] += len(params_seq)
            return executemany(cursor, query, params_seq, **kwargs)

        psycopg.Cursor.execute = counted  # type: ignore[method-assign,assignment]
        psycopg.Cursor.executemany = counted_many  # type: ignore[method-assign,assignment]
    runs = random.Random(7).sample(range(args.runs), args.warmup + args.n)

    async def put(i: int) -> None:
        status, body = await call(app, f"/organizations/{org}/runs/{i:032x}", token)
        assert status == 200, body

    for i in runs[: args.warmup]:
        await put(i)
    statements[0] = 0
    if args.cpu:
        client, server = cpu_seconds(), backend_cpu_seconds(backends)
    else:
        callgrind("on")
    for i in runs[args.warmup :]:
        await put(i)
    if not args.cpu:
        callgrind("off")
        return
    (user, system), server = cpu_seconds(), backend_cpu_seconds(backends) - server
    user, system, n = user - client[0], system - client[1], args.n
    print(
        f"{1000 * (user + system) / n:.3f} ms CPU per PUT in procflow's process "
        f"({1000 * user / n:.3f} user, {1000 * system / n:.3f} system), "
        f"{1000 * server / n:.3f} ms in PostgreSQL's backends ({len(backends)}), "
        f"{statements[0] / n:.1f} statements per PUT besides BEGIN and COMMIT ({n} PUTs)"
    )


@contextmanager
def copied_database(args: argparse.Namespace, tmp: str) -> Iterator[str]:
    """The URL of a fresh copy of the seeded database, dropped afterwards."""
    if args.db:
        db = Path(tmp) / "copy.db"
        shutil.copyfile(args.db, db)
        yield f"sqlite:///{db}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(args.database_url)
    copy = f"{url.database}_count_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
        connection.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{url.database}"'))
    try:
        yield url.set(database=copy).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--db", help="a seeded SQLite file (copied, not changed)")
    where.add_argument("--database-url", help="a seeded PostgreSQL database (copied)")
    parser.add_argument("--seed-json", required=True)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16, help="PostgreSQL's request threads")
    parser.add_argument("--cpu", action="store_true", help="CPU time instead of instructions")
    parser.add_argument("--keep", type=Path, help="keep callgrind's output (callgrind_annotate)")
    parser.add_argument("--series", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seeded = json.loads(Path(args.seed_json).read_text())
    args.runs = seeded.get("runs", 100_000)
    if args.series:
        asyncio.run(series(args.series, args, seeded["org_id"], seeded["token"]))
        return
    with tempfile.TemporaryDirectory() as tmp, copied_database(args, tmp) as url:
        cmd = [
            sys.executable,
            __file__,
            *sys.argv[1:],
            "--series",
            url,
        ]
        if args.cpu:
            subprocess.run(cmd, check=True)
            return
        valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        cmd = [*valgrind, f"--callgrind-out-file={tmp}/callgrind.out", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if args.keep:
            shutil.copyfile(f"{tmp}/callgrind.out", args.keep)
    match = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or not match:
        sys.exit(done.stderr[-3000:])
    print(f"{int(match.group(1)) / args.n / 1e6:.3f} M instructions per PUT ({args.n} PUTs)")


if __name__ == "__main__":
    main()
