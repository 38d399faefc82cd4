"""Bodies of the group endpoints and the documented shape of a group."""

from typing import Annotated, Any

from pydantic import Field, field_validator

from procflow.api.schemas.base import NOT_BLANK, Input, Meta, Output, documented, refuse_null
from procflow.services.references import MAX_LIST

Email = Annotated[str, Field(min_length=3, max_length=254)]
MemberId = Annotated[int, Field(ge=1, le=2**31 - 1)]
PeopleList = documented(maxItems=MAX_LIST, uniqueItems=True)
GroupName = Annotated[str, documented(pattern=NOT_BLANK, maxLength=200)]


class GroupCreate(Input):
    """`POST /groups`: `name` is required and unique in the organization."""

    name: GroupName
    description: str | None = None
    logo: str | None = None
    members: Annotated[list[MemberId], Field(max_length=500), PeopleList] | None = None
    guests: Annotated[list[Email], Field(max_length=500), PeopleList] | None = None

    @field_validator("members", "guests", mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: Any) -> Any:
        return refuse_null(value, info.field_name)


class GroupUpdate(GroupCreate):
    """`PUT /groups/{id}`: only the keys sent change; `members` and `guests` replace."""

    name: GroupName = ""

    @field_validator("name", mode="before")
    @classmethod
    def _name_not_null(cls, value: Any) -> Any:
        return refuse_null(value, "name")


class GroupOut(Output):
    id: str
    name: str
    description: str | None
    logo: str | None
    members: list[int]
    guests: list[str]
    created_at: str | None
    last_updated: str | None
    updated_at: str | None
    deleted_at: str | None


class GroupEnvelope(Output):
    data: GroupOut


class GroupList(Output):
    data: list[GroupOut]
    meta: Meta
