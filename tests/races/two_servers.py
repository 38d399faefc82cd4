"""Two `procflow serve` processes on one database, and requests raced between them.

A deployment past one process runs several servers on one PostgreSQL (or, on one host,
one SQLite file). A rule that a server checks before it writes holds there only if the
check and the write are one step for the database, whatever the other process does in
between. These helpers start two real servers on a fresh database (the stress harness's
`Server`, `bootstrap` and `Api`), and send two requests at once: each from its own
thread, over its own connection, to its own server, released together by a barrier.

Whether two requests really overlap is up to the scheduler; a test built on `race`
asserts only what must hold in every interleaving, so it passes on a loaded machine and
fails whenever one interleaving breaks the rule.
"""

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from tests.stress.harness import Api, Org, Server, bootstrap, database_kind, fresh_database, size

ROUNDS = size("RACE_ROUNDS", small=20, full=200)
BARRIER_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Pair:
    """Two servers on one database, the organization `procflow init` made, and a direct
    connection to the database for checking what it holds."""

    first: Server
    second: Server
    org: Org
    database: Engine

    def api(self, server: Server, org: Org | None = None) -> Api:
        return Api(server, org or self.org)

    def member(self, email: str, role: str) -> Org:
        """A new member of the organization, with a token of their own."""
        added = self.first.cli(
            "users", "add", "--org", self.org.org_id, "--email", email, "--role", role
        )
        return Org(self.org.org_id, int(added["user_id"]), str(added["token"]))

    def execute(self, sql: str, **params: Any) -> None:
        """A statement of the test's own, committed at once."""
        with self.database.begin() as connection:
            connection.execute(text(sql), params)

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.database.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]


@contextlib.contextmanager
def two_servers(workdir: Path) -> Iterator[Pair]:
    """Both servers run until the block ends; the database is dropped afterwards."""
    with fresh_database(database_kind(), workdir) as url:
        first, second = (Server(url, _subdir(workdir, name)) for name in ("first", "second"))
        database = create_engine(url)
        first.start()
        try:
            org = bootstrap(first)
            second.start()
            try:
                yield Pair(first, second, org, database)
            finally:
                second.stop()
        finally:
            first.stop()
            database.dispose()


def _subdir(workdir: Path, name: str) -> Path:
    path = workdir / name
    path.mkdir(exist_ok=True)
    return path


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run each call on its own thread, all released at once; their results in order.

    An exception in a call (a transport error, a failed assertion) is raised here, after
    every thread has finished."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    failures: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=BARRIER_TIMEOUT_S)
            results[index] = call()
        except BaseException as error:  # re-raised in the caller's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results
