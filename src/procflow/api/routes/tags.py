"""Tags: `/organizations/{org_id}/tags`, and attaching them at `/checklists/tags`.

The attach routes serve runs and templates alike, as Tallyfy's do. This router is
mounted before the templates router, so `/checklists/tags` never reads as a template id.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from procflow.api.dependencies import CurrentCaller, Db, Includes, Paging
from procflow.api.presenters import envelope
from procflow.api.presenters.taxonomy import attachment_json, tag_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.taxonomy import (
    TagAttach,
    TagCreate,
    TagEnvelope,
    TagLinkEnvelope,
    TagList,
    TagUpdate,
    link_id,
)
from procflow.api.transaction import JsonRoute
from procflow.services import tags

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["tags"], route_class=JsonRoute, responses=ERRORS
)
TagId = Annotated[str, Path(max_length=64)]


@router.get("/tags", response_model=TagList, summary="List tags")
async def list_tags(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    q: Annotated[str | None, Query(max_length=200)] = None,
    include_auto: Annotated[bool, Query(alias="all")] = False,
    auto_generated: bool | None = None,
    sort: Annotated[str, Query(max_length=20)] = "title",
) -> Response:
    """Auto-generated tags are left out unless `all=true` or `auto_generated` is given."""
    views, total = tags.list_tags(
        uow,
        caller,
        q=q,
        include_auto=include_auto,
        auto_generated=auto_generated,
        sort=sort,
        offset=page.offset,
        limit=page.size,
        statistics="statistics" in include,
    )
    return JsonResponse(envelope.page_of([tag_json(v) for v in views], total, page, request.url))


@router.post("/tags", status_code=201, response_model=TagEnvelope, summary="Create a tag")
async def create_tag(caller: CurrentCaller, uow: Db, body: TagCreate) -> Response:
    view = tags.create_tag(uow, caller, body.present())
    return JsonResponse(envelope.item(tag_json(view)), status_code=201)


@router.get("/tags/{tag_id}", response_model=TagEnvelope, summary="Get a tag")
async def get_tag(tag_id: TagId, caller: CurrentCaller, uow: Db, include: Includes) -> Response:
    view = tags.get_tag(uow, caller, tag_id, statistics="statistics" in include)
    return JsonResponse(envelope.item(tag_json(view)))


@router.put("/tags/{tag_id}", response_model=TagEnvelope, summary="Update a tag")
async def update_tag(
    tag_id: TagId, caller: CurrentCaller, uow: Db, include: Includes, body: TagUpdate
) -> Response:
    view = tags.update_tag(uow, caller, tag_id, body.present(), statistics="statistics" in include)
    return JsonResponse(envelope.item(tag_json(view)))


@router.delete("/tags/{tag_id}", status_code=204, summary="Delete a tag and its associations")
async def delete_tag(tag_id: TagId, caller: CurrentCaller, uow: Db) -> Response:
    """204 also when no such tag exists, as Tallyfy answers."""
    tags.delete_tag(uow, caller, tag_id)
    return Response(status_code=204)


@router.post(
    "/checklists/tags",
    status_code=201,
    response_model=TagLinkEnvelope,
    summary="Attach a tag to a template or a process",
    responses={200: {"model": TagLinkEnvelope, "description": "Already attached"}},
)
async def attach_tag(caller: CurrentCaller, uow: Db, body: TagAttach) -> Response:
    attachment = tags.attach_tag(uow, caller, body.present())
    return JsonResponse(
        envelope.item(attachment_json(attachment)), status_code=201 if attachment.created else 200
    )


@router.delete(
    "/checklists/tags/{association_id}",
    status_code=204,
    summary="Detach a tag by its association id",
)
async def detach_tag(
    association_id: Annotated[str, Path(max_length=20)], caller: CurrentCaller, uow: Db
) -> Response:
    tags.detach_tag(uow, caller, link_id(association_id))
    return Response(status_code=204)
