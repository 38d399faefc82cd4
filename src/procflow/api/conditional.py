"""Conditional requests (RFC 9110 §13): `ETag` out, `If-Match` and `If-None-Match` in.

`If-Match` becomes a domain `Precondition` that the service checks inside the write's own
transaction, after locking the object and before changing anything, so a stale write
answers 412 and changes nothing. `If-None-Match` on a GET whose tag still matches answers
304 with no body. With `PROCFLOW_REQUIRE_IF_MATCH=true` a write without `If-Match` is 428.
"""

from typing import Annotated

from fastapi import Depends, Header, Request, Response

from procflow.domain.etags import Precondition
from procflow.errors import PreconditionRequired


def _tags(header: str) -> list[str]:
    return [part.strip() for part in header.split(",") if part.strip()]


def parse_if_match(header: str | None) -> Precondition | None:
    if header is None:
        return None
    tags = _tags(header)
    if "*" in tags:
        return Precondition(None)
    return Precondition(frozenset(tags))


async def if_match(
    request: Request,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=4096,
            description="Write only if the object's current ETag is one of these (else 412).",
        ),
    ] = None,
) -> Precondition | None:
    precondition = parse_if_match(if_match)
    if precondition is None and request.app.state.settings.require_if_match:
        raise PreconditionRequired()
    return precondition


IfMatch = Annotated[Precondition | None, Depends(if_match)]


def matches_none(request: Request, etag: str) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for GET)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    tags = {tag.removeprefix("W/") for tag in _tags(header)}
    return "*" in tags or etag in tags


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag})
