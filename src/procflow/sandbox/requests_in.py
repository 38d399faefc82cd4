"""Control-route bodies: read like the API's own, refused in Tallyfy's error shape."""

from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from procflow.api.body import parse_json_body

Model = TypeVar("Model", bound=BaseModel)


async def read_body(request: Request, model: type[Model]) -> Model:
    """The request's JSON object as `model`: 400 when it is not JSON, 422 per field."""
    raw: Any = await parse_json_body(request)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None
