"""Bodies of the guest endpoints and the documented shape of a guest."""

from typing import Annotated, Any

from pydantic import Field, field_validator

from procflow.api.schemas.base import EMAIL_PATTERN, Input, Meta, Output, documented, refuse_null
from procflow.services.guests import NAME_MAX

Email = Annotated[
    str,
    Field(max_length=254),
    documented(pattern=EMAIL_PATTERN),
]
Name = Annotated[str, Field(max_length=500), documented(maxLength=NAME_MAX)]
Details = Annotated[dict[str, Any], Field(max_length=50)]


class GuestUpdate(Input):
    """`PUT /guests/{email}`: only the keys sent change; `details` merge key by key."""

    first_name: Name | None = None
    last_name: Name | None = None
    details: Details | None = None
    phone: Annotated[str, Field(max_length=2000)] | None = None
    company_name: Annotated[str, Field(max_length=2000)] | None = None


class GuestCreate(GuestUpdate):
    """`POST /guests`: `email` is required and unique in the organization."""

    email: Email

    @field_validator("email", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return refuse_null(value, "email")


class GuestOut(Output):
    id: int
    guest_id: str
    email: str
    first_name: str
    last_name: str
    full_name: str
    link: str
    last_accessed_at: str | None
    last_known_ip: str | None
    last_known_country: str | None
    created_at: str | None
    last_updated: str | None
    deleted_at: str | None
    disabled_at: str | None
    details: dict[str, Any]


class GuestEnvelope(Output):
    data: GuestOut


class GuestList(Output):
    data: list[GuestOut]
    meta: Meta


class GuestAll(Output):
    data: list[GuestOut]


class GuestTokenOut(Output):
    token: str


class GuestTokenEnvelope(Output):
    data: GuestTokenOut
