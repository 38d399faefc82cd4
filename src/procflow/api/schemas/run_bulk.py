"""Body and answer of `POST /runs/bulk-update`.

The envelope is checked as a whole (a list of objects, each with a string `id`); the rest
of each item is a `PUT /runs/{id}` body, checked per item so that one bad item does not
hide the results of the others.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from procflow.api.schemas.base import ErrorBody, HexId, Input, Output


class BulkItem(BaseModel):
    """One run to change: its `id`, an optional `if_match` (an ETag the client read), and
    any field `PUT /runs/{id}` takes (`name`, `summary`, `tags`, `prerun`, ...)."""

    model_config = ConfigDict(strict=True, extra="allow")

    id: HexId
    if_match: Annotated[str, Field(max_length=4096)] | None = None


class BulkUpdate(Input):
    """`runs` in the order to apply them; `atomic`: all or nothing (default: per item)."""

    runs: Annotated[list[BulkItem], Field(min_length=1)]
    atomic: bool = False


class BulkItemResult(Output):
    """`status` 200 with `data` (the run as GET shows it) and `etag`, or an error status
    with the `error` body that `PUT /runs/{id}` would have answered."""

    id: str
    status: int
    etag: str | None = None
    data: dict[str, Any] | None = None
    error: ErrorBody | None = None


class BulkMeta(Output):
    succeeded: int
    failed: int
    not_applied: int


class BulkResult(Output):
    data: list[BulkItemResult]
    meta: BulkMeta
