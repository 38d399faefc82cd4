"""Atomic list edits on a run: `/organizations/{org_id}/runs/{run_id}/{tags,folders,users,groups}`.

Each route adds or removes one item without rewriting the list, in one transaction, and
answers with the whole run as `GET /runs/{id}` shows it (honouring `?with=`), plus its
`ETag`. `If-Match` makes the edit conditional. These paths have one segment more than
`/runs/{run_id}` and name no task, so they neither shadow nor are shadowed by the runs
and tasks routers.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from procflow.api.conditional import IfMatch, run_response
from procflow.api.dependencies import CurrentCaller, Db, Includes, strict_for
from procflow.api.routes.runs import view_of
from procflow.api.schemas.base import ERRORS, ErrorBody
from procflow.api.schemas.run_lists import FolderToAdd, GroupToAdd, TagToAdd, UserToAdd
from procflow.api.schemas.runs import RunEnvelope
from procflow.api.transaction import JsonRoute
from procflow.domain.etags import Precondition
from procflow.domain.permissions import Caller
from procflow.services import run_labels
from procflow.services.records import RunBundle
from procflow.services.unit_of_work import UnitOfWork

CONDITIONAL: dict[int | str, dict[str, Any]] = {
    412: {"model": ErrorBody, "description": "`If-Match` names another state of the process"},
    428: {"model": ErrorBody, "description": "`If-Match` is required by this server"},
}
router = APIRouter(
    prefix="/organizations/{org_id}/runs/{run_id}",
    tags=["runs"],
    route_class=JsonRoute,
    responses={**ERRORS, **CONDITIONAL},
)
ItemId = Annotated[str, Path(max_length=64)]
MemberId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _edited(
    edit: Callable[..., RunBundle],
    uow: UnitOfWork,
    caller: Caller,
    run_id: str,
    kind: run_labels.RunList,
    item: Any,
    include: frozenset[str],
    precondition: Precondition | None,
) -> Response:
    """One item added or removed; the answer is the run as `GET /runs/{id}` shows it."""
    bundle = edit(uow, caller, run_id, kind, item, view=view_of(include), precondition=precondition)
    return run_response(bundle, include)


@router.post(
    "/tags",
    response_model=RunEnvelope,
    summary="Add one tag to a process",
    dependencies=[strict_for(TagToAdd)],
)
async def add_tag(
    run_id: str,
    body: TagToAdd,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """Already tagged: 200 and nothing changes."""
    return _edited(
        run_labels.add_item,
        uow,
        caller,
        run_id,
        run_labels.TAGS,
        body.tag_id,
        include,
        precondition,
    )


@router.delete(
    "/tags/{tag_id}", response_model=RunEnvelope, summary="Remove one tag from a process"
)
async def remove_tag(
    run_id: str,
    tag_id: ItemId,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """Not tagged with it: 200 and nothing changes."""
    return _edited(
        run_labels.remove_item, uow, caller, run_id, run_labels.TAGS, tag_id, include, precondition
    )


@router.post(
    "/folders",
    response_model=RunEnvelope,
    summary="File a process in one more folder",
    dependencies=[strict_for(FolderToAdd)],
)
async def add_folder(
    run_id: str,
    body: FolderToAdd,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """Already in it: 200 and nothing changes."""
    return _edited(
        run_labels.add_item,
        uow,
        caller,
        run_id,
        run_labels.FOLDERS,
        body.folder_id,
        include,
        precondition,
    )


@router.delete(
    "/folders/{folder_id}", response_model=RunEnvelope, summary="Take a process out of one folder"
)
async def remove_folder(
    run_id: str,
    folder_id: ItemId,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """Not in it: 200 and nothing changes."""
    return _edited(
        run_labels.remove_item,
        uow,
        caller,
        run_id,
        run_labels.FOLDERS,
        folder_id,
        include,
        precondition,
    )


@router.post(
    "/users",
    response_model=RunEnvelope,
    summary="Add one member to a process's users",
    dependencies=[strict_for(UserToAdd)],
)
async def add_user(
    run_id: str,
    body: UserToAdd,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """The member goes last; already listed: 200 and nothing changes."""
    return _edited(
        run_labels.add_item,
        uow,
        caller,
        run_id,
        run_labels.USERS,
        body.user_id,
        include,
        precondition,
    )


@router.delete(
    "/users/{user_id}",
    response_model=RunEnvelope,
    summary="Remove one member from a process's users",
)
async def remove_user(
    run_id: str,
    user_id: MemberId,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """Not listed: 200 and nothing changes."""
    return _edited(
        run_labels.remove_item,
        uow,
        caller,
        run_id,
        run_labels.USERS,
        user_id,
        include,
        precondition,
    )


@router.post(
    "/groups",
    response_model=RunEnvelope,
    summary="Add one group to a process's groups",
    dependencies=[strict_for(GroupToAdd)],
)
async def add_group(
    run_id: str,
    body: GroupToAdd,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """The group goes last; already listed: 200 and nothing changes."""
    return _edited(
        run_labels.add_item,
        uow,
        caller,
        run_id,
        run_labels.GROUPS,
        body.group_id,
        include,
        precondition,
    )


@router.delete(
    "/groups/{group_id}",
    response_model=RunEnvelope,
    summary="Remove one group from a process's groups",
)
async def remove_group(
    run_id: str,
    group_id: ItemId,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    precondition: IfMatch,
) -> Response:
    """Not listed: 200 and nothing changes."""
    return _edited(
        run_labels.remove_item,
        uow,
        caller,
        run_id,
        run_labels.GROUPS,
        group_id,
        include,
        precondition,
    )
