"""Fractal-style envelopes: `{"data": ...}` and `{"data": [...], "meta": {"pagination"}}`."""

import math
from typing import Any

from starlette.datastructures import URL

from procflow.api.dependencies import Page


def item(data: Any) -> dict[str, Any]:
    return {"data": data}


def page_of(data: list[Any], total: int, page: Page, url: URL) -> dict[str, Any]:
    """A list response whose counts clients can loop on exactly.

    A whole-list request whose list fits in one request is one page of exactly `total`
    items; a longer one is paged by `max_unpaged_items`, with `links.next` to the rest.
    """
    fits = page.whole and page.number == 1 and total <= page.size
    per_page = max(total, 1) if fits else page.size
    current = page.number
    total_pages = max(1, math.ceil(total / per_page))
    links: dict[str, str] = {}
    if current < total_pages:
        links["next"] = str(url.include_query_params(page=current + 1))
    if current > 1:
        links["previous"] = str(url.include_query_params(page=min(current - 1, total_pages)))
    pagination = {
        "total": total,
        "count": len(data),
        "per_page": per_page,
        "current_page": current,
        "total_pages": total_pages,
        "links": links,
    }
    return {"data": data, "meta": {"pagination": pagination}}
