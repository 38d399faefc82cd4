"""Guests of an organization (`/organizations/{org_id}/guests`) and a guest's own tasks."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from procflow.api.dependencies import CurrentCaller, Db, Paging
from procflow.api.guest_auth import CurrentActor
from procflow.api.presenters import envelope
from procflow.api.presenters.guests import guest_json
from procflow.api.presenters.people import member_json
from procflow.api.presenters.tasks import task_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS, ListEnvelope
from procflow.api.schemas.guests import (
    GuestAll,
    GuestCreate,
    GuestEnvelope,
    GuestList,
    GuestTokenEnvelope,
    GuestUpdate,
)
from procflow.api.schemas.members import MemberEnvelope
from procflow.api.transaction import JsonRoute
from procflow.domain.timeutil import utcnow
from procflow.errors import PermissionDenied
from procflow.services import guests, member_conversion
from procflow.services.guests import GuestCaller
from procflow.services.records import Guest

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["guests"], route_class=JsonRoute, responses=ERRORS
)


def _one(guest: Guest, status: int = 200) -> Response:
    return JsonResponse(envelope.item(guest_json(guest)), status_code=status)


@router.get("/guests", response_model=GuestList, summary="List guests")
async def list_guests(request: Request, caller: CurrentCaller, uow: Db, page: Paging) -> Response:
    found, total = guests.list_guests(uow, caller, page.offset, page.size)
    return JsonResponse(envelope.page_of([guest_json(g) for g in found], total, page, request.url))


@router.get("/guests-list", response_model=GuestAll, summary="Every guest, unpaged")
async def all_guests(request: Request, caller: CurrentCaller, uow: Db) -> Response:
    """At most `max_unpaged_items` guests (the first, by the list's order)."""
    found, _total = guests.list_guests(uow, caller, 0, request.app.state.settings.max_unpaged_items)
    return JsonResponse({"data": [guest_json(g) for g in found]})


@router.post("/guests", status_code=201, response_model=GuestEnvelope, summary="Add a guest")
async def create_guest(caller: CurrentCaller, uow: Db, body: GuestCreate) -> Response:
    return _one(guests.create_guest(uow, caller, body.present()), 201)


@router.get("/guests/{email}", response_model=GuestEnvelope, summary="Get a guest by email")
async def get_guest(email: str, caller: CurrentCaller, uow: Db) -> Response:
    return _one(guests.get_guest(uow, caller, email))


@router.put("/guests/{email}", response_model=GuestEnvelope, summary="Update a guest")
async def update_guest(email: str, caller: CurrentCaller, uow: Db, body: GuestUpdate) -> Response:
    return _one(guests.update_guest(uow, caller, email, body.present()))


@router.delete("/guests/{email}", response_model=GuestEnvelope, summary="Delete a guest")
async def delete_guest(email: str, caller: CurrentCaller, uow: Db) -> Response:
    """200 with the guest as it was, as Tallyfy answers."""
    return _one(guests.delete_guest(uow, caller, email))


@router.delete("/guests/{email}/disable", response_model=GuestEnvelope, summary="Disable a guest")
async def disable_guest(email: str, caller: CurrentCaller, uow: Db) -> Response:
    return _one(guests.set_disabled(uow, caller, email, True))


@router.put("/guests/{email}/enable", response_model=GuestEnvelope, summary="Enable a guest")
async def enable_guest(email: str, caller: CurrentCaller, uow: Db) -> Response:
    return _one(guests.set_disabled(uow, caller, email, False))


@router.post(
    "/guests/{email}/to/member",
    response_model=MemberEnvelope,
    summary="Convert a guest to a member",
)
async def guest_to_member(email: str, caller: CurrentCaller, uow: Db) -> Response:
    """The guest becomes a `light` member (change the role with `PUT /users/{id}/role`)."""
    view = member_conversion.guest_to_member(uow, caller, email)
    return JsonResponse(envelope.item(member_json(view.user, view.membership)))


@router.post(
    "/guests/{email}/token",
    status_code=201,
    response_model=GuestTokenEnvelope,
    summary="Issue an access token for a guest",
)
async def issue_guest_token(email: str, caller: CurrentCaller, uow: Db) -> Response:
    token = guests.issue_token(uow, caller, email)
    return JsonResponse(envelope.item({"token": token}), status_code=201)


@router.get("/guests/{email}/tasks", response_model=ListEnvelope, summary="A guest's tasks")
async def tasks_of_guest(
    email: str,
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    status: Annotated[str, Query(max_length=20)] = "all",
) -> Response:
    tasks, owners, total = guests.tasks_of_guest(
        uow,
        caller,
        email,
        page.offset,
        page.size,
        status,
    )
    now = utcnow()
    data = [task_json(t, owners[t.id], now) for t in tasks]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


@router.get("/guest-tasks", response_model=ListEnvelope, summary="The calling guest's tasks")
async def guest_tasks(request: Request, actor: CurrentActor, uow: Db, page: Paging) -> Response:
    if not isinstance(actor, GuestCaller):
        raise PermissionDenied("This endpoint is for guest tokens.")
    tasks, owners, total = guests.assigned_tasks(uow, actor, page.offset, page.size)
    now = utcnow()
    data = [task_json(t, owners[t.id], now) for t in tasks]
    return JsonResponse(envelope.page_of(data, total, page, request.url))
