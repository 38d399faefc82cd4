"""Groups: `/organizations/{org_id}/groups`."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from procflow.api.dependencies import CurrentCaller, Db, Paging
from procflow.api.presenters import envelope
from procflow.api.presenters.groups import group_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.groups import GroupCreate, GroupEnvelope, GroupList, GroupUpdate
from procflow.api.transaction import JsonRoute
from procflow.services import groups

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["groups"], route_class=JsonRoute, responses=ERRORS
)
GroupId = Annotated[str, Path(max_length=64)]


@router.get("/groups", response_model=GroupList, summary="List groups")
async def list_groups(request: Request, caller: CurrentCaller, uow: Db, page: Paging) -> Response:
    views, total = groups.list_groups(
        uow,
        caller,
        offset=page.offset,
        limit=page.size,
    )
    return JsonResponse(envelope.page_of([group_json(v) for v in views], total, page, request.url))


@router.post("/groups", status_code=201, response_model=GroupEnvelope, summary="Create a group")
async def create_group(caller: CurrentCaller, uow: Db, body: GroupCreate) -> Response:
    view = groups.create_group(uow, caller, body.present())
    return JsonResponse(envelope.item(group_json(view)), status_code=201)


@router.get("/groups/{group_id}", response_model=GroupEnvelope, summary="Get a group")
async def get_group(group_id: GroupId, caller: CurrentCaller, uow: Db) -> Response:
    return JsonResponse(envelope.item(group_json(groups.get_group(uow, caller, group_id))))


@router.put("/groups/{group_id}", response_model=GroupEnvelope, summary="Update a group")
async def update_group(
    group_id: GroupId, caller: CurrentCaller, uow: Db, body: GroupUpdate
) -> Response:
    """Only the keys sent change; `members` and `guests` replace the current lists."""
    view = groups.update_group(uow, caller, group_id, body.present())
    return JsonResponse(envelope.item(group_json(view)))


@router.delete("/groups/{group_id}", status_code=204, summary="Delete a group")
async def delete_group(group_id: GroupId, caller: CurrentCaller, uow: Db) -> Response:
    groups.delete_group(uow, caller, group_id)
    return Response(status_code=204)
