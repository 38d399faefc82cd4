"""Folders: `/organizations/{org_id}/folders`, and filing runs and tasks in them."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from procflow.api.dependencies import CurrentCaller, Db, Includes, Paging, whole_list
from procflow.api.presenters import envelope
from procflow.api.presenters.taxonomy import filing_json, folder_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.taxonomy import (
    FolderCreate,
    FolderEnvelope,
    FolderLinkEnvelope,
    FolderList,
    FolderObject,
    FolderUpdate,
    link_id,
)
from procflow.api.transaction import JsonRoute
from procflow.services import folders
from procflow.services.folders import FolderQuery

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["folders"], route_class=JsonRoute, responses=ERRORS
)
FolderId = Annotated[str, Path(max_length=64)]
OFF = frozenset({"false", "0", "no", "off"})


@router.get("/folders", response_model=FolderList, summary="List folders")
async def list_folders(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    q: Annotated[str | None, Query(max_length=200)] = None,
    folder_type: Annotated[str | None, Query(max_length=20)] = None,
    parent_id: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[str, Query(max_length=20)] = "position",
    pagination: Annotated[str | None, Query(max_length=5)] = None,
) -> Response:
    """Top-level folders unless `parent_id` or `q` is given; `pagination=false` gives all.

    An unknown `folder_type` (Tallyfy's SDK can send the word `None`) filters nothing.
    """
    if (pagination or "").lower() in OFF:
        page = whole_list(request, page.number)
    query = FolderQuery(
        q=q, folder_type=folder_type, parent_id=parent_id, sort=sort, children="children" in include
    )
    views, total = folders.list_folders(
        uow,
        caller,
        query,
        offset=page.offset,
        limit=page.size,
    )
    return JsonResponse(envelope.page_of([folder_json(v) for v in views], total, page, request.url))


@router.post("/folders", status_code=201, response_model=FolderEnvelope, summary="Create a folder")
async def create_folder(caller: CurrentCaller, uow: Db, body: FolderCreate) -> Response:
    view = folders.create_folder(uow, caller, body.present())
    return JsonResponse(envelope.item(folder_json(view)), status_code=201)


@router.post(
    "/folders/add-object",
    status_code=201,
    response_model=FolderLinkEnvelope,
    summary="File a process or a task in a folder",
    responses={200: {"model": FolderLinkEnvelope, "description": "Already filed"}},
)
async def add_object(caller: CurrentCaller, uow: Db, body: FolderObject) -> Response:
    filing = folders.file_object(uow, caller, body.present())
    return JsonResponse(
        envelope.item(filing_json(filing)), status_code=201 if filing.created else 200
    )


@router.delete(
    "/folders-objects/{relation_id}",
    status_code=204,
    summary="Take a process or a task out of a folder",
)
async def remove_object(
    relation_id: Annotated[str, Path(max_length=20)], caller: CurrentCaller, uow: Db
) -> Response:
    folders.unfile_object(uow, caller, link_id(relation_id))
    return Response(status_code=204)


@router.get("/folders/{folder_id}", response_model=FolderEnvelope, summary="Get a folder")
async def get_folder(
    folder_id: FolderId, caller: CurrentCaller, uow: Db, include: Includes
) -> Response:
    view = folders.get_folder(uow, caller, folder_id, children="children" in include)
    return JsonResponse(envelope.item(folder_json(view)))


@router.put("/folders/{folder_id}", response_model=FolderEnvelope, summary="Update a folder")
async def update_folder(
    folder_id: FolderId, caller: CurrentCaller, uow: Db, include: Includes, body: FolderUpdate
) -> Response:
    view = folders.update_folder(
        uow, caller, folder_id, body.present(), children="children" in include
    )
    return JsonResponse(envelope.item(folder_json(view)))


@router.delete(
    "/folders/{folder_id}", status_code=204, summary="Delete a folder and its subfolders"
)
async def delete_folder(folder_id: FolderId, caller: CurrentCaller, uow: Db) -> Response:
    folders.delete_folder(uow, caller, folder_id)
    return Response(status_code=204)
