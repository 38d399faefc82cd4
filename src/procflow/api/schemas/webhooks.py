"""Bodies and documented shapes of the watcher, delivery log and secret endpoints."""

from typing import Annotated, Any

from pydantic import Field

from procflow.api.schemas.base import Input, Meta, Output, documented

Short = Annotated[str, Field(max_length=64)]


class WatcherCreate(Input):
    """`POST /users/{id}/add-watcher`, as n8n's Tallyfy trigger sends it: `object_type`
    (`organization`, `checklist`, `run` or `task`; default `organization`), `object_id`
    (default the organization), `notification_type` (`webhook` or `email`; default
    `email`), `frequency` (`electric`, `daily` or `weekly`), and the `webhook` URL that a
    webhook watcher posts every event to."""

    object_type: (
        Annotated[str, documented(enum=["organization", "checklist", "run", "task"])] | None
    ) = None
    object_id: Short | None = None
    notification_type: Annotated[str, documented(enum=["webhook", "email"])] | None = None
    frequency: Annotated[str, documented(enum=["electric", "daily", "weekly"])] | None = None
    webhook: Annotated[str, Field(max_length=2048)] | None = None


class WatcherEnvelope(Output):
    data: dict[str, Any]


class WatcherList(Output):
    data: list[dict[str, Any]]


class EventEnvelope(Output):
    data: dict[str, Any]


class EventList(Output):
    data: list[dict[str, Any]]
    meta: Meta


class SecretEnvelope(Output):
    data: dict[str, Any]
