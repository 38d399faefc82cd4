"""The answer a fault gives: Tallyfy's error shape, with the headers its status implies.

A 429 or 503 carries `Retry-After` (clients wait that long before retrying); a fault with
`rate_limit` imitates Tallyfy's rate-limit refusal in full, `X-RateLimit-*` headers and
message included; a 401 carries `WWW-Authenticate: Bearer` as procflow's own 401s do.
"""

import math
import time
from http import HTTPStatus
from typing import Any

from procflow.api.errors import error_body
from procflow.domain.timeutil import CLOCK

TALLYFY_REQUESTS_PER_MINUTE = 600

DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("BAD_REQUEST", "The request is malformed."),
    401: ("UNAUTHENTICATED", "Unauthenticated."),
    403: ("FORBIDDEN", "You don't have permission to do this."),
    404: ("RESOURCE_NOT_FOUND", "Resource not found"),
    408: ("REQUEST_TIMEOUT", "The request took too long."),
    409: ("CONFLICT", "An identical request is still being processed."),
    422: ("VALIDATION_FAILED", "The given data was invalid."),
    429: ("RATE_LIMIT_EXCEEDED", "Too many requests."),
    500: ("INTERNAL_ERROR", "Internal server error."),
    502: ("BAD_GATEWAY", "Bad gateway."),
    503: ("SERVICE_UNAVAILABLE", "The service is unavailable; try again shortly."),
    504: ("GATEWAY_TIMEOUT", "The gateway timed out."),
}


def clock_timestamp() -> float:
    """Unix time on procflow's clock (real time plus the sandbox's offset)."""
    return time.time() + CLOCK.offset.total_seconds()


def answer(
    status: int, body: dict[str, Any] | str | None, retry_after: int, rate_limit: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and headers of a faulted answer. A string `body` is the message; an object
    is laid over the default body, so `{"message": ...}` keeps Tallyfy's shape."""
    code, message = DEFAULTS.get(status, ("HTTP_ERROR", _phrase(status)))
    headers: dict[str, str] = {}
    if status in (429, 503):
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if rate_limit:
        message = (
            f"Rate limit exceeded: at most {TALLYFY_REQUESTS_PER_MINUTE} requests for this "
            f"token per minute. Retry in {retry_after} seconds."
        )
        headers |= {
            "X-RateLimit-Limit": str(TALLYFY_REQUESTS_PER_MINUTE),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(math.ceil(clock_timestamp() + retry_after)),
        }
    shaped = error_body(body if isinstance(body, str) else message, code)
    if status == 422:
        shaped["errors"] = {}
    if isinstance(body, dict):
        shaped |= body
    return shaped, headers


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase + "."
    except ValueError:
        return "Error."
