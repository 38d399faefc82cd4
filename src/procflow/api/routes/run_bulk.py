"""Bulk update: `POST /organizations/{org_id}/runs/bulk-update`.

Each item is a `PUT /runs/{id}` body plus the run's `id` (and optionally `if_match`), and
is checked, permitted and applied exactly as that PUT. By default every item stands alone:
the answer is 200 with one result per item, in order, each with the status and body its
PUT would have had. With `"atomic": true` nothing is written unless every item succeeds;
a failed atomic batch answers with the status of its first failing item.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from procflow.api.conditional import parse_if_match
from procflow.api.dependencies import CurrentCaller, Db, Includes, strict_for
from procflow.api.errors import error_body, error_response_for, validation_errors
from procflow.api.presenters.runs import run_json
from procflow.api.responses import JsonResponse
from procflow.api.routes.run_labels import CONDITIONAL
from procflow.api.routes.runs import view_of
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.run_bulk import BulkItem, BulkResult, BulkUpdate
from procflow.api.schemas.runs import RunUpdate
from procflow.api.transaction import JsonRoute
from procflow.domain import runs as rules
from procflow.domain.etags import run_etag
from procflow.domain.timeutil import utcnow
from procflow.errors import PreconditionRequired, ProcflowError, ValidationFailed
from procflow.services import run_bulk
from procflow.services.run_bulk import Outcome
from procflow.settings import Settings

router = APIRouter(
    prefix="/organizations/{org_id}/runs",
    tags=["runs"],
    route_class=JsonRoute,
    responses={**ERRORS, **CONDITIONAL},
)
NOT_APPLIED = 424
NOT_APPLIED_BODY = error_body(
    "Not applied: another item of this atomic request failed.", "FAILED_DEPENDENCY"
)


@router.post(
    "/bulk-update", response_model=BulkResult, summary="Update many processes in one request"
)
async def bulk_update(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    include: Includes,
    body: BulkUpdate,
    strict: Annotated[bool, strict_for(BulkUpdate)],
) -> Response:
    """Per item by default (200, one result per item); `atomic`: all or nothing."""
    settings: Settings = request.app.state.settings
    if len(body.runs) > settings.max_bulk_items:
        raise ValidationFailed.one(
            "runs", f"At most {settings.max_bulk_items} processes can be updated at once."
        )
    items = [_item(entry, strict, settings.require_if_match) for entry in body.runs]
    outcomes = run_bulk.update_runs(
        uow, caller, items, atomic=body.atomic, strict=strict, view=view_of(include)
    )
    failures = [o.error for o in outcomes if o.error is not None]
    if body.atomic and failures:
        status, first, _headers = error_response_for(failures[0])
        results = [_failed_atomically(o) for o in outcomes]
        message = f"Nothing was updated: {len(failures)} of {len(outcomes)} items failed."
        meta = _meta(0, len(failures), len(outcomes) - len(failures))
        return JsonResponse(
            {**first, "message": message, "data": results, "meta": meta}, status_code=status
        )
    now = utcnow()
    results = [_result(o, include, now) for o in outcomes]
    return JsonResponse(
        {"data": results, "meta": _meta(len(outcomes) - len(failures), len(failures))}
    )


def _item(entry: BulkItem, strict: bool, require_if_match: bool) -> run_bulk.Item:
    """One item's PUT body, checked as `PUT /runs/{id}` checks its own, in the same order:
    unknown keys (strict mode), a missing required `If-Match`, then the body's types."""
    patch = entry.model_extra or {}
    precondition = parse_if_match(entry.if_match)
    unknown = sorted(set(patch) - set(RunUpdate.model_fields)) if strict else []
    if unknown:
        refusal: ProcflowError = ValidationFailed(
            {key: ["This field is unknown or read-only."] for key in unknown}
        )
        return run_bulk.Item(entry.id, refused=refusal)
    if precondition is None and require_if_match:
        return run_bulk.Item(entry.id, refused=PreconditionRequired())
    try:
        update = RunUpdate.model_validate(patch)
    except ValidationError as exc:
        return run_bulk.Item(entry.id, refused=ValidationFailed(validation_errors(exc.errors())))
    return run_bulk.Item(entry.id, update.present(), precondition)


def _result(outcome: Outcome, include: frozenset[str], now: datetime) -> dict[str, Any]:
    if outcome.error is not None:
        status, error, _headers = error_response_for(outcome.error)
        return {"id": outcome.run_id, "status": status, "error": error}
    bundle = outcome.bundle
    assert bundle is not None
    figures = rules.figures(bundle.facts, now)
    return {
        "id": outcome.run_id,
        "status": 200,
        "etag": run_etag(bundle.run.id, bundle.run.version, figures),
        "data": run_json(bundle, include, now, figures),
    }


def _failed_atomically(outcome: Outcome) -> dict[str, Any]:
    if outcome.error is None:
        return {"id": outcome.run_id, "status": NOT_APPLIED, "error": NOT_APPLIED_BODY}
    status, error, _headers = error_response_for(outcome.error)
    return {"id": outcome.run_id, "status": status, "error": error}


def _meta(succeeded: int, failed: int, not_applied: int = 0) -> dict[str, int]:
    return {"succeeded": succeeded, "failed": failed, "not_applied": not_applied}
