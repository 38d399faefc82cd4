"""The Pydantic fields of a route's documented responses, made when something reads them.

FastAPI makes, as it builds a route, a field (a `TypeAdapter`: a validator and a
serializer of its own) for the model of every answer the route documents in `responses`
(a dozen error answers on each of procflow's routes) and one for its `response_model`.
procflow's endpoints return finished responses, so no request ever reads those fields:
only the OpenAPI document does. Made at start, for every route at the root and under
`/api`, they were most of what starting a server cost. A `DeferredFields` route is built
without them and makes them, as FastAPI would have (same names, same order), the first
time `response_field` or `response_fields` is read. A `response_model` is deferred only
for an endpoint whose declared return type is a `Response`: another endpoint's result is
serialized through its field, so that field is made at once, as before.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field
from starlette.responses import Response

if TYPE_CHECKING:
    from fastapi._compat import ModelField


class Deferred:
    """What `defer` took out of a route's arguments, given back by `restore`."""

    def __init__(self, responses: dict[int | str, Any], model: Any, later: bool) -> None:
        self.responses = responses
        self.model = model
        self.later = later

    def restore(self, route: "DeferredFields") -> None:
        route.responses = self.responses
        if self.later:
            route.response_model = self.model
        route.__dict__["_deferred"] = self


def defer(endpoint: Callable[..., Any], arguments: dict[str, Any]) -> Deferred:
    """Strip the models from a route's `arguments` (before `APIRoute.__init__` sees them)."""
    responses = arguments.pop("responses", None) or {}
    arguments["responses"] = {
        code: {k: v for k, v in answer.items() if k != "model"}
        if isinstance(answer, dict)
        else answer
        for code, answer in responses.items()
    }
    model = arguments.get("response_model")
    later = (
        model is not None
        and not isinstance(model, DefaultPlaceholder)
        and _returns_response(endpoint)
    )
    if later:
        arguments["response_model"] = None
    return Deferred(responses, model, later)


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    declared = getattr(endpoint, "__annotations__", {}).get("return")
    return isinstance(declared, type) and issubclass(declared, Response)


class DeferredFields(APIRoute):
    """An `APIRoute` whose response fields are made on first read (see the module)."""

    @property
    def response_field(self) -> "ModelField | None":
        self._make_fields()
        return self.__dict__.get("_response_field")

    @response_field.setter
    def response_field(self, field: "ModelField | None") -> None:
        self.__dict__["_response_field"] = field

    @property
    def response_fields(self) -> "dict[int | str, ModelField]":
        self._make_fields()
        return self.__dict__.get("_response_fields") or {}

    @response_fields.setter
    def response_fields(self, fields: "dict[int | str, ModelField]") -> None:
        self.__dict__["_response_fields"] = fields

    def _make_fields(self) -> None:
        deferred: Deferred | None = self.__dict__.pop("_deferred", None)
        if deferred is None:
            return
        if deferred.later and deferred.model:
            self.response_field = create_model_field(
                name="Response_" + self.unique_id, type_=deferred.model, mode="serialization"
            )
        self.response_fields = {
            code: create_model_field(
                name=f"Response_{code}_{self.unique_id}",
                type_=answer["model"],
                mode="serialization",
            )
            for code, answer in deferred.responses.items()
            if answer.get("model")
        }
