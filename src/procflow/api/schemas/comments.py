"""Bodies of the comment endpoints and the documented shape of a comment."""

from typing import Annotated

from pydantic import Field

from procflow.api.schemas.base import NOT_BLANK, HexId, Input, Meta, Output, UserId, documented
from procflow.services.comments import LABELS, STATES

Content = Annotated[str, Field(max_length=200_000), documented(pattern=NOT_BLANK, maxLength=30_000)]
Recipients = Annotated[list[UserId], Field(max_length=100)]
State = Annotated[str, documented(enum=list(STATES))]
Label = Annotated[str, documented(enum=list(LABELS))]


class CommentWrite(Input):
    """`POST /tasks/{id}/comment` and `PUT .../comment/{id}`; PUT changes only keys sent."""

    NOT_NULL = ("content",)

    content: Content | None = None
    state: State | None = None
    label: Label | None = None
    sent_to: Recipients | None = None


class CommentCreate(CommentWrite):
    """`POST /tasks/{id}/comment`: `content` is required."""

    REQUIRED = ("content",)


class ProblemReport(Input):
    """`POST /tasks/{id}/problem`."""

    REQUIRED = ("content",)

    content: Content | None = None
    state: State | None = None
    sent_to: Recipients | None = None


class ThreadResolution(Input):
    """`POST /tasks/{id}/resolved-threads`: answers the problem `thread_id`."""

    REQUIRED = ("content",)

    thread_id: HexId | None = None
    content: Content | None = None
    state: State | None = None
    sent_to: Recipients | None = None


class CommentOut(Output):
    id: str
    content: str
    author_id: int | None
    author_type: str | None
    task_id: str
    label: str
    state: str
    created_at: str | None
    updated_at: str | None
    archived_at: str | None
    resolve_id: str | None
    sent_to: list[int]


class CommentEnvelope(Output):
    data: CommentOut


class CommentList(Output):
    data: list[CommentOut]
    meta: Meta
