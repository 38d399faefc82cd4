"""Bodies of the comment endpoints and the documented shape of a comment."""

from typing import Annotated

from pydantic import BaseModel, Field

from procflow.api.schemas.base import HexId, Input, Meta, UserId

Content = Annotated[str, Field(max_length=200_000)]
Recipients = Annotated[list[UserId], Field(max_length=100)]


class CommentWrite(Input):
    """`POST /tasks/{id}/comment` and `PUT .../comment/{id}`; PUT changes only keys sent."""

    content: Content | None = None
    state: str | None = None
    label: str | None = None
    sent_to: Recipients | None = None


class ProblemReport(Input):
    """`POST /tasks/{id}/problem`."""

    content: Content | None = None
    state: str | None = None
    sent_to: Recipients | None = None


class ThreadResolution(Input):
    """`POST /tasks/{id}/resolved-threads`: answers the problem `thread_id`."""

    thread_id: HexId | None = None
    content: Content | None = None
    state: str | None = None
    sent_to: Recipients | None = None


class CommentOut(BaseModel):
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


class CommentEnvelope(BaseModel):
    data: CommentOut


class CommentList(BaseModel):
    data: list[CommentOut]
    meta: Meta
