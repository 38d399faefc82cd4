"""`GET/POST /_sandbox/clock`: read procflow's clock, set it, or move it forward.

Everything that reads the time reads `timeutil.CLOCK` (deadlines, overdue and due-soon
tasks, `last_updated`, idempotency keys, webhook retries, and the rate-limit windows of
`--tallyfy-limits`), so moving it here makes a deadline pass without waiting.
"""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from procflow.api.deferred_routes import DeferredRoute
from procflow.domain.timeutil import CLOCK, format_ts, parse_ts
from procflow.errors import ValidationFailed
from procflow.sandbox.durations import parse_duration
from procflow.sandbox.requests_in import read_body

EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(9000, 1, 1)  # leaves room for deadlines computed from "now"

router = APIRouter(
    prefix="/_sandbox", tags=["sandbox"], include_in_schema=False, route_class=DeferredRoute
)


class ClockChange(BaseModel):
    """Exactly one of `now` (an ISO 8601 timestamp) and `advance` (an ISO 8601 duration)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    now: str | None = Field(default=None, max_length=64)
    advance: str | None = Field(default=None, max_length=64)

    @field_validator("now")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                moment = parse_ts(value)
            except ValueError:
                raise ValueError("Give an ISO 8601 timestamp, e.g. 2030-01-31T09:00:00Z.") from None
            if not EARLIEST <= moment < LATEST:
                raise ValueError("The clock can be set between 1970 and 9000.")
        return value

    @field_validator("advance")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)  # BadDuration is a ValueError: its message is the error
        return value

    @model_validator(mode="after")
    def _one_of(self) -> "ClockChange":
        if (self.now is None) == (self.advance is None):
            raise ValueError("Give either 'now' or 'advance'.")
        return self


def clock_state() -> dict[str, Any]:
    return {"now": format_ts(CLOCK.now()), "offset_seconds": CLOCK.offset.total_seconds()}


@router.get("/clock", summary="What time it is in the sandbox")
async def read_clock() -> dict[str, Any]:
    return clock_state()


@router.post("/clock", summary="Set the sandbox clock, or move it forward")
async def change_clock(request: Request) -> dict[str, Any]:
    change = await read_body(request, ClockChange)
    if change.now is not None:
        CLOCK.set(parse_ts(change.now))
    elif change.advance is not None:
        by = parse_duration(change.advance)
        if CLOCK.now() + by >= LATEST:
            raise ValidationFailed.one("advance", "The clock can be moved up to the year 9000.")
        CLOCK.advance(by)
    return clock_state()


def reset_clock(_app: FastAPI) -> None:
    """A reset hook: the sandbox goes back to real time."""
    CLOCK.reset()
