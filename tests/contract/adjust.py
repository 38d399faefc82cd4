"""The served document as Schemathesis loads it, and what no OpenAPI document can say.

The schema is loaded in-process from `/openapi.json`; requests go straight to the ASGI app
with a real admin token. Generation is deterministic (fixed seed), so a run is repeatable.
Every check Schemathesis has is enabled; what is adjusted, and why:

- Unknown query parameters are ignored, as Tallyfy does; Schemathesis is told so
  (`allow-extra-parameters = false`) instead of sending them as "invalid" data.
- Generated `If-Match` / `If-None-Match` values almost never name the current version, and
  a generated `Idempotency-Key` is reused for different bodies; the first two are left out
  and the key is made unique per request (their own tests cover them).
- A 422 for schema-valid data is accepted only when every message says that the data
  names an object that does not exist or conflicts with stored state (`STATE_RULES`), or
  concerns a rule between two keys (`CROSS_FIELD`).
- JSON Schema counts `2.0` as an integer; the server takes JSON types strictly (as decided
  for Tallyfy's API) and wants `2`. Integral floats in generated bodies are sent as
  integers, which is the same value to every schema in the document.
- `DELETE` on a process, a template or a one-off task archives it, as in Tallyfy: reading
  it afterwards is meant to work, so `use_after_free` does not apply.
- A file upload is multipart: every part is text or bytes, and unknown parts are ignored
  as Tallyfy ignores them, so no generated "schema-violating" multipart body differs from
  a valid one in anything the server reads; `negative_data_rejection` does not apply
  (tests/files covers each refusal of an upload).
- A method that Tallyfy serves on a documented path and procflow does not (e.g. `DELETE
  /users/{id}`) answers 501 naming the endpoint (`api/unserved.py`), not 405.
"""

import itertools
import os
from typing import Any

import schemathesis
from schemathesis import Case, HookContext
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    negative_data_rejection,
    unsupported_method,
)

from procflow.api.unserved import unserved_endpoint
from tests.security.route_table import served_app

# The document and the code are the same on both databases, and the SQLite run of
# `scripts/test` proves the contract in full. The PostgreSQL run keeps every coverage case
# (boundary and negative values of every parameter and body: where the databases differ,
# in integer ranges, text and constraints) and the examples, with a third of the random ones.
ON_POSTGRES = os.environ.get("PROCFLOW_TEST_DB", "sqlite") == "postgres"
MAX_EXAMPLES = 4 if ON_POSTGRES else 6  # random ones, per operation
CONDITIONAL_HEADERS = ("If-Match", "If-None-Match")
# Messages of a 422 that depends on stored state, not on the request's shape.
STATE_RULES = (
    "The selected ",
    "No such ",
    "already",  # "has already been taken" (tag titles, guests' e-mails), "already archived"
    "Archive the ",
    "is not completed",
    "Only one-off tasks",
    "Reopen process tasks",
    "can be swapped",
    "is not a guest of",
    "Only labels ",
    "is not a member of",
    "is disabled",  # inviting a disabled member: enable them instead
)
# A form field's default value is checked against its field type, a rule between two keys;
# removing a member with `with_reassignment=true` needs `to`. An automation's operation
# must fit its condition's type, a verb its action's type, and an action carries what its
# type needs (assignees, deadline, webhook URL: public unless private ones are allowed).
CROSS_FIELD = (
    "default_value",
    "to",
    "operation",
    "action_verb",
    "assignees",
    "deadline",
    "webhook",
)
ORG = "/organizations/{org_id}"
# `DELETE` here archives; the object stays readable.
ARCHIVING = frozenset(
    f"DELETE {ORG}{path}"
    for path in ("/runs/{run_id}", "/checklists/{checklist_id}", "/tasks/{task_id}")
)
# `GET /runs/bulk-update` is `GET /runs/{run_id}` with the id "bulk-update" (a 404), and
# so for every literal segment beside an `{id}` one: other methods do reach a handler there,
# and `Allow` truthfully lists them, so `unsupported_method` and `allow_header_conformance`
# do not apply to these paths.
SHADOWED_BY_AN_ID_ROUTE = frozenset(
    {
        f"POST {ORG}/runs/bulk-update",
        f"POST {ORG}/checklists/tags",
        f"POST {ORG}/folders/add-object",
    }
)

CONFIG = {
    "seed": 20261128,
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "allow-extra-parameters": False,
        # NUL is refused anywhere in a body, also inside free-form objects (`prerun`,
        # `taskdata`, `owners`) where only a recursive schema could say so.
        "allow-x00": False,
        # Every request carries the real token; `ignored_auth` tests requests without it.
        "with-security-parameters": False,
    },
    # Scenarios follow the document's links (no inferred ones), so they are the same each run.
    "phases": {"stateful": {"inference": {"algorithms": []}}},
    # A refusal of a body over `max_body_bytes` (413) is a rejection too.
    "checks": {
        "negative_data_rejection": {
            "expected-statuses": [
                *("400", "401", "403", "404", "405", "406", "409", "413", "415", "422"),
                *("428", "429", "5xx"),
            ]
        }
    },
}

# The document does not depend on the database, so an app without one serves it at import
# time; the requests themselves go to the test session's app.
schema = schemathesis.openapi.from_asgi(
    "/openapi.json",
    served_app(),
    config=schemathesis.Config.from_dict(CONFIG),
)
idempotency_keys = (f"contract-{n}" for n in itertools.count())


@schema.hook
def filter_failure(context: HookContext, failure: Failure, case: Case[Any], response: Any) -> bool:
    """Keep every failure but those the module docstring names."""
    if failure.code == "ST301" and failure.operation in ARCHIVING:
        return False
    if response.status_code == 501 and unserved_endpoint(case.method.upper(), case.formatted_path):
        return False  # a Tallyfy endpoint procflow names as not served (api/unserved.py)
    if failure.code != "ST202" or response.status_code != 422:
        return True
    errors: dict[str, list[str]] = response.json().get("errors", {})
    return not errors or not all(
        key.rsplit(".", 1)[-1] in CROSS_FIELD or all(any(s in m for s in STATE_RULES) for m in ms)
        for key, ms in errors.items()
    )


def use_fresh_headers(case: Case[Any]) -> None:
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return
    headers = case.headers
    if headers is None:
        return
    for name in CONDITIONAL_HEADERS:
        headers.pop(name, None)
    if "Idempotency-Key" in headers:
        headers["Idempotency-Key"] = next(idempotency_keys)


def as_integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [as_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: as_integers(item) for key, item in value.items()}
    return value


UPLOADS = frozenset({f"POST {ORG}/assets", f"POST {ORG}/file"})


def excluded_checks(case: Case[Any]) -> list[Any]:
    if case.operation.label in SHADOWED_BY_AN_ID_ROUTE:
        return [unsupported_method, allow_header_conformance]
    if case.operation.label in UPLOADS:
        return [negative_data_rejection]
    return []
