"""Every router of the API; `app.create_app` mounts them at `/` and under `/api`.

Runs come first: they carry most of the traffic, and routes are matched in order.
"""

from fastapi import APIRouter

from procflow.api.routes import (
    activity,
    automations,
    checklists,
    comments,
    email,
    files,
    folders,
    groups,
    guests,
    me,
    members,
    run_bulk,
    run_export,
    run_labels,
    run_tasks,
    runs,
    search,
    tags,
    tasks,
    webhooks,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        runs,
        run_labels,
        run_bulk,
        run_tasks,
        run_export,
        tasks,
        tags,
        folders,
        checklists,
        automations,
        me,
        groups,
        members,
        activity,
        comments,
        webhooks,
        email,
        guests,
        files,
        search,
    )
)
