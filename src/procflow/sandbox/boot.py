"""A sandbox from nothing: its settings, its database, its people, its application."""

import asyncio
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import Engine

from procflow.sandbox import schema, snapshots
from procflow.sandbox.app import create_sandbox_app
from procflow.sandbox.people import create_people
from procflow.sandbox.state import People, SandboxState
from procflow.services.unit_of_work import UnitOfWork
from procflow.settings import Settings
from procflow.storage.database import make_engine, make_session_factory
from procflow.storage.migrate import upgrade

DATABASE = "sandbox.db"


def sandbox_settings(base: Settings, folder: Path, database_url: str | None) -> Settings:
    """`base` on a database and a files folder of the sandbox's own; webhooks may reach
    receivers on this machine (the tests' own)."""
    url = database_url or f"sqlite:///{folder / DATABASE}"
    return base.model_copy(
        update={
            "database_url": url,
            "files_dir": str(folder / "files"),
            "files_backend": "directory",
            "webhook_allow_private": True,
        }
    )


def prepare(settings: Settings, folder: Path | None = None) -> People:
    """Bring the database to the latest schema and make the sandbox's people."""
    fresh = folder / DATABASE if folder is not None else None
    if fresh is None or settings.database_url != f"sqlite:///{fresh}" or not schema.copy_to(fresh):
        engine = make_engine(settings)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
    engine = make_engine(settings)
    try:
        with UnitOfWork(make_session_factory(engine), write=True) as uow:
            return create_people(uow)
    finally:
        engine.dispose()


def start(
    settings: Settings,
    folder: Path | None = None,
    seed: Path | None = None,
    tallyfy_limits: bool = False,
) -> FastAPI:
    """The sandbox application, its database ready and its baseline taken (`folder`: the
    sandbox's own, where its temporary database is)."""
    people = prepare(settings, folder)
    app = create_sandbox_app(settings, SandboxState(people=people, tallyfy_limits=tallyfy_limits))
    app.state.sandbox.baseline = snapshots.take(engine_of(app))
    if seed is not None:
        from procflow.sandbox import seeding

        seeded = asyncio.run(seeding.seed(app, seeding.read_file(seed)))
        app.state.sandbox.seed_tokens = seeded["tokens"]
    return app


def engine_of(app: FastAPI) -> Engine:
    engine: Engine = app.state.engine
    return engine
