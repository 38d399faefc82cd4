"""Shared building blocks of request and response schemas."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

HexId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
UserId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Input(BaseModel):
    """A request body: JSON types are taken strictly; unknown keys are ignored.

    `present()` gives only the keys the client actually sent, which is what a partial
    update applies.
    """

    model_config = ConfigDict(strict=True, extra="ignore", str_strip_whitespace=False)

    def present(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.model_fields_set}


def refuse_null(value: Any, field: str) -> Any:
    if value is None:
        raise ValueError(f"The {field} field may not be null.")
    return value


class Envelope(BaseModel):
    data: dict[str, Any]


class Pagination(BaseModel):
    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int
    links: dict[str, str]


class Meta(BaseModel):
    pagination: Pagination


class ListEnvelope(BaseModel):
    data: list[dict[str, Any]]
    meta: Meta


class ErrorBody(BaseModel):
    error: bool = True
    message: str
    code: str
    errors: dict[str, list[str]] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "Malformed JSON or query parameters"),
        (401, "Missing or invalid bearer token"),
        (403, "Not a member of the organization, or the role may not do this"),
        (404, "No such object in this organization"),
        (413, "Request body too large"),
        (415, "Body is not JSON"),
        (422, "Validation failed; `errors` names each field"),
        (503, "Database busy or unavailable; retry after Retry-After seconds"),
    )
}
