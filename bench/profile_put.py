"""Where a `PUT /runs/{id}` spends its time, without HTTP or a load generator.

Drives procflow's ASGI app directly (the same app `procflow serve` runs) on a seeded
database, counts the SQL statements each PUT sends, times the PUTs, and optionally
profiles them with cProfile.

    PROCFLOW_DATABASE_URL=sqlite:///bench/results/procflow-bench.db \\
        .venv/bin/python bench/profile_put.py --org ORG --token TOKEN [--profile] [--n 2000]
"""

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import random
import time
from collections import Counter
from typing import Any

from sqlalchemy import event

from procflow.api.app import create_app
from procflow.settings import Settings
from procflow.storage.database import make_engine
from procflow.storage.migrate import upgrade
from procflow.storage.sqlite.checkpointer import start_for
from procflow.storage.sqlite.gate import WriteGate

BODY = json.dumps(
    {
        "name": "Onboarding - Globex Corp (Updated)",
        "summary": "Updated summary notes for this run.",
        "prevent_guest_comment": True,
    }
).encode()


async def call(app: Any, path: str, token: str, method: str = "PUT") -> tuple[int, bytes]:
    """One request through the ASGI app, as uvicorn would hand it over."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(BODY)).encode()),
        ],
    }
    sent = False
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        body = BODY if method == "PUT" else b""
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def _gc_timer(pauses: list[float]) -> Any:
    begun = [0.0]

    def timer(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            begun[0] = time.perf_counter()
        else:
            pauses.append(1000 * (time.perf_counter() - begun[0]))

    return timer


async def breakdown(app: Any, org: str, token: str, run_ids: list[str]) -> None:
    """Mean wall time of each layer of a PUT, measured on its own, on fresh runs each time."""
    from procflow.api.presenters.runs import run_json
    from procflow.api.responses import JsonResponse
    from procflow.domain.timeutil import utcnow
    from procflow.services import auth, runs
    from procflow.services.unit_of_work import UnitOfWork
    from procflow.storage.models import Run
    from procflow.storage.repositories import runs as repo

    factory = app.state.session_factory
    patch = json.loads(BODY)
    ids = iter(run_ids)
    n = 500

    def timed(label: str, step: Any) -> None:
        begun = time.perf_counter()
        for _ in range(n):
            step(next(ids))
        print(f"  {1e6 * (time.perf_counter() - begun) / n:7.0f} us  {label}")

    async def timed_async(label: str, step: Any) -> None:
        begun = time.perf_counter()
        for _ in range(n):
            await step(next(ids))
        print(f"  {1e6 * (time.perf_counter() - begun) / n:7.0f} us  {label}")

    with UnitOfWork(factory, write=False) as uow:
        caller = auth.caller_in(uow, token, org)

    async def full_put(run_id: str) -> None:
        status, body = await call(app, f"/organizations/{org}/runs/{run_id}", token)
        assert status == 200, body

    async def health(_run_id: str) -> None:
        await call(app, "/health", token, "GET")

    def empty_write_transaction(_run_id: str) -> None:
        with UnitOfWork(factory, write=True) as uow:
            uow.session.connection()

    def authenticate(_run_id: str) -> None:
        with UnitOfWork(factory, write=False) as uow:
            auth.caller_in(uow, token, org)

    def seeded(uow: UnitOfWork, run_id: str) -> Run:
        run = repo.get(uow.session, org, run_id)
        assert run is not None, "the seed's runs are there"
        return run

    def read_bundle(run_id: str) -> None:
        with UnitOfWork(factory, write=False) as uow:
            repo.bundle(uow.session, seeded(uow, run_id))

    def service_update(run_id: str) -> None:
        with UnitOfWork(factory, write=True) as uow:
            runs.update_run(uow, caller, run_id, patch)

    with UnitOfWork(factory, write=False) as uow:
        sample = repo.bundle(uow.session, seeded(uow, run_ids[0]))

    def present(_run_id: str) -> None:
        JsonResponse({"data": run_json(sample, frozenset(), utcnow())})

    def raw_sqlite_floor(run_id: str) -> None:
        connection = app.state.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(
                "UPDATE run SET name=?, summary=?, prevent_guest_comment=1, "
                "last_updated=? WHERE id=? AND org_id=?",
                (patch["name"], patch["summary"], str(utcnow()), run_id, org),
            )
            cursor.execute("SELECT * FROM run WHERE id=?", (run_id,)).fetchone()
            cursor.execute("COMMIT")
        finally:
            connection.close()

    print(f"mean wall time per call, {n} calls each, each on runs not touched before:")
    await timed_async("ASGI PUT /runs/{id}, the whole request (no HTTP parsing)", full_put)
    await timed_async("ASGI GET /health (middleware + routing + JSON; no DB)", health)
    timed("auth.caller_in in a read UnitOfWork (no cache: one query)", authenticate)
    timed("runs.update_run in a write UnitOfWork (incl. BEGIN IMMEDIATE, COMMIT)", service_update)
    timed("repo.get + repo.bundle in a read UnitOfWork", read_bundle)
    timed(
        "empty write UnitOfWork (checkout, BEGIN IMMEDIATE, COMMIT, close)", empty_write_transaction
    )
    timed("run_json + JsonResponse (orjson) of one run", present)
    if str(app.state.engine.url).startswith("sqlite"):
        timed(
            "raw sqlite3 floor: BEGIN IMMEDIATE, UPDATE, SELECT, COMMIT (pooled conn.)",
            raw_sqlite_floor,
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--org", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--seed", type=int, default=7, help="which random runs to update")
    parser.add_argument(
        "--checkpointer",
        action="store_true",
        help="checkpoint SQLite's WAL from a background thread, as "
        "`procflow serve` does (by default SQLite checkpoints inline)",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="time each layer of the PUT on its own instead"
    )
    args = parser.parse_args()

    settings = Settings()
    upgrade(make_engine(settings))  # as `procflow serve` does; a seed may predate a migration
    app = create_app(settings)
    app.state.session_factory.keep_connection()  # as the server's lifespan does
    if args.checkpointer:  # `procflow serve` starts it in the app's lifespan
        gate = app.state.session_factory.write_gate = WriteGate()
        start_for(app.state.engine, gate, settings.sqlite_checkpoint_ms)
    statements: Counter[str] = Counter()

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[" ".join(statement.split())[:110]] += 1

    if not args.profile:  # the listener would show up in the profile
        event.listen(app.state.engine, "before_cursor_execute", _count)

    rng = random.Random(args.seed)
    paths = [
        f"/organizations/{args.org}/runs/{rng.randrange(args.runs):032x}" for _ in range(args.n)
    ]
    if args.breakdown:
        ids = [f"{i:032x}" for i in random.Random(args.seed).sample(range(args.runs), 8000)]
        for half in (ids[:4000], ids[4000:]):  # the first pass warms up; trust the second
            await breakdown(app, args.org, args.token, half)
        return
    for path in paths[:50]:  # warm-up: imports, pools, caches
        status, body = await call(app, path, args.token)
        assert status == 200, body
    statements.clear()
    pauses: list[float] = []
    gc.callbacks.append(_gc_timer(pauses))
    profiler = cProfile.Profile() if args.profile else None
    times: list[float] = []
    cpu: list[float] = []
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for path in paths[50:]:
        begun, begun_cpu = time.perf_counter(), time.thread_time()
        status, body = await call(app, path, args.token)
        times.append(1000 * (time.perf_counter() - begun))
        cpu.append(1000 * (time.thread_time() - begun_cpu))
        assert status == 200, body
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    n = len(paths) - 50
    times.sort()
    cpu.sort()
    print(
        f"{n} PUTs in {elapsed:.2f}s: {n / elapsed:,.0f}/s, {1000 * elapsed / n:.2f} ms each; "
        f"p50 {times[n // 2]:.2f} ms, p99 {times[int(n * 0.99)]:.2f} ms, "
        f"max {times[-1]:.1f} ms, {sum(t > 20 for t in times)} over 20 ms"
    )
    print(
        f"CPU time per PUT: mean {sum(cpu) / n:.2f} ms, p50 {cpu[n // 2]:.2f} ms, "
        f"p99 {cpu[int(n * 0.99)]:.2f} ms, max {cpu[-1]:.1f} ms"
    )
    print(
        f"gc: {len(pauses)} collections, {sum(pauses):.1f} ms in total, "
        f"longest {max(pauses, default=0):.1f} ms"
    )
    if not args.profile:
        print(
            f"SQL statements through SQLAlchemy per PUT: {sum(statements.values()) / n:.1f}"
            " (on SQLite the update path's read, UPDATE and INSERT go to the driver directly"
            " and are not counted)"
        )
    for statement, count in statements.most_common():
        print(f"  {count / n:5.2f}  {statement}")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(40)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    asyncio.run(main())
