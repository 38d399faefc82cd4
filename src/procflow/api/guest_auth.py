"""Who is calling a route that members and guests share: a member or a guest.

The comment routes, `GET /guest-tasks` and the task routes a guest may use (read, fill
`taskdata`, complete, reopen its own tasks) take `CurrentActor`. Every other route takes
`CurrentCaller`, which knows member tokens only, so a guest token there is a 401.
"""

from typing import Annotated

from fastapi import Depends, Path, Request

from procflow.api.dependencies import Db, bearer_token, refuse_nul
from procflow.errors import Unauthenticated
from procflow.services import auth, guests
from procflow.services.comments import Actor


async def current_actor(
    request: Request, uow: Db, org_id: Annotated[str, Path(max_length=64)]
) -> Actor:
    """A member of `org_id` if the token is a member's, else the guest it was issued to."""
    refuse_nul(request)
    token = bearer_token(request)
    actor: Actor
    try:
        actor = auth.caller_in(uow, token, org_id, request.app.state.caller_cache)
    except Unauthenticated:
        actor = guests.guest_for_token(uow, token, org_id)
    request.state.caller = actor
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
