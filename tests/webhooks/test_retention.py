"""Retention: finished events, their deliveries and attempts, and sent e-mails go once
older than the retention; pending and recent ones stay. procflow's clock is moved forward
instead of waited on; the workers prune in turns claimed in the database, and
`procflow events prune` prunes at once."""

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from procflow.cli.main import app
from procflow.domain.mail import TASK_ASSIGNED_EVENT
from procflow.domain.timeutil import CLOCK, Clock, utcnow
from procflow.services import delivery, mailer, retention
from procflow.services.smtp_sender import LogSender
from procflow.services.unit_of_work import UnitOfWork
from procflow.services.webhook_sender import HttpSender
from procflow.settings import Settings, get_settings
from procflow.storage.database import SessionFactory
from procflow.storage.models import (
    EmailMessage,
    Event,
    ScheduleSlot,
    WebhookAttempt,
    WebhookDelivery,
)
from tests.email.conftest import drain as drain_mail
from tests.factories import World
from tests.webhooks.conftest import drain, loopback_only
from tests.webhooks.helpers import with_template_webhook
from tests.webhooks.receiver import Receiver

RETENTION = 30


@pytest.fixture
def moved(hook_factory: SessionFactory) -> Iterator[Clock]:
    """procflow's clock, put back after the test; the pruning turn due now."""
    CLOCK.reset()
    with UnitOfWork(hook_factory, write=True) as uow:
        uow.session.execute(
            update(ScheduleSlot).where(ScheduleSlot.name == "pruning").values(due_at=utcnow())
        )
    yield CLOCK
    CLOCK.reset()


LiveWorker = Callable[..., delivery.Worker]


@pytest.fixture
def live_worker(hook_factory: SessionFactory) -> Iterator[LiveWorker]:
    """Delivery workers on procflow's clock (the one the tests move), closed afterwards."""
    made: list[tuple[delivery.Worker, HttpSender]] = []

    def make(pruning: retention.Schedule | None = None) -> delivery.Worker:
        sender = HttpSender(timeout=10, allow_private=True, resolver=loopback_only)
        config = delivery.WorkerConfig(worker_id=f"test-{uuid4().hex[:8]}", concurrency=1)
        worker = delivery.Worker(hook_factory, config, sender, clock=utcnow, pruning=pruning)
        made.append((worker, sender))
        return worker

    yield make
    for worker, sender in made:
        worker.close()
        sender.close()


def make_mailer(factory: SessionFactory) -> mailer.Mailer:
    config = mailer.MailerConfig(worker_id=f"test-{uuid4().hex[:8]}", base_url="http://pf.test")
    return mailer.Mailer(factory, config, LogSender("procflow@pf.test"), draw=lambda: 0.5)


def launch_hooked(hooks: World, receiver: Receiver, path: str) -> str:
    """A launched process whose template posts to `path` and that assigns a member."""
    checklist = with_template_webhook(
        hooks, receiver.url(path), steps=1, assignees=[hooks.standard.user_id]
    )
    run_id: str = hooks.launch(checklist)["id"]
    return run_id


def event_ids(hooks: World, run_id: str) -> dict[str, str]:
    with UnitOfWork(hooks.factory, write=False) as uow:
        rows = uow.session.execute(select(Event.type, Event.id).where(Event.run_id == run_id))
        return {row.type: row.id for row in rows}


def rows_of(factory: SessionFactory, event_id: str) -> tuple[int, int, int, int]:
    """How many events, deliveries, attempts and e-mails `event_id` has left."""
    with UnitOfWork(factory, write=False) as uow:
        session = uow.session

        def count(query: object) -> int:
            return int(session.scalar(query) or 0)  # type: ignore[call-overload]

        deliveries = select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)
        return (
            count(select(func.count()).select_from(Event).where(Event.id == event_id)),
            count(select(func.count()).where(WebhookDelivery.event_id == event_id)),
            count(select(func.count()).where(WebhookAttempt.delivery_id.in_(deliveries))),
            count(select(func.count()).where(EmailMessage.event_id == event_id)),
        )


def test_old_finished_events_go_pending_and_recent_ones_stay(
    hooks: World,
    live_worker: LiveWorker,
    receiver: Receiver,
    hook_factory: SessionFactory,
    moved: Clock,
) -> None:
    receiver.status = lambda r: 503 if r.path == "/busy" else 200
    worker = live_worker()
    mail = make_mailer(hook_factory)
    old = event_ids(hooks, launch_hooked(hooks, receiver, "/old"))
    busy = event_ids(hooks, launch_hooked(hooks, receiver, "/busy"))["process.launched"]
    drain(worker)
    drain_mail(mail)
    launched, assigned = old["process.launched"], old[TASK_ASSIGNED_EVENT]
    assert rows_of(hook_factory, launched) == (1, 1, 1, 0)
    assert rows_of(hook_factory, assigned) == (1, 0, 0, 1)
    assert rows_of(hook_factory, busy)[:3] == (1, 1, 1)  # retrying: still pending

    moved.advance(timedelta(days=RETENTION + 1))
    recent = event_ids(hooks, launch_hooked(hooks, receiver, "/recent"))["process.launched"]
    drain_mail(mail)
    cutoff = retention.cutoff_of(utcnow(), RETENTION)
    expected = retention.preview(hook_factory, cutoff)
    assert expected.events >= 2
    assert expected.messages >= 1
    assert retention.prune(hook_factory, cutoff, limit=1) == expected  # one row a batch
    assert rows_of(hook_factory, launched) == rows_of(hook_factory, assigned) == (0, 0, 0, 0)
    assert rows_of(hook_factory, busy)[:3] == (1, 1, 1)
    assert rows_of(hook_factory, recent)[0] == 1
    assert retention.preview(hook_factory, cutoff).total == 0

    # The delivery log answers for a pruned event as for one that never was.
    assert hooks.call("GET", f"/webhook-events/{launched}").status_code == 404
    assert hooks.call("POST", f"/webhook-events/{launched}/redeliver").status_code == 404
    listed = [e["id"] for e in hooks.call("GET", "/webhook-events").json()["data"]]
    assert launched not in listed
    assert busy in listed
    assert recent in listed


def test_a_redelivered_event_is_kept_a_whole_retention_more(
    hooks: World,
    live_worker: LiveWorker,
    receiver: Receiver,
    hook_factory: SessionFactory,
    moved: Clock,
) -> None:
    worker = live_worker()
    launched = event_ids(hooks, launch_hooked(hooks, receiver, "/again"))["process.launched"]
    drain(worker)
    moved.advance(timedelta(days=RETENTION + 1))
    answer = hooks.call("POST", f"/webhook-events/{launched}/redeliver")
    assert answer.status_code == 200, answer.text
    drain(worker)
    retention.prune(hook_factory, retention.cutoff_of(utcnow(), RETENTION))
    assert rows_of(hook_factory, launched)[:2] == (1, 2)
    moved.advance(timedelta(days=RETENTION + 1))
    retention.prune(hook_factory, retention.cutoff_of(utcnow(), RETENTION))
    assert rows_of(hook_factory, launched) == (0, 0, 0, 0)


def test_the_workers_take_turns_at_pruning(
    hooks: World,
    live_worker: LiveWorker,
    receiver: Receiver,
    hook_factory: SessionFactory,
    moved: Clock,
) -> None:
    hour = timedelta(hours=1)
    one = live_worker(retention.Schedule(RETENTION, hour))
    two = make_mailer(hook_factory)
    two.pruning = retention.Schedule(RETENTION, hour)
    launched = event_ids(hooks, launch_hooked(hooks, receiver, "/turns"))["process.launched"]
    drain(one)
    drain_mail(two)
    moved.advance(timedelta(days=RETENTION + 1))

    def holder() -> str | None:
        with UnitOfWork(hook_factory, write=False) as uow:
            slot = uow.session.get(ScheduleSlot, "pruning")
            return slot.claimed_by if slot else None

    one.step()  # its turn: it prunes
    assert holder() == one.config.worker_id
    assert rows_of(hook_factory, launched) == (0, 0, 0, 0)
    two.step()  # the turn is taken for an hour
    assert holder() == one.config.worker_id
    moved.advance(hour)
    two.step()
    assert holder() == two.config.worker_id


def test_prune_from_the_command_line(
    hooks: World,
    live_worker: LiveWorker,
    receiver: Receiver,
    hook_settings: Settings,
    hook_factory: SessionFactory,
    moved: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = live_worker()
    launched = event_ids(hooks, launch_hooked(hooks, receiver, "/cli"))["process.launched"]
    drain(worker)
    moved.advance(timedelta(days=8))
    monkeypatch.setenv("PROCFLOW_DATABASE_URL", hook_settings.database_url)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        kept = runner.invoke(app, ["events", "prune"])  # the default keeps 30 days
        assert kept.exit_code == 0, kept.output
        assert kept.output.startswith("removed ")
        assert rows_of(hook_factory, launched)[0] == 1
        dry = runner.invoke(app, ["events", "prune", "--older-than", "7", "--dry-run", "--json"])
        assert dry.exit_code == 0, dry.output
        counted = json.loads(dry.output)
        assert counted["dry_run"] is True
        assert counted["events"] >= 1
        assert counted["deliveries"] >= 1
        assert counted["attempts"] >= 1
        assert rows_of(hook_factory, launched)[0] == 1  # a dry run deletes nothing
        done = runner.invoke(app, ["events", "prune", "--older-than", "7"])
        assert done.exit_code == 0, done.output
        assert done.output.startswith(f"removed {counted['events']} event(s), ")
        assert rows_of(hook_factory, launched) == (0, 0, 0, 0)
        monkeypatch.setenv("PROCFLOW_EVENT_RETENTION_DAYS", "0")
        get_settings.cache_clear()
        forever = runner.invoke(app, ["events", "prune"])
        assert forever.exit_code == 0
        assert "kept forever" in forever.output
        bad = runner.invoke(app, ["events", "prune", "--older-than", "-1"])
        assert bad.exit_code == 2
    finally:
        get_settings.cache_clear()
