"""Fixtures for the data-safety tests: a served procflow on a database of its own."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stress.harness import Org, Server, bootstrap, database_kind, fresh_database


@dataclass(frozen=True)
class Live:
    server: Server
    org: Org
    kind: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """One running server per test module; tests isolate themselves by their own run."""
    kind = database_kind()
    workdir: Path = tmp_path_factory.mktemp("stress")
    with fresh_database(kind, workdir) as url:
        server = Server(url, workdir)
        server.start()
        try:
            yield Live(server, bootstrap(server), kind)
        finally:
            server.stop()
