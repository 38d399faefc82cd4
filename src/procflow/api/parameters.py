"""A route's declared parameters, resolved without FastAPI's general machinery.

FastAPI reads a route's signature for two things: the OpenAPI document, and, on every
request, the solving of its dependency tree (request-scoped caches, exit stacks, endpoint
context, telemetry). procflow's dependencies are plain `async def` functions of the
request and of scalar path, query and header parameters, and a route takes at most one
JSON body model: for them most of that solving is bookkeeping, which cost a quarter of the
instructions of a cheap run update.

A `ParameterPlan` walks the same `Dependant` tree once, when the route is built, and on
each request validates the same fields with their own validators (text whose only
constraint is a maximum length is measured directly), so every value the endpoint
receives is the one FastAPI would have given it. It resolves only what is valid: as soon
as a parameter or the body fails validation, the request is handed to FastAPI's handler
unchanged, so that every validation error is FastAPI's own (dependencies are reads of the
request and may run twice). A route the plan cannot express (a sync or generator
dependency, cookies, forms, sequences, security scopes, an endpoint that does not return
a `Response`) is left to FastAPI entirely, as is every request while dependency
overrides are set. `tests/api/test_parameter_plan.py` sends requests both ways.
"""

import inspect
import types
from collections.abc import Awaitable, Callable, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from annotated_types import MaxLen
from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

_INVALID: Any = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})
_TEXT = (str, str | None)


def _scalar(annotation: Any) -> bool:
    """`str`, `int`, `float`, `bool`, or an optional one: read with `.get()`, no model."""
    if get_origin(annotation) in (Union, types.UnionType):
        return all(_scalar(arg) for arg in get_args(annotation))
    return annotation in _SCALARS


def _plain_text_limit(info: Any) -> int | None:
    """The length limit of text whose only constraint is a maximum length, else None."""
    if info.annotation not in _TEXT or any(type(m) is not MaxLen for m in info.metadata):
        return None
    limits = [m.max_length for m in info.metadata]
    return min(limits) if limits else 1 << 62


@dataclass(frozen=True, slots=True)
class _Leaf:
    """A path, query or header parameter, read and validated as FastAPI does."""

    name: str
    key: str
    field: Any
    loc: tuple[str, str]
    max_length: int | None
    """For text at most this long (or of any length, if None), nothing else to check."""
    required: bool
    default: Any
    copy_default: bool
    """Whether the default is copied for each request (FastAPI deep-copies it; a copy of
    None, text, a number or a truth value is the value itself)."""
    validate_default: bool

    @classmethod
    def of(cls, field: Any) -> "_Leaf | None":
        info = field.field_info
        if info.validation_alias not in (None, field.alias) or not _scalar(info.annotation):
            return None
        return cls(
            name=field.name,
            key=field.alias,
            field=field,
            loc=(info.in_.value, field.alias),
            max_length=_plain_text_limit(info),
            required=info.is_required(),
            default=field.default,
            copy_default=type(field.default) not in _SCALARS,
            validate_default=bool(info.validate_default),
        )

    def read(self, source: Mapping[str, Any]) -> Any:
        raw = source.get(self.key)
        if raw is not None and self.max_length is not None:
            return raw if len(raw) <= self.max_length else _INVALID
        if raw is None:
            if self.required:
                return _INVALID
            raw = deepcopy(self.default) if self.copy_default else self.default
            if not self.validate_default:
                return raw
        value, errors = self.field.validate(raw, {}, loc=self.loc)
        return _INVALID if errors else value


@dataclass(frozen=True, slots=True)
class _Step:
    """One function of the tree: what it takes, and the steps that feed it."""

    call: Callable[..., Awaitable[Any]]
    request_name: str | None
    sources: tuple[tuple[str, tuple[_Leaf, ...]], ...]
    """The request's attributes it reads (`path_params`, `query_params`, `headers`), each
    with the parameters read from it; an attribute it takes nothing from is not read."""
    children: tuple[tuple[str | None, "_Step", bool], ...]

    async def run(self, request: Request, cache: dict[Any, Any], body: dict[str, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        for name, child, cached in self.children:
            if cached and child.call in cache:
                value = cache[child.call]
            else:
                value = await child.run(request, cache, {})
                if value is _INVALID:
                    return _INVALID
                if cached:
                    cache[child.call] = value
            if name is not None:
                kwargs[name] = value
        for attribute, leaves in self.sources:
            source = getattr(request, attribute)
            for leaf in leaves:
                value = leaf.read(source)
                if value is _INVALID:
                    return _INVALID
                kwargs[leaf.name] = value
        if self.request_name is not None:
            kwargs[self.request_name] = request
        kwargs.update(body)
        return await self.call(**kwargs)


def _leaves(fields: Sequence[Any]) -> tuple[_Leaf, ...] | None:
    leaves = []
    for field in fields:
        leaf = _Leaf.of(field)
        if leaf is None:
            return None
        leaves.append(leaf)
    return tuple(leaves)


def _compile(dependant: Dependant, *, top: bool) -> _Step | None:
    call = dependant.call
    unsupported = (
        dependant.cookie_params
        or (dependant.body_params and not top)
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.concurrency is not None
        or not inspect.iscoroutinefunction(call)
    )
    if unsupported or call is None:
        return None
    path = _leaves(dependant.path_params)
    query = _leaves(dependant.query_params)
    header = _leaves(dependant.header_params)
    if path is None or query is None or header is None:
        return None
    children: list[tuple[str | None, _Step, bool]] = []
    for sub in dependant.dependencies:
        step = _compile(sub, top=False)
        if step is None:
            return None
        children.append((sub.name, step, sub.use_cache))
    return _Step(
        call=call,
        request_name=dependant.request_param_name,
        sources=tuple(
            (attribute, leaves)
            for attribute, leaves in (
                ("path_params", path),
                ("query_params", query),
                ("headers", header),
            )
            if leaves
        ),
        children=tuple(children),
    )


def _returns_response(endpoint: Callable[..., Any]) -> bool:
    annotation = inspect.signature(endpoint).return_annotation
    return inspect.isclass(annotation) and issubclass(annotation, Response)


@dataclass(frozen=True, slots=True)
class ParameterPlan:
    """How to call a route's endpoint from a request, when every input is valid."""

    root: _Step
    body_field: Any

    @classmethod
    def of(cls, route: APIRoute) -> "ParameterPlan | None":
        """The plan for `route`, or None if FastAPI must solve its parameters itself.

        The plan reads FastAPI's `Dependant` and `ModelField`; should a FastAPI release
        name their parts otherwise, every route is left to FastAPI (slower, never wrong),
        and `tests/api/test_parameter_plan.py` says so.
        """
        try:
            return cls._planned(route)
        except (AttributeError, TypeError):
            return None

    @classmethod
    def _planned(cls, route: APIRoute) -> "ParameterPlan | None":
        body_field = route.body_field
        if body_field is not None:
            annotation = body_field.field_info.annotation
            single_model = (
                len(route.dependant.body_params) == 1
                and not getattr(route, "_embed_body_fields", False)
                and inspect.isclass(annotation)
                and issubclass(annotation, BaseModel)
            )
            if not single_model:
                return None
        if not _returns_response(route.endpoint):
            return None
        root = _compile(route.dependant, top=True)
        return None if root is None else cls(root=root, body_field=body_field)

    async def answer(self, request: Request) -> Response | None:
        """The endpoint's response, or None if FastAPI must handle this request."""
        if request.app.dependency_overrides:
            return None
        body: dict[str, Any] = {}
        if self.body_field is not None:
            value, errors = self.body_field.validate(await request.json(), {}, loc=("body",))
            if errors:
                return None
            body[self.body_field.name] = value
        response = await self.root.run(request, {}, body)
        if response is _INVALID:
            return None
        if not isinstance(response, Response):
            raise TypeError(f"{request.url.path}: the endpoint did not return a Response")
        return response
