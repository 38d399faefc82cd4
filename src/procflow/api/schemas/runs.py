"""Bodies of the run endpoints and the documented shape of a run."""

from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from procflow.api.schemas.base import HexId, Input, Output, UserId, documented, refuse_null
from procflow.domain.runs import NAME_MAX, SUMMARY_MAX

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Summary = Annotated[str, Field(max_length=SUMMARY_MAX)]
IdList = Annotated[list[HexId], Field(max_length=100)]
UserList = Annotated[list[UserId], Field(max_length=100)]
Values = Annotated[dict[str, Any], Field(max_length=500)]
NON_NULL = (
    "name",
    "owner_id",
    "tags",
    "folders",
    "users",
    "groups",
    "starred",
    "is_public",
    "prevent_guest_comment",
    "taskdata",
)


class RunUpdate(Input):
    """`PUT /runs/{id}`: only the keys present change; lists replace the current list."""

    name: Name | None = None
    summary: Summary | None = None
    owner_id: UserId | None = None
    tags: IdList | None = None
    folders: IdList | None = None
    users: UserList | None = None
    groups: IdList | None = None
    starred: bool | None = None
    is_public: bool | None = None
    prevent_guest_comment: bool | None = None
    prerun: Values | Annotated[list[Any], documented(maxItems=0)] | None = None
    taskdata: Values | None = None

    @field_validator(*NON_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        return refuse_null(value, info.field_name)

    @field_validator("prerun", mode="after")
    @classmethod
    def _prerun_object(cls, value: Any) -> Any:
        if isinstance(value, list):
            if value:
                raise ValueError("The prerun field must be an object keyed by field id.")
            return {}
        return value


class TaskOverride(Input):
    model_config = ConfigDict(strict=True, extra="ignore")

    deadline: str | None = None
    owners: dict[str, list[Any]] | None = None
    position: Annotated[int, Field(ge=0, le=100_000)] | None = None
    max_assignable: Annotated[int, Field(ge=0, le=10_000)] | None = None


class RunLaunch(RunUpdate):
    """`POST /runs`: launch a process from a template."""

    checklist_id: HexId
    user_id: UserId | None = None
    parent_id: HexId | None = None
    tasks: Annotated[dict[str, TaskOverride], Field(max_length=500)] | None = None


class RunOut(Output):
    """A run (process). Abbreviated here; every response carries the full field set."""

    model_config = ConfigDict(extra="allow")

    id: str
    increment_id: int
    checklist_id: str | None
    name: str
    summary: str | None
    status: str
    progress: dict[str, float]
    owner_id: int
    started_by: int
    prerun: dict[str, Any]
    tags: list[Any] | dict[str, Any]
    folders: list[Any] | dict[str, Any]
    users: list[int]
    starred: bool
    is_public: bool
    prevent_guest_comment: bool
    created_at: str
    last_updated: str
    archived_at: str | None


class RunEnvelope(Output):
    data: RunOut


class RunList(Output):
    data: list[RunOut]
    meta: dict[str, Any]
