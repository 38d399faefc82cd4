"""Small helpers shared by the webhook tests."""

from typing import Any

from sqlalchemy import select

from procflow.domain.mail import MAIL_ONLY_EVENTS
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import Event, Task
from tests.factories import World


def events_of(world: World) -> list[Event]:
    with UnitOfWork(world.factory, write=False) as uow:
        return list(
            uow.session.scalars(
                select(Event)
                .where(Event.org_id == world.org_id, Event.type.not_in(MAIL_ONLY_EVENTS))
                .order_by(Event.created_at)
            )
        )


def types_of(world: World) -> list[str]:
    return [e.type for e in events_of(world)]


def task_ids(world: World, run_id: str) -> list[str]:
    with UnitOfWork(world.factory, write=False) as uow:
        return list(
            uow.session.scalars(
                select(Task.id).where(Task.run_id == run_id).order_by(Task.position)
            )
        )


def complete(world: World, run_id: str, task_id: str) -> None:
    response = world.call("POST", f"/runs/{run_id}/completed-tasks", json={"task_id": task_id})
    assert response.status_code == 200, response.text


def with_template_webhook(world: World, url: str, steps: int = 2, **step: Any) -> str:
    """A template whose own `webhook` is `url` (set through the API, checked as a client's)."""
    checklist = world.template(steps=[{"title": f"Step {n}", **step} for n in range(steps)])
    response = world.call("PUT", f"/checklists/{checklist}", json={"webhook": url})
    assert response.status_code == 200, response.text
    return checklist
