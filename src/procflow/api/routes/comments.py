"""Comments, problems and resolutions on tasks: `/organizations/{org_id}/tasks/{id}/...`.

These routes take member and guest tokens alike (`CurrentActor`).
"""

from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

from fastapi import APIRouter, Request, Response

from procflow.api.dependencies import Db, Paging
from procflow.api.guest_auth import CurrentActor
from procflow.api.presenters import envelope
from procflow.api.presenters.comments import comment_json
from procflow.api.responses import JsonResponse
from procflow.api.schemas.base import ERRORS
from procflow.api.schemas.comments import (
    CommentCreate,
    CommentEnvelope,
    CommentList,
    CommentWrite,
    ProblemReport,
    ThreadResolution,
)
from procflow.api.transaction import JsonRoute
from procflow.errors import Unavailable
from procflow.services import comments
from procflow.services.unit_of_work import UnitOfWork


class RefusalAuditRoute(JsonRoute):
    """A JSON route that writes down refused guest comments after the rollback.

    The request's own transaction rolls back on the refusal, so the record is written in
    a second, separate transaction once the first is closed.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def audited(request: Request) -> Response:
            try:
                return await handler(request)
            except comments.GuestCommentRefused as refusal:
                with suppress(Unavailable):
                    factory = request.app.state.session_factory
                    with UnitOfWork(factory, write=True) as uow:
                        comments.record_refusal(uow, refusal)
                raise

        return audited


router = APIRouter(
    prefix="/organizations/{org_id}/tasks/{task_id}",
    tags=["comments"],
    route_class=RefusalAuditRoute,
    responses=ERRORS,
)


def _one(comment: Any, status: int = 200) -> Response:
    return JsonResponse(envelope.item(comment_json(comment)), status_code=status)


@router.get("/comments", response_model=CommentList, summary="List a task's comments")
async def list_comments(
    task_id: str, request: Request, actor: CurrentActor, uow: Db, page: Paging
) -> Response:
    found, total = comments.list_comments(
        uow,
        actor,
        task_id,
        offset=page.offset,
        limit=page.size,
    )
    data = [comment_json(c) for c in found]
    return JsonResponse(envelope.page_of(data, total, page, request.url))


@router.post(
    "/comment", status_code=201, response_model=CommentEnvelope, summary="Comment on a task"
)
async def add_comment(task_id: str, actor: CurrentActor, uow: Db, body: CommentCreate) -> Response:
    return _one(comments.add_comment(uow, actor, task_id, body.present()), 201)


@router.put("/comment/{comment_id}", response_model=CommentEnvelope, summary="Edit a comment")
async def update_comment(
    task_id: str, comment_id: str, actor: CurrentActor, uow: Db, body: CommentWrite
) -> Response:
    return _one(comments.update_comment(uow, actor, task_id, comment_id, body.present()))


@router.delete("/comment/{comment_id}", response_model=CommentEnvelope, summary="Delete a comment")
async def delete_comment(task_id: str, comment_id: str, actor: CurrentActor, uow: Db) -> Response:
    return _one(comments.delete_comment(uow, actor, task_id, comment_id))


@router.post(
    "/problem", status_code=201, response_model=CommentEnvelope, summary="Report a problem"
)
async def report_problem(
    task_id: str, actor: CurrentActor, uow: Db, body: ProblemReport
) -> Response:
    return _one(comments.report_problem(uow, actor, task_id, body.present()), 201)


@router.post(
    "/resolved-threads",
    status_code=201,
    response_model=CommentEnvelope,
    summary="Resolve a reported problem",
)
async def resolve_problem(
    task_id: str, actor: CurrentActor, uow: Db, body: ThreadResolution
) -> Response:
    return _one(comments.resolve_problem(uow, actor, task_id, body.present()), 201)
