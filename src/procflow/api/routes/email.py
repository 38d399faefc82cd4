"""The caller's e-mail preferences in an organization (docs/email.md)."""

from fastapi import APIRouter, Response

from procflow.api.dependencies import CurrentCaller, Db
from procflow.api.presenters import envelope
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.email import EmailPreferences, EmailPreferencesEnvelope
from procflow.api.transaction import JsonRoute
from procflow.services import email_preferences

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["email"], route_class=JsonRoute, responses=ERRORS
)


@router.get(
    "/me/email-preferences",
    response_model=EmailPreferencesEnvelope,
    summary="Which e-mails the caller gets",
)
async def get_preferences(caller: CurrentCaller, uow: Db) -> Response:
    return JsonResponse(envelope.item(email_preferences.preferences(uow, caller)))


@router.put(
    "/me/email-preferences",
    response_model=EmailPreferencesEnvelope,
    summary="Turn kinds of e-mail on or off",
)
async def put_preferences(caller: CurrentCaller, uow: Db, body: EmailPreferences) -> Response:
    """Only the kinds sent change; every kind is on until turned off."""
    result = email_preferences.update(uow, caller, body.present())
    return JsonResponse(envelope.item(result))
