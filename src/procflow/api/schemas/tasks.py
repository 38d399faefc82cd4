"""Bodies of the task endpoints."""

from typing import Annotated, Any

from pydantic import Field, field_validator

from procflow.api.schemas.base import Input, documented, refuse_null
from procflow.services.tasks import TASK_TYPES

TITLE_MAX = 600
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
Summary = Annotated[str, Field(max_length=10_000)]
Deadline = Annotated[str, Field(max_length=40), documented(format="date-time")]
Owners = dict[str, Any]
Values = Annotated[dict[str, Any], Field(max_length=500)]
Position = Annotated[int, Field(ge=0, le=100_000)]


class TaskUpdate(Input):
    """`PUT .../tasks/{id}`: only the keys present change; owners replace."""

    title: Title | None = None
    summary: Summary | None = None
    deadline: Deadline | None = None
    owners: Owners | None = None
    taskdata: Values | None = None
    position: Position | None = None
    prevent_guest_comment: bool | None = None

    @field_validator(
        "title", "owners", "taskdata", "position", "prevent_guest_comment", mode="before"
    )
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        return refuse_null(value, info.field_name)


class TaskCreate(Input):
    """`POST /tasks`: a one-off task."""

    REQUIRED = ("owners", "deadline")

    title: Title
    task_type: Annotated[str, Field(max_length=20), documented(enum=list(TASK_TYPES))] = "task"
    owners: Owners | None = None
    deadline: Deadline | None = None
    summary: Summary | None = None
    description: Summary | None = None
    prevent_guest_comment: bool = False


class TaskCompletion(Input):
    """`POST .../completed-tasks`."""

    task_id: Annotated[str, Field(min_length=1, max_length=64)]
    is_approved: bool | None = None
