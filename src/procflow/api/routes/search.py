"""`GET /organizations/{org}/search`: Tallyfy's search across kinds (`on=`)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from procflow.api.dependencies import CurrentCaller, Db, Paging
from procflow.api.presenters import envelope
from procflow.api.presenters.search import items_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.transaction import JsonRoute
from procflow.domain.search_terms import MAX_TEXT
from procflow.domain.timeutil import utcnow
from procflow.services import search as service

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["search"], route_class=JsonRoute, responses=ERRORS
)
Text = Annotated[str | None, Query(max_length=MAX_TEXT)]


def _any_case(word: str) -> str:
    return "".join(f"[{letter}{letter.upper()}]" for letter in word)


_KIND = "|".join(_any_case(kind) for kind in service.KINDS)
# What `services.search.kinds_of` accepts, stated in the document; the service checks it, so
# that a refusal names the kinds instead of quoting this pattern.
ON_PATTERN = rf"^\s*$|^\s*({_KIND})\s*(,\s*({_KIND})\s*)*$"
On = Annotated[str | None, Query(max_length=100, json_schema_extra={"pattern": ON_PATTERN})]


@router.get(
    "/search",
    summary="Search templates, processes, tasks, steps and form fields",
    description=(
        "The answer has one key per kind named in `on` (comma-separated; default "
        "`blueprint,process,task,snippet`), each a page `{data, meta: {pagination}}` of "
        "matches, best first. Every word of `search` (or `q`) must match, as a prefix. "
        "`snippet` is always empty: procflow has no snippets."
    ),
)
async def search(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    search: Text = None,
    q: Text = None,
    on: On = None,
    tags: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    kinds = service.kinds_of(on)
    with_tags = (tags or "").lower() in ("true", "1", "yes")
    found = service.search(
        uow,
        caller,
        search if search is not None else q,
        kinds,
        offset=page.offset,
        limit=page.size,
        tags=with_tags,
    )
    now = utcnow()
    return JsonResponse(
        {
            kind: envelope.page_of(
                items_json(kind, result, now, with_tags), result.total, page, request.url
            )
            for kind, result in found.items()
        }
    )
