"""Schemathesis's stateful phase: scenarios that follow the document's OpenAPI links.

A scenario starts with an operation that creates something (a process, a template, a
tag, ...), then uses the id its answer names in the operations the links lead to (read it,
change it, archive it, delete it, ...), every check applied to every answer. Requests
carry the admin's token, name the seeded organization, and take real ids for the objects
they refer to in their bodies three times in four, so that launches and filings succeed.
Hypothesis is derandomized: the same scenarios run every time.
"""

import zlib
from collections import Counter
from typing import Any

import hypothesis
import pytest
from fastapi.testclient import TestClient
from schemathesis import Case
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy import Engine

from procflow.storage.database import make_session_factory
from tests.contract.adjust import (
    ON_POSTGRES,
    as_integers,
    excluded_checks,
    schema,
    use_fresh_headers,
)
from tests.contract.seeded import Seeded, seed

SCENARIOS = 10 if ON_POSTGRES else 20  # fewer on PostgreSQL: see `adjust.MAX_EXAMPLES`
STEPS = 8  # at most, per scenario
REAL_ID_SHARE = 4


def with_real_ids(body: dict[str, Any], seeded: Seeded) -> dict[str, Any]:
    values = {**seeded.path_values, "subject_id": seeded.path_values["run_id"]}
    return {
        key: values[key]
        if key in values and zlib.crc32(f"{key}={value}".encode()) % REAL_ID_SHARE
        else value
        for key, value in body.items()
    }


def test_linked_operations_conform(
    engine: Engine, client: TestClient, request: pytest.FixtureRequest
) -> None:
    factory = make_session_factory(engine)
    answers: Counter[tuple[str, int]] = Counter()
    machine: Any = schema.as_state_machine()

    class Scenarios(machine):  # type: ignore[misc]  # a class built at run time
        seeded: Seeded

        def setup(self) -> None:
            # Each scenario in an organization of its own: a replayed scenario meets the
            # same state, so Hypothesis sees the same answers (and takes the same steps).
            self.seeded = seed(factory, client)

        def before_call(self, case: Case[Any]) -> None:
            seeded = self.seeded
            path = case.path_parameters
            negative = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
            if path and "org_id" in path and not negative:
                path["org_id"] = seeded.path_values["org_id"]
            use_fresh_headers(case)
            if isinstance(case.body, dict):
                case.body = with_real_ids(as_integers(case.body), seeded)

        def after_call(self, response: Any, case: Case[Any]) -> None:
            super().after_call(response, case)
            answers[case.operation.label, response.status_code] += 1

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"app": client.app, "headers": self.seeded.headers}

        def validate_response(
            self, response: Any, case: Case[Any], additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                excluded_checks=excluded_checks(case),
                headers=self.seeded.headers,
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Scenarios.run(
        settings=hypothesis.settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reached = {label for (label, status) in answers if status < 300}
        reporter.write_line(
            f"stateful: {answers.total()} calls, {len(reached)} operations answered 2xx"
        )
