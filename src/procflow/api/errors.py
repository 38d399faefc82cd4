"""The one place where errors become HTTP responses, in Tallyfy's error shape.

domain error          status  code
Unauthenticated       401     UNAUTHENTICATED (+ WWW-Authenticate: Bearer)
PermissionDenied      403     FORBIDDEN
NotFound              404     RESOURCE_NOT_FOUND
ValidationFailed      422     VALIDATION_FAILED (+ errors by field path)
Conflict              409     CONFLICT
PreconditionFailed    412     PRECONDITION_FAILED
PreconditionRequired  428     PRECONDITION_REQUIRED
Unavailable           503     SERVICE_UNAVAILABLE (+ Retry-After)
HttpProblem           400/413/415/429 from the wire checks (+ their headers)
unknown route         404     ENDPOINT_NOT_FOUND
unserved Tallyfy route 501     ENDPOINT_NOT_IMPLEMENTED (api/unserved.py)
anything else         500     INTERNAL_ERROR (logged; never a stack trace on the wire)
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from procflow.api.problems import HttpProblem
from procflow.api.responses import JsonResponse
from procflow.api.unserved import unserved_endpoint
from procflow.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    PreconditionRequired,
    ProcflowError,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)

log = logging.getLogger("procflow.api")

STATUS: dict[type[ProcflowError], tuple[int, str]] = {
    Unauthenticated: (401, "UNAUTHENTICATED"),
    PermissionDenied: (403, "FORBIDDEN"),
    NotFound: (404, "RESOURCE_NOT_FOUND"),
    ValidationFailed: (422, "VALIDATION_FAILED"),
    Conflict: (409, "CONFLICT"),
    PreconditionFailed: (412, "PRECONDITION_FAILED"),
    PreconditionRequired: (428, "PRECONDITION_REQUIRED"),
    Unavailable: (503, "SERVICE_UNAVAILABLE"),
}
HEADERS: dict[type[ProcflowError], dict[str, str]] = {
    Unauthenticated: {"WWW-Authenticate": "Bearer"},
    Unavailable: {"Retry-After": "1"},
}


def error_body(message: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"error": True, "message": message, "code": code, **extra}


def field_path(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_errors(errors: Sequence[Any]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for error in errors:
        message = str(error.get("msg", "Invalid value."))
        message = message.removeprefix("Value error, ")
        grouped.setdefault(field_path(error.get("loc", ())), []).append(message)
    return grouped


def error_response_for(
    exc: ProcflowError,
) -> tuple[int, dict[str, Any], dict[str, str] | None]:
    """Status, body and headers of a domain error (also used per item of a bulk answer)."""
    kind = next(k for k in type(exc).__mro__ if k in STATUS)
    status, code = STATUS[kind]
    extra = {"errors": exc.errors} if isinstance(exc, ValidationFailed) else {}
    return status, error_body(exc.message, code, **extra), HEADERS.get(kind)


async def on_domain_error(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, ProcflowError)
    status, body, headers = error_response_for(exc)
    return JsonResponse(body, status_code=status, headers=headers)


async def on_http_problem(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, HttpProblem)
    extra = {"errors": exc.errors} if exc.errors else {}
    return JsonResponse(
        error_body(exc.message, exc.code, **extra), status_code=exc.status, headers=exc.headers
    )


async def on_request_validation(_request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc.errors())
    in_body = any(e.get("loc", ("",))[0] == "body" for e in exc.errors())
    if in_body:
        return JsonResponse(
            error_body("The given data was invalid.", "VALIDATION_FAILED", errors=errors),
            status_code=422,
        )
    return JsonResponse(
        error_body("The request's parameters are malformed.", "BAD_REQUEST", errors=errors),
        status_code=400,
    )


async def on_starlette_http(request: Request, exc: Exception) -> JsonResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code in (404, 405):
        endpoint = unserved_endpoint(request.method, request.url.path)
        if endpoint is not None:
            message = f"procflow does not serve Tallyfy's {endpoint} (yet)."
            return JsonResponse(error_body(message, "ENDPOINT_NOT_IMPLEMENTED"), status_code=501)
    if exc.status_code == 404:
        body = error_body("API endpoint not found", "ENDPOINT_NOT_FOUND")
    elif exc.status_code == 405:
        body = error_body("This method is not allowed on this endpoint.", "METHOD_NOT_ALLOWED")
        allowed = allowed_methods(request)
        return JsonResponse(body, status_code=405, headers={"Allow": ", ".join(allowed)})
    else:
        body = error_body(str(exc.detail), "HTTP_ERROR")
    return JsonResponse(body, status_code=exc.status_code, headers=exc.headers)


METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def on_unexpected(_request: Request, exc: Exception) -> JsonResponse:
    log.exception("unhandled error", exc_info=exc)
    return JsonResponse(error_body("Internal server error.", "INTERNAL_ERROR"), status_code=500)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProcflowError, on_domain_error)
    app.add_exception_handler(HttpProblem, on_http_problem)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_starlette_http)
    app.add_exception_handler(Exception, on_unexpected)
