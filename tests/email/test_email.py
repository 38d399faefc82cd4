"""E-mails from the outbox to a real local SMTP server, one mail worker step at a time,
with procflow's clock moved forward instead of waited on: assignment, due-soon and overdue
reminders, mentions and guest invitations arrive once each, and a preference turned off
stops its kind."""

import logging
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import select

from procflow.domain.mail import mentioned_emails
from procflow.domain.timeutil import CLOCK
from procflow.services import mailer, reminders
from procflow.services.smtp_sender import LogSender
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.models import EmailMessage, TaskReminder, User
from procflow.storage.repositories import mail_outbox
from tests.email.conftest import Inbox, MakeMailer, drain
from tests.factories import Member, World


def address(world: World, member: Member) -> str:
    with UnitOfWork(world.factory, write=False) as uow:
        found: str | None = uow.session.scalar(select(User.email).where(User.id == member.user_id))
        assert found is not None
        return found


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def two_day_task_for(world: World, member: Member) -> str:
    step = {"title": "Review the contract", "assignees": [member.user_id],
            "deadline": {"value": 2, "unit": "days"}}  # fmt: skip
    run_id: str = world.launch(world.template(steps=[step]))["id"]
    return run_id


def test_assignment_due_soon_and_overdue_arrive_once_each(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    to = address(world, world.standard)
    two_day_task_for(world, world.standard)
    drain(mail_worker)
    assert inbox.subjects(to) == ["New task: Review the contract"]
    body = text_of(inbox.to(to)[0])
    assert "Review the contract" in body
    assert f"http://pf.test/organizations/{world.org_id}/runs/" in body
    assert inbox.to(address(world, world.admin)) == []  # the launcher assigned no one else
    CLOCK.advance(timedelta(hours=36))
    drain(mail_worker)
    CLOCK.advance(timedelta(hours=13))
    drain(mail_worker)
    CLOCK.advance(timedelta(days=3))
    drain(mail_worker)
    drain(mail_worker)
    assert inbox.subjects(to) == [
        "New task: Review the contract",
        "Due soon: Review the contract",
        "Overdue: Review the contract",
    ]


def test_a_preference_turned_off_stops_its_emails(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    to = address(world, world.standard)
    off = {"task_assigned": False, "task_overdue": False}
    answer = world.call("PUT", "/me/email-preferences", world.standard, json=off)
    assert answer.status_code == 200, answer.text
    shown = world.call("GET", "/me/email-preferences", world.standard).json()["data"]
    assert shown == {"task_assigned": False, "task_due_soon": True, "task_overdue": False,
                     "comment_mention": True}  # fmt: skip
    refused = world.call("PUT", "/me/email-preferences", world.standard, json={"task_overdue": 1})
    assert refused.status_code == 422, refused.text
    two_day_task_for(world, world.standard)
    drain(mail_worker)
    CLOCK.advance(timedelta(days=3))
    drain(mail_worker)
    assert inbox.to(to) == []
    on = world.call("PUT", "/me/email-preferences", world.standard, json={"task_assigned": True})
    assert on.json()["data"]["task_assigned"] is True
    two_day_task_for(world, world.standard)
    drain(mail_worker)
    assert inbox.subjects(to) == ["New task: Review the contract"]


def first_task(world: World, run: dict[str, Any]) -> str:
    tasks = world.call("GET", f"/runs/{run['id']}/tasks").json()["data"]
    task_id: str = tasks[0]["id"]
    return task_id


def test_mentions_and_a_guest_invitation_with_its_link(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    steps: list[dict[str, Any]] = [
        {"title": "Draft"},
        {"title": "Sign", "assignees": [world.light.user_id]},
    ]
    task = first_task(world, world.launch(world.template(steps=steps)))
    hidden = first_task(world, world.launch(world.template(steps=[{"title": "Secret"}])))
    light = address(world, world.light)
    content = f"Please look, @{light.upper()}. And you, @{address(world, world.admin)}."
    body = {"content": content, "sent_to": [world.standard.user_id]}
    assert world.call("POST", f"/tasks/{task}/comment", json=body).status_code == 201
    elsewhere = {"content": f"@{light} see this", "sent_to": [world.light.user_id]}
    assert world.call("POST", f"/tasks/{hidden}/comment", json=elsewhere).status_code == 201
    guest = f"guest-{world.org_id[:8]}@example.com"
    assert world.call("POST", "/guests", json={"email": guest}).status_code == 201
    token = world.call("POST", f"/guests/{guest}/token", json={}).json()["data"]["token"]
    drain(mail_worker)
    for member in (world.standard, world.light):
        subjects = inbox.subjects(address(world, member))
        (mention,) = [s for s in subjects if "mentioned you" in s]
        assert mention.endswith("mentioned you: Draft")
    # The author is not told of their own comment; the light member holds no task of the
    # other process, so a mention there would show them what they may not read.
    assert inbox.to(address(world, world.admin)) == []
    (invitation,) = inbox.to(guest)
    text = text_of(invitation)
    assert f"http://pf.test/organizations/{world.org_id}/guest-tasks" in text
    (mailed,) = [w for w in text.split() if w.startswith("pg")]  # a token of its own
    assert mailed != token
    headers = {"Authorization": f"Bearer {mailed}"}
    assert world.call("GET", "/guest-tasks", headers=headers).status_code == 200
    with UnitOfWork(world.factory, write=False) as uow:
        kept = uow.session.scalars(select(EmailMessage).where(EmailMessage.to_address == guest))
        assert [(m.state, m.body) for m in kept] == [("sent", None)]  # no token at rest


def test_a_refusal_fails_at_once_and_a_busy_server_is_tried_again(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    refused, busy = (f"{kind}-{world.org_id[:8]}@example.com" for kind in ("refused", "busy"))
    for guest in (refused, busy):
        assert world.call("POST", "/guests", json={"email": guest}).status_code == 201
        assert world.call("POST", f"/guests/{guest}/token", json={}).status_code == 201
    drain(mail_worker)
    assert inbox.to(refused) == inbox.to(busy) == []
    CLOCK.advance(timedelta(minutes=2))  # past the first retry's delay
    drain(mail_worker)
    CLOCK.advance(timedelta(days=1))
    drain(mail_worker)
    assert inbox.to(refused) == []
    assert len(inbox.to(busy)) == 1
    with UnitOfWork(world.factory, write=False) as uow:
        rows = uow.session.execute(
            select(EmailMessage.to_address, EmailMessage.state, EmailMessage.attempts).where(
                EmailMessage.to_address.in_([refused, busy])
            )
        )
        assert sorted(rows) == [(busy, "sent", 2), (refused, "failed", 1)]


def test_two_workers_never_share_a_message_or_a_reminder_turn(
    world: World, make_mailer: MakeMailer, smtp: tuple[Inbox, str]
) -> None:
    one, two = make_mailer(LogSender("x@pf.test")), make_mailer(LogSender("x@pf.test"))
    for _ in range(3):
        two_day_task_for(world, world.standard)
    now = CLOCK.now()
    one.fan_out(now)
    first = one.claim(now)
    assert len([m for m in first if m.subject.startswith("New task")]) >= 3
    assert two.claim(now) == []
    later = now + one.config.lease + timedelta(seconds=1)
    assert {m.message_id for m in two.claim(later)} >= {m.message_id for m in first}
    due = later + timedelta(minutes=1)
    turns = []
    for worker in (one, two):
        with UnitOfWork(world.factory, write=True) as uow:
            name = worker.config.worker_id
            turns.append(mail_outbox.claim_slot(uow.connection, "reminders", name, later, due))
    assert turns == [True, False]  # one scan per turn, whoever asks


def test_without_an_smtp_server_emails_are_logged(
    world: World, make_mailer: MakeMailer, caplog: pytest.LogCaptureFixture
) -> None:
    worker = make_mailer(LogSender("procflow@pf.test"))
    two_day_task_for(world, world.standard)
    with caplog.at_level(logging.INFO, logger="procflow.email"):
        drain(worker)
    to = address(world, world.standard)
    assert any(to in r.getMessage() and "New task" in r.getMessage() for r in caplog.records)
    with UnitOfWork(world.factory, write=False) as uow:
        states = uow.session.scalars(
            select(EmailMessage.state).where(EmailMessage.to_address == to)
        )
        assert list(states) == ["sent"]


def test_mentions_are_addresses_after_an_at_sign() -> None:
    text = "cc @Ann@Example.com, @bob@example.org. not a@b.co @nobody @ann@example.com"
    assert mentioned_emails(text) == ["ann@example.com", "bob@example.org"]


def test_guests_are_told_of_their_tasks_and_reminded_with_their_link(
    world: World, smtp: tuple[Inbox, str], mail_worker: mailer.Mailer
) -> None:
    inbox, _ = smtp
    guest, stranger = (f"{who}-{world.org_id[:8]}@example.com" for who in ("guest", "stranger"))
    assert world.call("POST", "/guests", json={"email": guest}).status_code == 201
    step = {"title": "Sign the order", "guests": [guest, stranger],
            "deadline": {"value": 2, "unit": "days"}}  # fmt: skip
    world.launch(world.template(steps=[step]))
    drain(mail_worker)
    (assigned,) = inbox.to(guest)
    assert assigned["Subject"] == "New task: Sign the order"
    text = text_of(assigned)
    assert f"http://pf.test/organizations/{world.org_id}/guest-tasks" in text
    assert "email-preferences" not in text  # a guest has no settings
    assert inbox.to(stranger) == []  # no guest of the organization has that address
    CLOCK.advance(timedelta(days=3))
    drain(mail_worker)
    drain(mail_worker)
    assert inbox.subjects(guest) == ["New task: Sign the order", "Overdue: Sign the order"]


def remind_everything_due(world: World) -> None:
    """Other tests' tasks share this database: whatever they left due is reminded first."""
    while reminders.step(world.factory, "other", CLOCK.now(), timedelta(0)):
        pass


def overdue_reminders(world: World) -> list[str]:
    with UnitOfWork(world.factory, write=False) as uow:
        return list(
            uow.connection.execute(
                select(TaskReminder.task_id).where(
                    TaskReminder.kind == "overdue", TaskReminder.org_id == world.org_id
                )
            ).scalars()
        )


def test_a_backlog_of_reminders_is_swept_once_in_batches(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each turn goes on where the last one stopped, and the sweep starts over at its end."""
    CLOCK.advance(timedelta(days=400))
    remind_everything_due(world)
    monkeypatch.setattr(reminders, "BATCH", 2)
    for _ in range(5):
        two_day_task_for(world, world.standard)
    CLOCK.advance(timedelta(days=3))
    now, interval, sweep = CLOCK.now(), timedelta(minutes=1), reminders.Sweep()
    raised, cursors = [], []
    for _ in range(3):
        raised.append(reminders.step(world.factory, "w1", now, interval, sweep))
        cursors.append(sorted(sweep.cursors))
    assert raised == [2, 2, 1]
    assert cursors == [["overdue"], ["overdue"], []]
    assert reminders.step(world.factory, "w1", now, interval, sweep) == 0  # not its turn yet
    found = overdue_reminders(world)
    assert len(found) == len(set(found)) == 5


def test_a_sweep_that_lost_its_turn_starts_over(world: World) -> None:
    two_day_task_for(world, world.standard)
    CLOCK.advance(timedelta(days=3))
    now, interval = CLOCK.now(), timedelta(minutes=1)
    sweep = reminders.Sweep({"overdue": (now, "f" * 32)})  # past every task
    with UnitOfWork(world.factory, write=True) as uow:
        assert mail_outbox.claim_slot(uow.connection, "reminders", "w1", now, now + interval)
    assert reminders.step(world.factory, "w2", now, interval, sweep) == 0
    assert sweep.cursors == {}
    assert reminders.step(world.factory, "w2", now + interval, interval, sweep) >= 1
    assert len(overdue_reminders(world)) == 1
