"""Protocol-level refusals raised at the HTTP edge (bad JSON, wrong media type, too big).

These are not domain errors: they concern the request's wire form, so they live here.
"""


class HttpProblem(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(
        self,
        message: str,
        headers: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers
        self.errors = errors  # by parameter name, for a malformed query value


class BadRequest(HttpProblem):
    pass


class PayloadTooLarge(HttpProblem):
    status = 413
    code = "PAYLOAD_TOO_LARGE"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")


class UnsupportedMediaType(HttpProblem):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class TooManyRequests(HttpProblem):
    status = 429
    code = "RATE_LIMIT_EXCEEDED"


class RequestTimeout(HttpProblem):
    status = 408
    code = "REQUEST_TIMEOUT"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The request body did not arrive within {seconds:g} seconds.")
