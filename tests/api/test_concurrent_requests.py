"""Requests that run at once in one server process (`storage.threads` on PostgreSQL).

Concurrency here is made by threads sending through the one test client, and proved by
a barrier that only opens when two requests are inside their transactions together: no
duration is measured or waited for (the barrier's timeout only bounds a failure).
"""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text

from procflow.storage.threads import DatabaseThreads
from tests.factories import World

BARRIER_TIMEOUT = 60  # bounds a failure (requests serialised) only; never reached on success


@pytest.fixture
def run_updates(client: TestClient) -> Iterator[list[tuple[str, int, Any]]]:
    """Where each run UPDATE ran (thread, connection, run id); two meet at a barrier."""
    engine = client.app.state.engine  # type: ignore[attr-defined]  # the app's own engine
    seen: list[tuple[str, int, Any]] = []
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)

    def meet(conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if "UPDATE RUN SET " in " ".join(statement.split()).upper():  # alone or in a WITH
            seen.append(
                (threading.current_thread().name, id(conn.connection.dbapi_connection), params)
            )
            barrier.wait()

    event.listen(engine, "before_cursor_execute", meet)
    yield seen
    event.remove(engine, "before_cursor_execute", meet)


@pytest.mark.pg
def test_two_updates_are_in_the_database_at_once_each_in_its_own_transaction(
    world: World, run_updates: list[tuple[str, int, Any]]
) -> None:
    template = world.template()
    runs = [world.launch(template)["id"] for _ in range(2)]

    def rename(run_id: str) -> int:
        return world.call("PUT", f"/runs/{run_id}", json={"name": f"n-{run_id}"}).status_code

    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(rename, runs)) == [200, 200]
    threads = {thread for thread, _, _ in run_updates}
    connections = {connection for _, connection, _ in run_updates}
    assert len(run_updates) == 2
    assert len(threads) == 2  # both waited at the barrier together, each on a thread
    assert len(connections) == 2  # each in its own transaction
    for run_id in runs:
        assert world.call("GET", f"/runs/{run_id}").json()["data"]["name"] == f"n-{run_id}"


def test_if_match_loses_no_update_under_concurrency(world: World, engine: Any) -> None:
    run_id = world.launch(world.template(), summary="0")["id"]
    clients, cycles = 6, 4

    def increment() -> int:
        refused = 0
        for _ in range(cycles):
            while True:
                current = world.call("GET", f"/runs/{run_id}")
                value = int(current.json()["data"]["summary"])
                answer = world.call(
                    "PUT",
                    f"/runs/{run_id}",
                    json={"summary": str(value + 1)},
                    headers={"If-Match": current.headers["etag"]},
                )
                if answer.status_code == 200:
                    break
                assert answer.status_code in (412, 503), answer.text
                refused += 1
        return refused

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda _: increment(), range(clients)))
    final = world.call("GET", f"/runs/{run_id}").json()["data"]["summary"]
    assert final == str(clients * cycles)
    with engine.connect() as conn:
        recorded = conn.execute(
            text("SELECT count(*) FROM activity WHERE run_id = :run AND field = 'summary'"),
            {"run": run_id},
        ).scalar_one()
    assert recorded == clients * cycles  # one record per acknowledged update, none for a 412


def test_database_threads_carry_results_errors_and_context() -> None:
    import asyncio
    import contextvars

    request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")
    threads = DatabaseThreads(2)
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)

    async def meet(tag: str) -> tuple[str, str]:
        barrier.wait()  # both coroutines at once, on two threads
        return tag, request_id.get()

    async def fail() -> None:
        raise LookupError("from a thread")

    async def main() -> tuple[Any, ...]:
        request_id.set("r-1")
        results = await asyncio.gather(threads.run(meet("a")), threads.run(meet("b")))
        with pytest.raises(LookupError):
            await threads.run(fail())
        return tuple(results)

    try:
        assert asyncio.run(main()) == (("a", "r-1"), ("b", "r-1"))
    finally:
        threads.close()
