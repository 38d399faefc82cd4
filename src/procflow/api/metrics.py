"""Prometheus metrics: requests, their latency, database pool use, rate-limit refusals.

With several worker processes (`procflow serve --workers N`) each process writes its
values to files in `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multi-process mode,
chosen when that variable is set before this module is first imported) and `/metrics`,
answered by whichever worker the connection reached, adds up every worker's files. With
one process the values stay in memory.

Recording a request costs two dictionary look-ups and two updates: the metric children of
each (method, route template, status) are looked up once and kept.
"""

import os
from collections.abc import MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine, event

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "procflow_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "procflow_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
POOL_IN_USE = Gauge(
    "procflow_db_pool_connections_in_use",
    "Database connections checked out of the pool (all workers together).",
    multiprocess_mode="livesum",
)
POOL_CAPACITY = Gauge(
    "procflow_db_pool_capacity",
    "Connections the database pools may hold (all workers together).",
    multiprocess_mode="livesum",
)
RATE_LIMIT_REFUSALS = Counter(
    "procflow_rate_limit_refusals",
    "Requests answered 429 by the rate limiter, by the budget that was spent.",
    ["budget"],
)


class RequestMetrics:
    """Counts a request and observes its latency under its route's template."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def record(self, scope: MutableMapping[str, Any], status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED
        method = scope["method"] if scope["method"] in METHODS else "OTHER"
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            children = (
                REQUESTS.labels(method, template, str(status)),
                LATENCY.labels(method, template),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)


def watch_pool(engine: Engine) -> int:
    """Keep the in-use gauge current from the engine's checkout and checkin events; add the
    pool's capacity to its gauge and return it (to take it out again at shutdown)."""
    if not event.contains(engine, "checkout", _checked_out):
        event.listen(engine, "checkout", _checked_out)
        event.listen(engine, "checkin", _checked_in)
    pool: Any = engine.pool
    size = getattr(pool, "size", None)
    capacity = size() + max(0, getattr(pool, "_max_overflow", 0)) if callable(size) else 0
    POOL_CAPACITY.inc(capacity)
    return capacity


def _checked_out(*_: Any) -> None:
    POOL_IN_USE.inc()


def _checked_in(*_: Any) -> None:
    POOL_IN_USE.dec()


def exposition() -> tuple[bytes, str]:
    """The text format of every metric, of all workers in multi-process mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
