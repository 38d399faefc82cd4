"""Members: `/organizations/{org_id}/users`."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from procflow.api.dependencies import CurrentCaller, Db, Paging
from procflow.api.presenters import envelope
from procflow.api.presenters.guests import guest_json
from procflow.api.presenters.people import member_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.guests import GuestEnvelope
from procflow.api.schemas.members import (
    MemberAll,
    MemberEnvelope,
    MemberInvite,
    MemberList,
    MemberUpdate,
    RoleChange,
)
from procflow.api.transaction import JsonRoute
from procflow.services import member_conversion, member_removal, members
from procflow.services.members import MemberView

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["members"], route_class=JsonRoute, responses=ERRORS
)
UserPath = Annotated[int, Path(ge=1, le=2**53)]
Flag = Annotated[str | None, Query(pattern="^(true|false|1|0)$")]
TargetId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def _item(view: MemberView, status_code: int = 200) -> Response:
    return JsonResponse(
        envelope.item(member_json(view.user, view.membership)), status_code=status_code
    )


@router.get("/users", response_model=MemberList, summary="List the organization's members")
async def list_members(request: Request, caller: CurrentCaller, uow: Db, page: Paging) -> Response:
    views, total = members.list_members(
        uow,
        caller,
        offset=page.offset,
        limit=page.size,
    )
    data = [member_json(v.user, v.membership) for v in views]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


@router.get("/users-list", response_model=MemberAll, summary="Every member, unpaged")
async def all_members(request: Request, caller: CurrentCaller, uow: Db) -> Response:
    """At most `max_unpaged_items` members (the first, by the list's order)."""
    cap = request.app.state.settings.max_unpaged_items
    views, _total = members.list_members(uow, caller, offset=0, limit=cap)
    return JsonResponse({"data": [member_json(v.user, v.membership) for v in views]})


@router.post("/users/invite", response_model=MemberEnvelope, summary="Invite a member")
async def invite_member(caller: CurrentCaller, uow: Db, body: MemberInvite) -> Response:
    """200 with the member, as Tallyfy answers (not 201)."""
    return _item(members.invite(uow, caller, body.present()))


@router.get("/users/{user_id:int}", response_model=MemberEnvelope, summary="Get a member")
async def get_member(user_id: UserPath, caller: CurrentCaller, uow: Db) -> Response:
    return _item(members.get_member(uow, caller, user_id))


@router.put(
    "/users/{user_id:int}", response_model=MemberEnvelope, summary="Update a member's profile"
)
async def update_member(
    user_id: UserPath, caller: CurrentCaller, uow: Db, body: MemberUpdate
) -> Response:
    return _item(members.update_profile(uow, caller, user_id, body.present()))


@router.put("/users/{user_id}/role", response_model=MemberEnvelope, summary="Change a role")
async def change_role(
    user_id: UserPath, caller: CurrentCaller, uow: Db, body: RoleChange, request: Request
) -> Response:
    view = members.set_role(uow, caller, user_id, body.role)
    request.app.state.caller_cache.forget(caller.org_id, user_id)
    return _item(view)


@router.delete(
    "/users/{user_id}/disable", response_model=MemberEnvelope, summary="Disable a member"
)
async def disable_member(
    user_id: UserPath, caller: CurrentCaller, uow: Db, request: Request
) -> Response:
    view = members.disable(uow, caller, user_id)
    request.app.state.caller_cache.forget(caller.org_id, user_id)
    return _item(view)


@router.put("/users/{user_id}/approve", response_model=MemberEnvelope, summary="Approve a member")
async def approve_member(user_id: UserPath, caller: CurrentCaller, uow: Db) -> Response:
    return _item(members.approve(uow, caller, user_id))


@router.put("/users/{user_id}/enable", response_model=MemberEnvelope, summary="Enable a member")
async def enable_member(user_id: UserPath, caller: CurrentCaller, uow: Db) -> Response:
    return _item(members.enable(uow, caller, user_id))


@router.delete(
    "/users/{user_id:int}", response_model=MemberEnvelope, summary="Remove (deactivate) a member"
)
async def remove_member(
    user_id: UserPath,
    caller: CurrentCaller,
    uow: Db,
    request: Request,
    with_reassignment: Flag = None,
    to: TargetId = None,
) -> Response:
    """Tallyfy's removal: the member is deactivated here at once; with
    `with_reassignment=true&to=<user id>` their open tasks, step assignments and the
    processes and templates they own move to that member. Administrators only."""
    view = member_removal.remove(uow, caller, user_id, with_reassignment, to)
    request.app.state.caller_cache.forget(caller.org_id, user_id)
    return _item(view)


@router.put(
    "/users/{user_id}/to/guest", response_model=GuestEnvelope, summary="Convert a member to a guest"
)
async def member_to_guest(
    user_id: UserPath, caller: CurrentCaller, uow: Db, request: Request
) -> Response:
    guest = member_conversion.member_to_guest(uow, caller, user_id)
    request.app.state.caller_cache.forget(caller.org_id, user_id)
    return JsonResponse(envelope.item(guest_json(guest)))
