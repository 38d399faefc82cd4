"""Shared building blocks of request and response schemas."""

from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

# What Python's `str.strip()` and `str.isspace()` count as whitespace, spelled out: `\s`
# means another set in each regex engine (ECMAScript's lacks U+0085 and U+001C-U+001F).
SPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"[^{SPACE}]"


# An address as the services check it, after trimming.
EMAIL_PATTERN = rf"^[{SPACE}]*[^@{SPACE}]+@[^@{SPACE}]+\.[^@{SPACE}]+[{SPACE}]*$"


def documented(**schema: Any) -> Any:
    """Constraints the OpenAPI document states but a service enforces (after trimming, in
    its own words), so pydantic must not check them first."""
    return Field(json_schema_extra=schema)


HexId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Input(BaseModel):
    """A request body: JSON types are taken strictly; unknown keys are ignored.

    `present()` gives only the keys the client actually sent, which is what a partial
    update applies. Its JSON schema tells the truth about two things the Python types
    cannot: a key whose validator calls `refuse_null` (or that `NOT_NULL` names) may be
    left out but never be `null`, and `REQUIRED` names keys a service insists on although
    the model lets them be absent (so that the service, not pydantic, words the error).
    """

    model_config = ConfigDict(strict=True, extra="ignore", str_strip_whitespace=False)
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    def present(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.model_fields_set}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        properties = target.get("properties", {})
        for name in (_refusing_null(cls) | set(cls.NOT_NULL)) & set(properties):
            properties[name] = _without_null(properties[name])
        for name in cls.REQUIRED:
            properties[name] = _without_null(properties[name])
            required = target.setdefault("required", [])
            if name not in required:
                required.append(name)
        return schema


def _refusing_null(model: type[BaseModel]) -> set[str]:
    fields: set[str] = set()
    for decorator in model.__pydantic_decorators__.field_validators.values():
        if "refuse_null" in getattr(decorator.func, "__code__", _NO_CODE).co_names:
            fields.update(decorator.info.fields)
    return fields


_NO_CODE = (lambda: None).__code__


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """`X | None` described as `X` (a `null` default goes with it)."""
    schema = {k: v for k, v in schema.items() if not (k == "default" and v is None)}
    options = schema.pop("anyOf", None)
    if not options:
        return schema
    kept = [option for option in options if option.get("type") != "null"]
    return {**kept[0], **schema} if len(kept) == 1 else {**schema, "anyOf": kept}


def refuse_null(value: Any, field: str) -> Any:
    if value is None:
        raise ValueError(f"The {field} field may not be null.")
    return value


class Output(BaseModel):
    """A documented answer. Only the OpenAPI document reads these models (the routes
    answer with plain JSON), so pydantic builds one when the document is first made,
    not when the server starts."""

    model_config = ConfigDict(defer_build=True)


class Envelope(Output):
    data: dict[str, Any]


class Pagination(Output):
    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int
    links: dict[str, str]


class Meta(Output):
    pagination: Pagination


class ListEnvelope(Output):
    data: list[dict[str, Any]]
    meta: Meta


class ErrorBody(Output):
    error: bool = True
    message: str
    code: str
    errors: dict[str, list[str]] | None = None


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": kind}}


RETRY_AFTER = _header("Seconds to wait before retrying", "integer")
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {**_header("Always `Bearer`"), "required": True}},
    429: {
        "Retry-After": {**RETRY_AFTER, "required": True},
        "X-RateLimit-Limit": _header("Requests allowed per window", "integer"),
        "X-RateLimit-Remaining": _header("Requests left in this window", "integer"),
        "X-RateLimit-Reset": _header("Seconds until the window resets", "integer"),
    },
    503: {"Retry-After": {**RETRY_AFTER, "required": True}},
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "model": ErrorBody,
        "description": text,
        **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {}),
    }
    for status, text in (
        (400, "Malformed JSON or query parameters, or a bad Idempotency-Key"),
        (401, "Missing or invalid bearer token"),
        (403, "Not a member of the organization, or the role may not do this"),
        (404, "No such object in this organization"),
        (
            409,
            "A concurrent request changed the same data, or the same Idempotency-Key "
            "is still being processed; retry",
        ),
        (412, "If-Match names a version that is no longer current; nothing was written"),
        (413, "Request body too large"),
        (415, "Body is not JSON"),
        (422, "Validation failed; `errors` names each field"),
        (428, "This server requires If-Match on writes to processes and tasks"),
        (429, "Rate limit exceeded; retry after Retry-After seconds"),
        (503, "Database busy or unavailable; retry after Retry-After seconds"),
    )
}
