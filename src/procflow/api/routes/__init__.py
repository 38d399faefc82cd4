"""Every router of the API; `app.create_app` mounts them at `/` and under `/api`."""

from fastapi import APIRouter

from procflow.api.jsonbody import JsonRoute
from procflow.api.routes import checklists, folders, me, runs, tags

api_router = APIRouter(route_class=JsonRoute)
for module in (me, runs, tags, folders, checklists):
    api_router.include_router(module.router)
