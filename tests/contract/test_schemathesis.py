"""Schemathesis against the served OpenAPI document: every operation, every check.

Most generated cases get their path parameters replaced by the real ids of a seeded
organization (deleting operations get one of their own), so the checks see successful
responses and validation errors, not only 404s. What is adjusted, and why, is in
`tests.contract.adjust`.
"""

import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from schemathesis import Case
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy import Engine

from procflow.storage.database import make_session_factory
from tests.contract.adjust import as_integers, excluded_checks, schema, use_fresh_headers
from tests.contract.seeded import Seeded, seed

REAL_ID_SHARE = 4  # three in four generated ids are replaced by real ones


@pytest.fixture(scope="module")
def seeded_for(engine: Engine, client: TestClient) -> Callable[[str], Seeded]:
    factory = make_session_factory(engine)
    cache: dict[str, Seeded] = {}

    def get(label: str) -> Seeded:
        # A deleting (or member/guest converting) operation gets an organization of its
        # own, so that the objects the other operations name stay in place.
        removes = label.startswith("DELETE ") or label.endswith(("/to/guest", "/to/member"))
        key = label if removes else "shared"
        if key not in cache:
            cache[key] = seed(factory, client)
        return cache[key]

    return get


@pytest.fixture(scope="module")
def tally(request: pytest.FixtureRequest) -> Iterator[Counter[str]]:
    counts: Counter[str] = Counter()
    yield counts
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        examples = sum(counts.values())
        reporter.write_line(f"schemathesis: {len(counts)} operations, {examples} examples")


def use_real_ids(case: Case[Any], seeded: Seeded) -> None:
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH):
        return
    params = case.path_parameters or {}
    for name, generated in list(params.items()):
        if name not in seeded.path_values:
            continue
        if name == "org_id" or zlib.crc32(f"{name}={generated}".encode()) % REAL_ID_SHARE:
            params[name] = seeded.path_values[name]
    case.path_parameters = params


@schema.parametrize()
def test_operation_conforms(
    case: Case[Any], client: TestClient, seeded_for: Callable[[str], Seeded], tally: Counter[str]
) -> None:
    seeded = seeded_for(case.operation.label)
    tally[case.operation.label] += 1
    use_real_ids(case, seeded)
    use_fresh_headers(case)
    if isinstance(case.body, dict | list):
        case.body = as_integers(case.body)
    case.call_and_validate(
        headers=seeded.headers, app=client.app, excluded_checks=excluded_checks(case)
    )


def test_operation_tests_are_built_when_they_run(request: pytest.FixtureRequest) -> None:
    """The seam of `tests/contract/conftest.py` is still the one the plugin calls."""
    items = [i for i in request.session.items if i.name.startswith("test_operation_conforms[")]
    if not items:
        pytest.skip("no Schemathesis operation test selected")
    assert all(getattr(getattr(item, "obj", None), "built_when_run", False) for item in items)
