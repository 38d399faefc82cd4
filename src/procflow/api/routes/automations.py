"""A template's automation rules: `/organizations/{org_id}/checklists/{id}/automated-actions`.

There is no GET: rules are read inline, in the template's `automated_actions`.
"""

from fastapi import APIRouter, Response

from procflow.api.dependencies import CurrentCaller, Db
from procflow.api.presenters import envelope
from procflow.api.presenters.checklists import automation_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.automations import AutomationEnvelope, AutomationInput
from procflow.api.schemas.base import ERRORS
from procflow.api.transaction import JsonRoute
from procflow.services import automation_rules

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["checklists"], route_class=JsonRoute, responses=ERRORS
)
RULES = "/checklists/{checklist_id}/automated-actions"
RULE = RULES + "/{automation_id}"


@router.post(
    RULES, status_code=201, response_model=AutomationEnvelope, summary="Add an automation rule"
)
async def create_automation(
    checklist_id: str, caller: CurrentCaller, uow: Db, body: AutomationInput
) -> Response:
    rule = automation_rules.create_rule(uow, caller, checklist_id, body.as_body())
    return JsonResponse(envelope.item(automation_json(rule)), status_code=201)


@router.put(RULE, response_model=AutomationEnvelope, summary="Replace an automation rule")
async def update_automation(
    checklist_id: str, automation_id: str, caller: CurrentCaller, uow: Db, body: AutomationInput
) -> Response:
    rule = automation_rules.update_rule(uow, caller, checklist_id, automation_id, body.as_body())
    return JsonResponse(envelope.item(automation_json(rule)))


@router.delete(RULE, status_code=204, summary="Delete an automation rule")
async def delete_automation(
    checklist_id: str, automation_id: str, caller: CurrentCaller, uow: Db
) -> Response:
    automation_rules.delete_rule(uow, caller, checklist_id, automation_id)
    return Response(status_code=204)
