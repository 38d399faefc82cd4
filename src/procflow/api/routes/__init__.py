"""Every router of the API; `app.create_app` mounts them at `/` and under `/api`.

Runs come first: they carry most of the traffic, and routes are matched in order.
"""

from fastapi import APIRouter

from procflow.api.routes import checklists, folders, me, runs, tags

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router for module in (runs, tags, folders, checklists, me)
)
