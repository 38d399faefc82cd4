"""Templates (checklists), their steps, captures and kick-off form.

All under `/organizations/{org_id}/checklists`.
"""

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from procflow.api.body import check_body_limits, parse_json_body, read_capped
from procflow.api.dependencies import CurrentCaller, Db, Includes, Paging
from procflow.api.presenters import envelope
from procflow.api.presenters.checklists import (
    checklist_json,
    field_json,
    form_fields_json,
    step_json,
)
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.checklists import (
    ArchiveResult,
    CaptureCreate,
    CaptureMove,
    CaptureReorder,
    ChecklistClone,
    ChecklistEnvelope,
    ChecklistList,
    ChecklistUpdate,
    FieldEnvelope,
    FieldInput,
    FormFieldsEnvelope,
    StepCreate,
    StepEnvelope,
    StepList,
    StepReorder,
    StepUpdate,
)
from procflow.api.schemas.template_import import ChecklistImport
from procflow.api.transaction import JsonRoute, TransactionalRoute
from procflow.services import steps, template_fields, templates
from procflow.services.templates import TemplateFilter

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["checklists"], route_class=JsonRoute, responses=ERRORS
)
TEMPLATE = "/checklists/{checklist_id}"
STEP = TEMPLATE + "/steps/{step_id}"
CAPTURE = STEP + "/captures/{capture_id}"


def _view(include: frozenset[str]) -> templates.View:
    return templates.View(
        steps="steps" in include,
        tags="tags" in include,
        folder=bool(include & {"folder", "folders"}),
    )


@router.get("/checklists", response_model=ChecklistList, summary="List templates")
async def list_checklists(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    page: Paging,
    include: Includes,
    q: Annotated[str | None, Query(max_length=200)] = None,
    archived: Annotated[str | None, Query(max_length=10)] = None,
    folder: Annotated[str | None, Query(max_length=64)] = None,
    folder_id: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    type: Annotated[str | None, Query(max_length=20)] = None,
    starred: bool | None = None,
    owner_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    sort_by: Annotated[str | None, Query(max_length=20)] = None,
    sort: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    flt = TemplateFilter(
        q=q,
        archived=archived,
        folder=folder or folder_id,  # the Go CLI's `blueprint list --folder` sends folder_id
        tag=tag,
        type=type,
        starred=starred,
        owner_id=owner_id,
        sort=sort_by or sort or "updated",
    )
    bundles, total = templates.list_templates(
        uow,
        caller,
        flt,
        offset=page.offset,
        limit=page.size,
        view=_view(include),
    )
    data = [checklist_json(b) for b in bundles]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


@router.post(
    "/checklists", status_code=201, response_model=ChecklistEnvelope, summary="Create a template"
)
async def create_checklist(
    caller: CurrentCaller, uow: Db, include: Includes, body: ChecklistImport
) -> Response:
    bundle = templates.create_template(uow, caller, body.present(), _view(include))
    return JsonResponse(envelope.item(checklist_json(bundle)), status_code=201)


@router.get(TEMPLATE, response_model=ChecklistEnvelope, summary="Get a template")
async def get_checklist(
    checklist_id: str, caller: CurrentCaller, uow: Db, include: Includes
) -> Response:
    bundle = templates.get_template(uow, caller, checklist_id, _view(include))
    return JsonResponse(envelope.item(checklist_json(bundle)))


@router.put(TEMPLATE, response_model=ChecklistEnvelope, summary="Update a template")
async def update_checklist(
    checklist_id: str, caller: CurrentCaller, uow: Db, include: Includes, body: ChecklistUpdate
) -> Response:
    bundle = templates.update_template(uow, caller, checklist_id, body.present(), _view(include))
    return JsonResponse(envelope.item(checklist_json(bundle)))


@router.delete(TEMPLATE, response_model=ArchiveResult, summary="Archive a template")
async def archive_checklist(checklist_id: str, caller: CurrentCaller, uow: Db) -> Response:
    bundle = templates.archive_template(uow, caller, checklist_id)
    return JsonResponse(
        {
            "message": "The template has been archived.",
            "deleted_references": [],
            "data": checklist_json(bundle),
        }
    )


@router.put(
    TEMPLATE + "/activate", response_model=ChecklistEnvelope, summary="Restore an archived template"
)
async def activate_checklist(checklist_id: str, caller: CurrentCaller, uow: Db) -> Response:
    bundle = templates.activate_template(uow, caller, checklist_id)
    return JsonResponse(envelope.item(checklist_json(bundle)))


@router.delete(
    TEMPLATE + "/delete",
    response_class=Response,
    response_description="Deleted; as Tallyfy, the answer has no body",
    summary="Delete an archived template for good",
)
async def delete_checklist(checklist_id: str, caller: CurrentCaller, uow: Db) -> Response:
    templates.delete_template(uow, caller, checklist_id)
    return Response(status_code=200)


@router.put(
    TEMPLATE + "/publish",
    response_model=ChecklistEnvelope,
    summary="Publish a template (every saved edit is already live)",
)
async def publish_checklist(checklist_id: str, caller: CurrentCaller, uow: Db) -> Response:
    bundle = templates.publish_template(uow, caller, checklist_id)
    return JsonResponse(envelope.item(checklist_json(bundle)))


FORM = "application/x-www-form-urlencoded"


async def clone_body(request: Request) -> ChecklistClone:
    """Tallyfy's SDK sends this one body as a form; JSON is accepted too."""
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw: dict[str, Any]
    if media == FORM:
        text = (await read_capped(request, request.app.state.settings.max_body_bytes)).decode(
            "utf-8", "replace"
        )
        raw = {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}
        settings = request.app.state.settings
        check_body_limits(
            raw,
            max_depth=settings.max_json_depth,
            max_items=settings.max_array_items,
            max_chars=settings.max_string_chars,
        )
    else:
        raw = await parse_json_body(request)
    try:
        return ChecklistClone.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None


async def clone_checklist(
    checklist_id: str, caller: CurrentCaller, uow: Db, request: Request
) -> Response:
    """Copy a template with its kick-off form, steps and captures."""
    body = await clone_body(request)
    bundle = templates.clone_template(
        uow, caller, checklist_id, title=body.title, tenant=body.tenant
    )
    return JsonResponse(envelope.item(checklist_json(bundle)), status_code=201)


router.add_api_route(
    TEMPLATE + "/clone",
    clone_checklist,
    methods=["POST"],
    status_code=201,
    response_model=ChecklistEnvelope,
    summary="Copy a template",
    route_class_override=TransactionalRoute,
)


@router.get(
    TEMPLATE + "/form-fields",
    response_model=FormFieldsEnvelope,
    summary="All form fields of a template",
)
async def checklist_form_fields(checklist_id: str, caller: CurrentCaller, uow: Db) -> Response:
    bundle = templates.form_fields(uow, caller, checklist_id)
    return JsonResponse(envelope.item(form_fields_json(bundle)))


@router.get(TEMPLATE + "/steps", response_model=StepList, summary="List a template's steps")
async def list_steps(
    request: Request, checklist_id: str, caller: CurrentCaller, uow: Db, page: Paging
) -> Response:
    views, total = steps.list_steps(
        uow,
        caller,
        checklist_id,
        offset=page.offset,
        limit=page.size,
    )
    data = [step_json(step, captures) for step, captures in views]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


@router.post(
    TEMPLATE + "/steps", status_code=201, response_model=StepEnvelope, summary="Add a step"
)
async def create_step(
    checklist_id: str, caller: CurrentCaller, uow: Db, body: StepCreate
) -> Response:
    step, captures = steps.create_step(uow, caller, checklist_id, body.present())
    return JsonResponse(envelope.item(step_json(step, captures)), status_code=201)


@router.get(STEP, response_model=StepEnvelope, summary="Get a step")
async def get_step(checklist_id: str, step_id: str, caller: CurrentCaller, uow: Db) -> Response:
    step, captures = steps.get_step(uow, caller, checklist_id, step_id)
    return JsonResponse(envelope.item(step_json(step, captures)))


@router.put(STEP, response_model=StepEnvelope, summary="Update a step")
async def update_step(
    checklist_id: str, step_id: str, caller: CurrentCaller, uow: Db, body: StepUpdate
) -> Response:
    step, captures = steps.update_step(uow, caller, checklist_id, step_id, body.present())
    return JsonResponse(envelope.item(step_json(step, captures)))


@router.delete(STEP, status_code=204, summary="Delete a step and its captures")
async def delete_step(checklist_id: str, step_id: str, caller: CurrentCaller, uow: Db) -> Response:
    steps.delete_step(uow, caller, checklist_id, step_id)
    return Response(status_code=204)


@router.put(STEP + "/reorder", response_model=StepEnvelope, summary="Move a step")
async def reorder_step(
    checklist_id: str, step_id: str, caller: CurrentCaller, uow: Db, body: StepReorder
) -> Response:
    step, captures = steps.reorder_step(uow, caller, checklist_id, step_id, body.position)
    return JsonResponse(envelope.item(step_json(step, captures)))


@router.post(
    STEP + "/clone",
    status_code=201,
    response_model=StepEnvelope,
    summary="Copy a step right after itself",
)
async def clone_step(checklist_id: str, step_id: str, caller: CurrentCaller, uow: Db) -> Response:
    step, captures = steps.clone_step(uow, caller, checklist_id, step_id)
    return JsonResponse(envelope.item(step_json(step, captures)), status_code=201)


@router.post(
    STEP + "/captures",
    status_code=201,
    response_model=FieldEnvelope,
    summary="Add a form field to a step",
)
async def create_capture(
    checklist_id: str, step_id: str, caller: CurrentCaller, uow: Db, body: CaptureCreate
) -> Response:
    capture = template_fields.create_capture(uow, caller, checklist_id, step_id, body.present())
    return JsonResponse(envelope.item(field_json(capture)), status_code=201)


@router.put(
    STEP + "/captures", response_model=FieldEnvelope, summary="Move a form field within its step"
)
async def reorder_capture(
    checklist_id: str, step_id: str, caller: CurrentCaller, uow: Db, body: CaptureReorder
) -> Response:
    capture = template_fields.reorder_capture(
        uow, caller, checklist_id, step_id, body.capture_id, body.position
    )
    return JsonResponse(envelope.item(field_json(capture)))


@router.put(CAPTURE, response_model=FieldEnvelope, summary="Update a form field")
async def update_capture(
    checklist_id: str,
    step_id: str,
    capture_id: str,
    caller: CurrentCaller,
    uow: Db,
    body: FieldInput,
) -> Response:
    capture = template_fields.update_capture(
        uow, caller, checklist_id, step_id, capture_id, body.present()
    )
    return JsonResponse(envelope.item(field_json(capture)))


@router.put(
    CAPTURE + "/move-out", response_model=FieldEnvelope, summary="Move a form field to another step"
)
async def move_capture(
    checklist_id: str,
    step_id: str,
    capture_id: str,
    caller: CurrentCaller,
    uow: Db,
    body: CaptureMove,
) -> Response:
    capture = template_fields.move_capture(
        uow, caller, checklist_id, step_id, capture_id, body.target_step_id, body.position
    )
    return JsonResponse(envelope.item(field_json(capture)))


@router.delete(CAPTURE, status_code=204, summary="Delete a form field")
async def delete_capture(
    checklist_id: str, step_id: str, capture_id: str, caller: CurrentCaller, uow: Db
) -> Response:
    template_fields.delete_capture(uow, caller, checklist_id, step_id, capture_id)
    return Response(status_code=204)
