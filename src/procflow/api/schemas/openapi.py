"""What the served OpenAPI document says beyond what FastAPI infers from the routes.

- The bearer token is read by a plain dependency (so that a bad header gets Tallyfy's
  error body, not FastAPI's), which FastAPI cannot see: the security scheme is declared
  here, once, for every operation.
- An empty body counts as `{}` (Tallyfy's clients send empty PUT and DELETE bodies), so a
  body whose keys are all optional is itself optional.
- Query parameters that the services check against a fixed list or format (sort orders,
  statuses, id lists, timestamps) are plain strings in the route signatures, so that the
  services word the error; their constraints are declared here, from the same constants.
- Ids in paths are 32 hex digits; no path segment may hold NUL.
- Every request body passes the wire checks of `api.body` first: no string or key longer
  than `max_string_chars` or holding NUL, no array longer than `max_array_items`; and the
  JSON parser reads an integer beyond 64 bits as a float, which no integer field takes.
- OpenAPI links lead from each answer that names a new object to the operations on it, so
  that clients and stateful testers can follow them.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from procflow.api.schemas.base import SPACE
from procflow.services import folders, guests, run_search, tags, templates
from procflow.settings import Settings

BEARER = "bearerAuth"
ORG = "/organizations/{org_id}"
TEMPLATE = ORG + "/checklists/{checklist_id}"
STEP = TEMPLATE + "/steps/{step_id}"
TASK = ORG + "/tasks/{task_id}"
HEX_ID: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
HEX_ID_PARAMETERS = frozenset(
    f"{kind}_id"
    for kind in (
        "org",
        "run",
        "task",
        "checklist",
        "step",
        "capture",
        "tag",
        "folder",
        "group",
        "comment",
        "asset",
    )
)
JSON_INT_MIN, JSON_INT_MAX = -(2**63), 2**64 - 1  # what orjson reads as an integer
NO_NUL: dict[str, Any] = {"not": {"pattern": r"\x00"}}


def _id_at_most(largest: int) -> str:
    """ASCII digits naming 1..`largest`, at most as many digits as `largest` has (zeros
    in front included), spelled without lookahead so that every regex engine reads it."""
    digits = str(largest)
    width = len(digits)
    shorter = [f"0{{{k}}}[1-9][0-9]{{0,{width - 2 - k}}}" for k in range(width - 1)]
    padded = [f"0{{{k}}}[1-9][0-9]{{{width - 1 - k}}}" for k in range(1, width)]
    full = [
        f"{digits[:i]}[{int(i == 0)}-{int(digit) - 1}][0-9]{{{width - 1 - i}}}"
        for i, digit in enumerate(digits)
        if int(digit) > int(i == 0)
    ]
    return "(" + "|".join([*shorter, *padded, *full, digits]) + ")"


_ID = _id_at_most(2**31 - 1)
_SPACE = SPACE
ID_LIST: dict[str, Any] = {
    "type": "string",
    "pattern": rf"^[{_SPACE}]*({_ID}[{_SPACE}]*)?(,[{_SPACE}]*({_ID}[{_SPACE}]*)?)*$",
}
# An empty value means "no bound".
TIMESTAMP: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "date-time", "maxLength": 40}, {"const": ""}]
}


def _choice(values: Any) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


TASK_LIST: dict[str, dict[str, Any]] = {
    "owners": ID_LIST,
    "deadline_before": TIMESTAMP,
    "deadline_after": TIMESTAMP,
}
QUERY_SCHEMAS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("get", ORG + "/runs"): {
        "sort": _choice(run_search.SORTS),
        "sort_by": _choice(run_search.SORTS),
        "status": _choice(run_search.STATUSES),
        "owners": ID_LIST,
    },
    ("get", ORG + "/tasks"): TASK_LIST,
    ("get", ORG + "/runs/{run_id}/tasks"): TASK_LIST,
    ("get", ORG + "/checklists"): {
        "sort_by": _choice(templates.SORTS),
        "sort": _choice(templates.SORTS),
        "type": _choice(templates.TYPES),
    },
    ("get", ORG + "/tags"): {"sort": _choice(tags.TAG_SORTS)},
    ("get", ORG + "/folders"): {"sort": _choice(folders.SORTS)},
    ("get", ORG + "/guests/{email}/tasks"): {"status": _choice(guests.STATUS_FILTERS)},
}


def with_security(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal access token (`procflow tokens create`) or a guest token.",
    }
    document["security"] = [{BEARER: []}]
    return document


def with_optional_bodies(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.get("components", {}).get("schemas", {})
    for item in document["paths"].values():
        for operation in item.values():
            body = operation.get("requestBody")
            media = body.get("content", {}).get("application/json") if body else None
            if media is None:  # no body, or a multipart one (file uploads)
                continue
            schema = media["schema"]
            target = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
            if not target.get("required"):
                body["required"] = False
    return document


def with_parameter_formats(document: dict[str, Any]) -> dict[str, Any]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            declared = QUERY_SCHEMAS.get((method, path), {})
            for parameter in operation.get("parameters", []):
                name, place = parameter["name"], parameter["in"]
                if place == "query" and name in declared:
                    parameter["schema"] = declared[name]
                elif place == "query":
                    parameter["schema"] = _without_nul(parameter["schema"])
                elif place == "path" and name in HEX_ID_PARAMETERS:
                    parameter["schema"] = HEX_ID
                elif place == "path":
                    parameter["schema"] = _without_nul(parameter["schema"])
    return document


def _without_nul(schema: dict[str, Any]) -> dict[str, Any]:
    if schema.get("type") == "string":
        return {**schema, **NO_NUL}
    if "anyOf" in schema:
        return {**schema, "anyOf": [_without_nul(option) for option in schema["anyOf"]]}
    return schema


def with_body_limits(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    schemas = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                visit(child)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                visit(schemas.get(name))
        kind = node.get("type")
        if kind == "integer" or (isinstance(kind, list) and "integer" in kind):
            node.setdefault("minimum", JSON_INT_MIN)
            node.setdefault("maximum", JSON_INT_MAX)
        if kind == "string":
            node.setdefault("maxLength", settings.max_string_chars)
            node.update(NO_NUL)
        elif kind == "array":
            node.setdefault("maxItems", settings.max_array_items)
        elif kind == "object" or "properties" in node:
            node["propertyNames"] = {"maxLength": settings.max_string_chars, **NO_NUL}
        for key, child in node.items():
            if key not in ("not", "propertyNames", "enum", "default", "examples"):
                visit(child)

    for item in document["paths"].values():
        for operation in item.values():
            body = operation.get("requestBody")
            media = body.get("content", {}).get("application/json") if body else None
            if media is not None:  # multipart uploads state their own limits
                visit(media["schema"])
    return document


# Where a success answer names a new object, and the operations it can be used with: every
# operation under `base + "/{param}"`, its other path parameters taken from the request.
LINKS: tuple[tuple[str, str, str, str, str], ...] = (
    ("post", ORG + "/runs", ORG + "/runs", "run_id", "/data/id"),
    ("get", ORG + "/runs/{run_id}/tasks", ORG + "/runs/{run_id}/tasks", "task_id", "/data/0/id"),
    ("post", ORG + "/checklists", ORG + "/checklists", "checklist_id", "/data/id"),
    ("post", TEMPLATE + "/steps", TEMPLATE + "/steps", "step_id", "/data/id"),
    ("post", STEP + "/clone", TEMPLATE + "/steps", "step_id", "/data/id"),
    ("post", STEP + "/captures", STEP + "/captures", "capture_id", "/data/id"),
    ("post", ORG + "/tasks", ORG + "/tasks", "task_id", "/data/id"),
    ("post", TASK + "/comment", TASK + "/comment", "comment_id", "/data/id"),
    ("post", ORG + "/tags", ORG + "/tags", "tag_id", "/data/id"),
    ("post", ORG + "/checklists/tags", ORG + "/checklists/tags", "association_id", "/data/id"),
    ("post", ORG + "/folders", ORG + "/folders", "folder_id", "/data/id"),
    ("post", ORG + "/folders/add-object", ORG + "/folders-objects", "relation_id", "/data/id"),
    ("post", ORG + "/groups", ORG + "/groups", "group_id", "/data/id"),
    ("post", ORG + "/guests", ORG + "/guests", "email", "/data/email"),
    ("post", ORG + "/users/invite", ORG + "/users", "user_id", "/data/id"),
    ("post", ORG + "/assets", ORG + "/assets", "asset_id", "/data/id"),
    ("post", ORG + "/file", ORG + "/file", "asset_id", "/data/id"),
)


def with_links(document: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI links from each answer that names a new object to the operations on it."""
    paths = document["paths"]
    for method, source, base, param, pointer in LINKS:
        operation = paths[source][method]
        given = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        links = {
            target[method_]["operationId"]: {
                "operationId": target[method_]["operationId"],
                "parameters": {
                    param: f"$response.body#{pointer}",
                    **{
                        name: f"$request.path.{name}"
                        for name in _path_parameters(path)
                        if name in given and name != param
                    },
                },
            }
            for path, target in paths.items()
            if path.startswith(f"{base}/{{{param}}}")
            for method_ in target
        }
        for status, answer in operation["responses"].items():
            if status.startswith("2"):
                answer["links"] = links
    return document


def _path_parameters(path: str) -> list[str]:
    """The path's parameters in the order they appear: the document is the same on every run."""
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def with_setting_limits(document: dict[str, Any], settings: Settings) -> dict[str, Any]:
    bulk = document.get("components", {}).get("schemas", {}).get("BulkUpdate")
    if bulk is not None:
        bulk["properties"]["runs"]["maxItems"] = settings.max_bulk_items
    return document


def describe(app: FastAPI) -> None:
    """Serve FastAPI's document with the additions above (built once, on first request)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for amend in (with_security, with_optional_bodies, with_parameter_formats, with_links):
                document = amend(document)
            settings = app.state.settings
            app.openapi_schema = with_setting_limits(with_body_limits(document, settings), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI documents this override
