"""The mail worker: outbox events into e-mails, and e-mails onto SMTP.

One `step` does everything once, at the time its clock says: raise the deadline reminders
that fell due (when this worker wins the schedule's turn, `services.reminders`), turn new
events into messages (one per recipient, unique per event and address), claim the messages
that are due (a lease, so no other worker sends them), send them on one SMTP connection,
and record what became of each (sent; retried later with backoff; failed). Tests call
`step` after moving `CLOCK`; `run` loops it for `procflow serve` and `procflow worker`.
No transaction is open while a message is on the wire.

A worker that dies after the SMTP server took a message and before recording it leaves its
lease to run out, and the message goes again: SMTP has no way to de-duplicate. Its
`Message-ID` is the same on every try, which mail clients use to fold repeats.
"""

import logging
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from procflow.domain import mail
from procflow.domain.timeutil import utcnow
from procflow.domain.webhooks import RetryPolicy
from procflow.services import mail_content, reminders, retention
from procflow.services.smtp_sender import MailResult, MailSender, Outgoing
from procflow.services.unit_of_work import UnitOfWork
from procflow.storage.database import SessionFactory
from procflow.storage.models import EmailMessage, Event
from procflow.storage.repositories import mail_outbox

log = logging.getLogger("procflow.email")


@dataclass(frozen=True)
class MailerConfig:
    worker_id: str
    base_url: str = "http://127.0.0.1:8000"
    policy: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(max_attempts=8, base_seconds=60, max_seconds=6 * 3600)
    )
    batch: int = 50
    lease: timedelta = timedelta(minutes=5)
    reminder_interval: timedelta = timedelta(seconds=60)


@dataclass
class Mailer:
    factory: SessionFactory
    config: MailerConfig
    sender: MailSender
    clock: Callable[[], datetime] = utcnow
    draw: Callable[[], float] = random.random
    pruning: retention.Schedule | None = None
    sweep: reminders.Sweep = field(default_factory=reminders.Sweep)

    def step(self) -> int:
        """Remind, fan out, claim, send, record, once, and prune when it is this worker's
        turn; how much work it found (0: idle)."""
        now = self.clock()
        worker_id = self.config.worker_id
        raised = reminders.step(
            self.factory, worker_id, now, self.config.reminder_interval, self.sweep
        )
        raised += self.pruning.step(self.factory, worker_id, now) if self.pruning else 0
        fanned = self.fan_out(now)
        jobs = self.claim(now)
        if jobs:
            self.record(jobs, self.sender.send(jobs), self.clock())
        return raised + fanned + len(jobs)

    def fan_out(self, now: datetime) -> int:
        with UnitOfWork(self.factory, write=True) as uow:
            ids = mail_outbox.claim_events(uow.connection, now, self.config.batch)
            rows: list[dict[str, Any]] = []
            for event in uow.session.scalars(select(Event).where(Event.id.in_(ids))):
                rows += mail_content.messages(uow.session, event, self.config.base_url, now)
            uow.session.flush()
            mail_outbox.add_messages(uow.connection, rows)
        return len(ids)

    def claim(self, now: datetime) -> list[Outgoing]:
        with UnitOfWork(self.factory, write=True) as uow:
            ids = mail_outbox.claim_messages(
                uow.connection,
                self.config.worker_id,
                now,
                now + self.config.lease,
                self.config.batch,
            )
            if not ids:
                return []
            rows = uow.session.scalars(
                select(EmailMessage).where(EmailMessage.id.in_(ids)).order_by(EmailMessage.id)
            )
            jobs = []
            for row in list(rows):
                secret = row.kind == mail.MailKind.GUEST_INVITATION
                body = row.body or ""
                if secret:
                    text = mail_content.invitation_text(uow, row, self.config.base_url)
                    if text is None:
                        failed = {"state": "failed", "last_error": "the guest is gone or disabled"}
                        mail_outbox.release(uow.connection, self.config.worker_id, row.id, failed)
                        continue
                    body = text
                jobs.append(
                    Outgoing(row.id, row.event_id, row.to_address, row.subject, body, secret)
                )
            return jobs

    def record(
        self, jobs: Sequence[Outgoing], results: Sequence[MailResult], now: datetime
    ) -> None:
        policy = self.config.policy
        with UnitOfWork(self.factory, write=True) as uow:
            for job, result in zip(jobs, results, strict=True):
                row = uow.session.get(EmailMessage, job.message_id)
                number = (row.attempts if row else 0) + 1
                values: dict[str, Any] = {"attempts": number, "last_error": result.error}
                if result.sent:
                    values |= {"state": "sent", "sent_at": now}
                elif result.permanent or policy.gives_up(number):
                    values |= {"state": "failed"}
                    log.warning("e-mail %s to %s failed: %s", job.message_id, job.to, result.error)
                else:
                    wait = policy.delay(number, self.draw)
                    values |= {"next_attempt_at": now + timedelta(seconds=wait)}
                mail_outbox.release(uow.connection, self.config.worker_id, job.message_id, values)


def run(mailer: Mailer, stop: threading.Event, poll_seconds: float) -> None:
    """Step until `stop` is set, pausing whenever a step found nothing to do or failed
    (what it did not finish is still in the database, and the next step takes it up)."""
    while not stop.is_set():
        try:
            busy = mailer.step()
        except Exception:
            log.exception("e-mail step failed; retrying")
            busy = 0
        if not busy:
            stop.wait(poll_seconds)


def start_thread(mailer: Mailer, poll_seconds: float) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run, args=(mailer, stop, poll_seconds), name="procflow-email", daemon=True
    )
    thread.start()
    return thread, stop
