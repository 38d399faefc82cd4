"""The activity feed: `/organizations/{org_id}/activity-feeds`."""

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BeforeValidator

from procflow.api.dependencies import CurrentCaller, Db, Page
from procflow.api.presenters import envelope
from procflow.api.presenters.activity import activity_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.activity import ActivityList
from procflow.api.schemas.base import ERRORS
from procflow.api.transaction import JsonRoute
from procflow.services import activity

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """Only `YYYY-MM-DD`: pydantic alone would also take a Unix time such as `0`."""
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("Use a date of the form YYYY-MM-DD.")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]

router = APIRouter(
    prefix="/organizations/{org_id}", tags=["activity"], route_class=JsonRoute, responses=ERRORS
)
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/activity-feeds", response_model=ActivityList, summary="List activity records")
async def list_activity(
    request: Request,
    caller: CurrentCaller,
    uow: Db,
    entity_type: Annotated[str | None, Query(max_length=40)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    type: Annotated[str | None, Query(max_length=40)] = None,
    verb: Annotated[str | None, Query(max_length=30)] = None,
    actor_type: Annotated[str | None, Query(max_length=10)] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    field: Text = None,
    created_after: IsoDate | None = None,
    created_before: IsoDate | None = None,
    actor_email: Text = None,
    source: Annotated[str | None, Query(max_length=10)] = None,
    search: Text = None,
    sort: Literal["-created_at", "created_at"] = "-created_at",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1)] = 20,
) -> Response:
    """Newest first by default; dates are `YYYY-MM-DD` (UTC), both bounds inclusive."""
    paging = Page(number=page, size=min(per_page, request.app.state.settings.max_page_size))
    query = activity.FeedQuery(
        entity_type=entity_type,
        entity_id=entity_id,
        type=type,
        verb=verb,
        actor_type=actor_type,
        actor_id=actor_id,
        field=field,
        created_after=created_after,
        created_before=created_before,
        actor_email=actor_email,
        source=source,
        search=search,
        newest_first=sort == "-created_at",
    )
    items, total = activity.feed(uow, caller, query, offset=paging.offset, limit=paging.size)
    return JsonResponse(
        envelope.page_of([activity_json(i) for i in items], total, paging, request.url)
    )
