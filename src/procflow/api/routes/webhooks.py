"""Watchers (n8n's Tallyfy trigger subscribes through them), the webhook delivery log,
redelivery, and the organization's signing secret. See docs/webhooks.md."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from procflow.api.dependencies import CurrentCaller, Db, Paging
from procflow.api.presenters import envelope
from procflow.api.presenters.webhooks import event_json, secret_json, watcher_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.webhooks import (
    EventEnvelope,
    EventList,
    SecretEnvelope,
    WatcherCreate,
    WatcherEnvelope,
    WatcherList,
)
from procflow.api.transaction import JsonRoute
from procflow.services import watchers, webhook_log, webhook_secrets

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["webhooks"], route_class=JsonRoute, responses=ERRORS
)
PathId = Annotated[str, Path(max_length=64)]
UserPath = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/watchers", response_model=WatcherList, summary="List watchers")
async def list_watchers(
    caller: CurrentCaller,
    uow: Db,
    notification: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """`?notification=webhook` lists webhook watchers only. Members see their own."""
    found = watchers.list_watchers(uow, caller, notification)
    return JsonResponse({"data": [watcher_json(w) for w in found]})


@router.post(
    "/users/{user_id}/add-watcher",
    status_code=201,
    response_model=WatcherEnvelope,
    summary="Add a watcher",
)
async def add_watcher(
    user_id: UserPath, caller: CurrentCaller, uow: Db, body: WatcherCreate
) -> Response:
    watcher = watchers.add_watcher(uow, caller, user_id, body.present())
    return JsonResponse(envelope.item(watcher_json(watcher)), status_code=201)


@router.delete(
    "/remove-watcher/{watcher_id}", response_model=WatcherEnvelope, summary="Remove a watcher"
)
async def remove_watcher(watcher_id: PathId, caller: CurrentCaller, uow: Db) -> Response:
    watcher = watchers.remove_watcher(uow, caller, watcher_id)
    return JsonResponse(envelope.item(watcher_json(watcher)))


@router.get("/webhook-events", response_model=EventList, summary="List events and deliveries")
async def list_events(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    event: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Newest first, each with its deliveries and their attempts (administrators only)."""
    views, total = webhook_log.list_events(
        uow, caller, offset=page.offset, limit=page.size, event_type=event
    )
    data = [event_json(v) for v in views]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


@router.get(
    "/webhook-events/{event_id}", response_model=EventEnvelope, summary="Get an event's log"
)
async def get_event(event_id: PathId, caller: CurrentCaller, uow: Db) -> Response:
    view = webhook_log.get_event(uow, caller, event_id)
    return JsonResponse(envelope.item(event_json(view, payload=True)))


@router.post(
    "/webhook-events/{event_id}/redeliver",
    response_model=EventEnvelope,
    summary="Send an event again",
)
async def redeliver(event_id: PathId, caller: CurrentCaller, uow: Db) -> Response:
    view = webhook_log.redeliver(uow, caller, event_id)
    return JsonResponse(envelope.item(event_json(view)))


@router.get("/webhook-secret", response_model=SecretEnvelope, summary="Get the signing secret")
async def get_secret(caller: CurrentCaller, uow: Db) -> Response:
    return JsonResponse(envelope.item(secret_json(webhook_secrets.get_secret(uow, caller))))


@router.post(
    "/webhook-secret/rotate", response_model=SecretEnvelope, summary="Rotate the signing secret"
)
async def rotate_secret(caller: CurrentCaller, uow: Db) -> Response:
    """A new secret signs from now on; the previous one also signs for 24 hours."""
    return JsonResponse(envelope.item(secret_json(webhook_secrets.rotate_secret(uow, caller))))
