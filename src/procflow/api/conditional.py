"""Conditional requests (RFC 9110 §13): `ETag` out, `If-Match` and `If-None-Match` in.

`If-Match` becomes a domain `Precondition` that the service checks inside the write's own
transaction, after locking the object and before changing anything, so a stale write
answers 412 and changes nothing. `If-None-Match` on a GET whose tag still matches answers
304 with no body. With `PROCFLOW_REQUIRE_IF_MATCH=true` a write without `If-Match` is 428.
"""

from collections.abc import Collection
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response

from procflow.api.presenters import envelope
from procflow.api.presenters.runs import run_json
from procflow.api.responses import JsonResponse
from procflow.domain import runs as rules
from procflow.domain.etags import Precondition, run_etag
from procflow.domain.timeutil import utcnow
from procflow.errors import PreconditionRequired
from procflow.services.records import RunBundle

IF_MATCH_MAX = 4096


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
            max_length=IF_MATCH_MAX,
            description="Write only if the object's current ETag is one of these (else 412).",
        ),
    ] = None,
) -> Precondition | None:
    precondition = parse_if_match(if_match)
    if precondition is None and request.app.state.settings.require_if_match:
        raise PreconditionRequired()
    return precondition


IfMatch = Annotated[Precondition | None, Depends(if_match)]


async def if_none_match(
    if_none_match: Annotated[
        str | None,
        Header(
            alias="If-None-Match",
            max_length=IF_MATCH_MAX,
            description="Answer 304 without a body if the current ETag is one of these.",
        ),
    ] = None,
) -> str | None:
    return if_none_match


IfNoneMatch = Annotated[str | None, Depends(if_none_match)]

_ETAG_HEADER = {"ETag": {"description": "The object's entity tag", "schema": {"type": "string"}}}
TAGGED: dict[int | str, dict[str, Any]] = {200: {"headers": _ETAG_HEADER}}
"""`responses=` of a route whose success carries an `ETag`."""
CREATED_TAGGED: dict[int | str, dict[str, Any]] = {201: {"headers": _ETAG_HEADER}}
READ_TAGGED: dict[int | str, dict[str, Any]] = {
    **TAGGED,
    304: {"description": "If-None-Match names the current ETag: no body", "headers": _ETAG_HEADER},
}
"""`responses=` of a read that honours `If-None-Match`."""


def matches_none(header: str | None, etag: str) -> bool:
    """Whether an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 asks
    for GET)."""
    if header is None:
        return False
    tags = {tag.removeprefix("W/") for tag in _tags(header)}
    return "*" in tags or etag in tags


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag})


def tagged(data: dict[str, Any], etag: str, status_code: int = 200) -> Response:
    """`{"data": ...}` with its entity tag."""
    return JsonResponse(envelope.item(data), status_code=status_code, headers={"ETag": etag})


EMBEDDED_RUN_INCLUDES = frozenset({"checklist"})
"""Includes that embed another object as it is now (the template), outside the run's tag:
a read with one of them is never answered 304, which would declare that copy fresh."""
EMBEDDED_TASK_INCLUDES = frozenset({"step", "run.checklist", "activities"})
"""The same for a task: its step and its run's template, and its activity records (a
refused request is recorded without changing the task)."""


def fresh_copy_wanted(
    if_none_match: str | None, includes: Collection[str], embedded: frozenset[str]
) -> str | None:
    """`If-None-Match`, unless the answer embeds something its tag does not cover."""
    return None if embedded.intersection(includes) else if_none_match


def run_response(
    bundle: RunBundle,
    includes: Collection[str],
    *,
    if_none_match: str | None = None,
    status_code: int = 200,
) -> Response:
    """A run as `GET /runs/{id}` shows it, with its `ETag`; figures are computed once for
    both. A read passes its `If-None-Match` header: if it matches, 304 instead."""
    now = utcnow()
    figures = rules.figures(bundle.facts, now)
    etag = run_etag(bundle.run.id, bundle.run.version, figures)
    if matches_none(fresh_copy_wanted(if_none_match, includes, EMBEDDED_RUN_INCLUDES), etag):
        return not_modified(etag)
    return tagged(run_json(bundle, includes, now, figures), etag, status_code)
