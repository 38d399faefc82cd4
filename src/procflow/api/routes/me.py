"""The caller's own account: `/me`, `/me/organizations`, `/organizations/{org_id}/me`."""

from fastapi import APIRouter, Response

from procflow.api.dependencies import CurrentCaller, CurrentUser, Db
from procflow.api.presenters import envelope
from procflow.api.presenters.people import organization_json, user_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS, Envelope, ListEnvelope
from procflow.api.schemas.members import MemberUpdate
from procflow.api.transaction import JsonRoute
from procflow.errors import NotFound
from procflow.services import members, people

router = APIRouter(tags=["me"], route_class=JsonRoute, responses=ERRORS)


@router.get("/me", response_model=Envelope, summary="The caller")
async def me(user_id: CurrentUser, uow: Db) -> Response:
    """The caller as their first organization (of `/me/organizations`) shows them."""
    user = people.get_user(uow, user_id)
    return JsonResponse(envelope.item(user_json(user, people.home_membership(uow, user_id), None)))


@router.get(
    "/me/organizations", response_model=ListEnvelope, summary="Organizations the caller belongs to"
)
async def my_organizations(user_id: CurrentUser, uow: Db) -> Response:
    data = [organization_json(view) for view in people.organization_views(uow, user_id)]
    return JsonResponse(
        {
            "data": data,
            "meta": {
                "pagination": {
                    "total": len(data),
                    "count": len(data),
                    "per_page": max(len(data), 1),
                    "current_page": 1,
                    "total_pages": 1,
                    "links": {},
                }
            },
        }
    )


@router.get(
    "/organizations/{org_id}/me",
    response_model=Envelope,
    summary="The caller within an organization",
)
async def me_in_org(caller: CurrentCaller, uow: Db) -> Response:
    user = people.get_user(uow, caller.user_id)
    profile = people.membership_in(uow, caller.user_id, caller.org_id)
    return JsonResponse(envelope.item(user_json(user, profile, caller.role.value)))


@router.put(
    "/organizations/{org_id}/me",
    response_model=Envelope,
    summary="Update the caller's own profile in an organization",
)
async def update_me_in_org(caller: CurrentCaller, uow: Db, body: MemberUpdate) -> Response:
    """Names and time zone as this organization shows the caller (any role may)."""
    members.update_profile(uow, caller, caller.user_id, body.present())
    return await me_in_org(caller, uow)


@router.get("/organizations/{org_id}", response_model=Envelope, summary="An organization")
async def organization(caller: CurrentCaller, uow: Db) -> Response:
    views = people.organization_views(uow, caller.user_id, caller.org_id)
    if not views:
        raise NotFound("Organization")
    return JsonResponse(envelope.item(organization_json(views[0])))
