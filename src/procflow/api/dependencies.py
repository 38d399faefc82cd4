"""Request-scoped dependencies: the unit of work, the caller, paging and includes.

All are `async def` and run on the event loop: database work happens there, in one
thread, so requests never hand a connection between threads nor contend for SQLite's
write lock inside one process.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel

from procflow.api.problems import BadRequest
from procflow.domain.permissions import Caller
from procflow.errors import Unauthenticated, ValidationFailed
from procflow.services import auth
from procflow.services.unit_of_work import UnitOfWork

MAX_PER_PAGE = 100
ORG_ID_MAX = 64
WITH_MAX = 500


async def unit_of_work(request: Request) -> UnitOfWork:
    """The request's transaction, opened by `JsonRoute` (write requests lock SQLite first)."""
    uow: UnitOfWork = request.state.uow
    return uow


Db = Annotated[UnitOfWork, Depends(unit_of_work)]


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 512 or " " in token:
        raise Unauthenticated()
    return token


def refuse_nul(request: Request) -> None:
    """A NUL in the path or query string is a 400 before any lookup: PostgreSQL cannot
    compare text holding U+0000 (every authenticated route passes here first)."""
    if "\x00" in request.scope["path"] or b"%00" in request.scope["query_string"]:
        raise BadRequest("The URL holds a NUL character (%00).")


async def current_user(request: Request, uow: Db) -> int:
    refuse_nul(request)
    user_id = auth.user_for_token(uow, bearer_token(request))
    request.state.user_id = user_id  # the sandbox's journal names the caller
    return user_id


async def current_caller(
    request: Request, uow: Db, org_id: Annotated[str, Path(max_length=ORG_ID_MAX)]
) -> Caller:
    refuse_nul(request)
    caller = auth.caller_in(uow, bearer_token(request), org_id, request.app.state.caller_cache)
    request.state.caller = caller
    return caller


CurrentUser = Annotated[int, Depends(current_user)]
CurrentCaller = Annotated[Caller, Depends(current_caller)]


@dataclass(frozen=True)
class Page:
    """One page of a list. `whole` marks a request for the whole list (`without_pagination`,
    `pagination=false`): its pages are `max_unpaged_items` long, so one request never
    reads more than that, and a list that fits is answered as one page, as Tallyfy does."""

    number: int
    size: int
    whole: bool = False

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def whole_list(request: Request, number: int = 1) -> Page:
    """The page `number` of a whole-list request, `max_unpaged_items` items at most."""
    return Page(number=number, size=request.app.state.settings.max_unpaged_items, whole=True)


async def pagination(
    request: Request,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1)] = 10,
    without_pagination: Annotated[str | None, Query(max_length=5)] = None,
) -> Page:
    """`per_page` above the configured `max_page_size` (default 100) is clamped, not refused;
    `without_pagination=true` asks for everything, up to `max_unpaged_items` (default 200)
    per request (see `Page`)."""
    if (without_pagination or "").lower() in ("true", "1", "yes"):
        return whole_list(request, page)
    size = min(per_page, request.app.state.settings.max_page_size)
    return Page(number=page, size=size)


Paging = Annotated[Page, Depends(pagination)]


async def includes(
    with_: Annotated[str | None, Query(alias="with", max_length=WITH_MAX)] = None,
) -> frozenset[str]:
    """`?with=a,b,c` as a set of names (unknown names are ignored, as Tallyfy does)."""
    return frozenset(part.strip() for part in (with_ or "").split(",") if part.strip())


Includes = Annotated[frozenset[str], Depends(includes)]


def wants_strict(request: Request) -> bool:
    """RFC 7240 `Prefer: handling=strict` turns ignored keys into errors."""
    prefer = request.headers.get("prefer", "")
    return any(p.strip().lower() == "handling=strict" for p in prefer.split(","))


def strict_for(model: type[BaseModel]) -> Any:
    """A dependency: is this request strict? If so, refuse body keys `model` does not take.

    Tallyfy ignores unknown and read-only keys; a strict client wants to hear about them.
    """
    accepted = frozenset(model.model_fields)

    async def strict_mode(request: Request) -> bool:
        if not wants_strict(request):
            return False
        body = await request.json() if request.method in ("POST", "PUT", "PATCH") else {}
        unknown = sorted(set(body) - accepted) if isinstance(body, dict) else []
        if unknown:
            raise ValidationFailed(
                {key: ["This field is unknown or read-only."] for key in unknown}
            )
        return True

    return Depends(strict_mode)
