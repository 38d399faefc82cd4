"""`/api/...` served by the routes at the root, for a sandbox that built them only there.

A normal server builds every route twice, at `/` and under `/api`; building them is most
of what starting costs. The sandbox builds them once and hands `/api/x` to `/x`. Clients
see the same answers: the routes under `/api` are the same routes.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX = "/api"


class ApiPrefix:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            scope = dict(scope)
            scope["path"] = scope["path"][len(PREFIX) :]
            raw = scope.get("raw_path")
            if isinstance(raw, bytes) and raw.startswith(PREFIX.encode() + b"/"):
                scope["raw_path"] = raw[len(PREFIX) :]
        await self.app(scope, receive, send)
