"""Bodies of the member endpoints and the documented shape of a member."""

from typing import Annotated, Any, Literal

from pydantic import Field

from procflow.api.schemas.base import Input, Meta, Output, documented
from procflow.domain.timezones import known_timezones

RoleName = Literal["admin", "standard", "light"]


def _timezone_names(schema: dict[str, Any]) -> None:
    """The names a service accepts (`documented`), read from the time zone database when
    the OpenAPI document is made rather than at import."""
    schema["enum"] = list(known_timezones())


class MemberInvite(Input):
    """`POST /users/invite`: the person's email, optional names, and a role (light)."""

    email: Annotated[str, Field(min_length=3, max_length=254), documented(pattern="@")]
    first_name: str | None = None
    last_name: str | None = None
    role: RoleName | None = None


class MemberUpdate(Input):
    """`PUT /users/{id}`: only the keys sent change; none of them may be `null`."""

    NOT_NULL = ("first_name", "last_name", "timezone")

    first_name: Annotated[str, Field(max_length=500), documented(maxLength=100)] | None = None
    last_name: Annotated[str, Field(max_length=500), documented(maxLength=100)] | None = None
    timezone: (
        Annotated[str, Field(max_length=64), Field(json_schema_extra=_timezone_names)] | None
    ) = None


class RoleChange(Input):
    """`PUT /users/{id}/role`."""

    role: RoleName


class MemberOut(Output):
    id: int
    email: str
    username: str
    first_name: str
    last_name: str
    full_name: str
    profile_pic: str | None
    timezone: str
    active: bool
    is_suspended: bool
    status: str
    role: str | None
    created_at: str | None
    approved_at: str | None
    disabled_at: str | None


class MemberEnvelope(Output):
    data: MemberOut


class MemberList(Output):
    data: list[MemberOut]
    meta: Meta


class MemberAll(Output):
    data: list[MemberOut]
