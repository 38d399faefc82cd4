"""Tallyfy endpoints that procflow does not serve (yet): answered 501, naming the endpoint.

A client that calls one of them learns that procflow knows the endpoint and does not
implement it, instead of a bare 404 that reads like a wrong base URL. The table comes from
reading Tallyfy's official clients and documentation; `docs/compatibility.md` lists the
same endpoints, and tests keep the two in step and check that no served route is listed.
"""

import re
from functools import cache

ORG = "/organizations/{org}"

UNSERVED: tuple[tuple[str, str, str], ...] = (
    ("GET", ORG + "/runs/{run}/form-fields", "form field values"),
    ("POST", ORG + "/tasks/{task}/clone", "tasks"),
    ("POST", ORG + "/tasks/{task}/captures", "form field values"),
    ("POST", ORG + "/tasks/{task}/bot-comment", "comments"),
    ("PUT", ORG + "/checklists/{checklist}/restore", "templates"),
    ("DELETE", ORG + "/checklists/{checklist}/preruns/{field}", "templates"),
    ("PUT", ORG + "/form-field/value", "form field values"),
    ("POST", ORG + "/guests/{guest}/form-field/value", "form field values"),
    ("DELETE", ORG + "/users/{user}/delete", "users"),
    ("POST", ORG + "/upload", "files/assets"),
    ("GET", ORG + "/download-files/{asset}", "files/assets"),
    ("POST", "/oauth/token", "auth"),
    ("GET", "/oauth/authorize", "auth"),
    ("POST", "/api/applications/{org}/users", "auth"),
    ("POST", "/api/applications/{org}/users/{email}/token", "auth"),
    ("GET", ORG + "/custom-field-keys", "custom fields"),
    ("POST", ORG + "/custom-field-keys", "custom fields"),
    ("PUT", ORG + "/custom-field-keys/{key}", "custom fields"),
    ("DELETE", ORG + "/custom-field-keys/{key}", "custom fields"),
    ("GET", ORG + "/runs/{run}/custom-fields", "custom fields"),
    ("PUT", ORG + "/runs/{run}/custom-fields", "custom fields"),
    ("PATCH", ORG + "/runs/{run}/custom-fields/{key}", "custom fields"),
    ("DELETE", ORG + "/runs/{run}/custom-fields/{key}", "custom fields"),
    ("GET", ORG + "/runs/{run}/tasks/{task}/custom-fields", "custom fields"),
    ("PUT", ORG + "/runs/{run}/tasks/{task}/custom-fields", "custom fields"),
    ("PATCH", ORG + "/runs/{run}/tasks/{task}/custom-fields/{key}", "custom fields"),
    ("DELETE", ORG + "/runs/{run}/tasks/{task}/custom-fields/{key}", "custom fields"),
    ("GET", ORG + "/users/{user}/custom-fields", "custom fields"),
    ("PUT", ORG + "/users/{user}/custom-fields", "custom fields"),
    ("PATCH", ORG + "/users/{user}/custom-fields/{key}", "custom fields"),
    ("DELETE", ORG + "/users/{user}/custom-fields/{key}", "custom fields"),
    ("GET", ORG + "/guests/{guest}/custom-fields", "custom fields"),
    ("PUT", ORG + "/guests/{guest}/custom-fields", "custom fields"),
    ("PATCH", ORG + "/guests/{guest}/custom-fields/{key}", "custom fields"),
    ("DELETE", ORG + "/guests/{guest}/custom-fields/{key}", "custom fields"),
    ("GET", ORG + "/folders/{folder}/custom-fields", "custom fields"),
    ("PUT", ORG + "/folders/{folder}/custom-fields", "custom fields"),
    ("PATCH", ORG + "/folders/{folder}/custom-fields/{key}", "custom fields"),
    ("DELETE", ORG + "/folders/{folder}/custom-fields/{key}", "custom fields"),
    ("GET", ORG + "/tags/{tag}/custom-fields", "custom fields"),
    ("PUT", ORG + "/tags/{tag}/custom-fields", "custom fields"),
    ("PATCH", ORG + "/tags/{tag}/custom-fields/{key}", "custom fields"),
    ("DELETE", ORG + "/tags/{tag}/custom-fields/{key}", "custom fields"),
    ("GET", ORG + "/checklists/{checklist}/custom-fields", "custom fields"),
    ("PUT", ORG + "/checklists/{checklist}/custom-fields", "custom fields"),
    ("GET", ORG + "/checklists/{checklist}/steps/{step}/custom-fields", "custom fields"),
    ("PUT", ORG + "/checklists/{checklist}/steps/{step}/custom-fields", "custom fields"),
    (
        "GET",
        ORG + "/checklists/{checklist}/steps/{step}/captures/{capture}/custom-fields",
        "custom fields",
    ),
    (
        "PUT",
        ORG + "/checklists/{checklist}/steps/{step}/captures/{capture}/custom-fields",
        "custom fields",
    ),
    ("GET", ORG + "/checklists/{checklist}/preruns/{field}/custom-fields", "custom fields"),
    ("PUT", ORG + "/checklists/{checklist}/preruns/{field}/custom-fields", "custom fields"),
)
"""(method, path, area) of each Tallyfy endpoint known and not served."""


def _pattern(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "/?")


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """Compiled when a request first misses every route, not at start."""
    return tuple((method, _pattern(path), path) for method, path, _area in UNSERVED)


def unserved_endpoint(method: str, path: str) -> str | None:
    """`"METHOD /path"` of the unserved Tallyfy endpoint a request is for, if it is one.

    Paths are matched at the root and under `/api`, as procflow serves its own routes.
    """
    candidates = [path]
    if path.startswith("/api/"):
        candidates.append(path[len("/api") :])
    for wanted, pattern, template in _patterns():
        if wanted == method and any(pattern.fullmatch(c) for c in candidates):
            return f"{method} {template}"
    return None
